package socketio

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/wssgate/wssgate/gateway/certs/certstest"
)

// echoHandler acks "echo" with its arguments (binary ones as binary),
// answers "emit" by emitting "message" with the arguments back, and
// records connects and closes.
type echoHandler struct {
	mu       sync.Mutex
	sockets  []*Socket
	closes   []string
	closedCh chan string
}

func newEchoHandler() *echoHandler { return &echoHandler{closedCh: make(chan string, 16)} }

func (h *echoHandler) OnConnect(s *Socket) {
	h.mu.Lock()
	h.sockets = append(h.sockets, s)
	h.mu.Unlock()
}

func (h *echoHandler) OnEvent(s *Socket, name string, args []json.RawMessage, atts [][]byte, ack func(...any)) {
	out := make([]any, len(args))
	for i, a := range args {
		if n, ok := Placeholder(a); ok && n < len(atts) {
			out[i] = atts[n]
		} else {
			out[i] = a
		}
	}
	switch name {
	case "echo":
		if ack != nil {
			ack(out...)
		}
	case "deliver":
		s.SendPrepared(Prepare(EncodeMessageEvent("devices/1/up", []byte(`{"t":21.5}`), false)))
		s.SendPrepared(Prepare(EncodeMessageEvent("devices/1/up", []byte{0, 1, 255}, true)))
	case "emit":
		s.Emit("message", out...)
		if ack != nil {
			ack()
		}
	}
}

func (h *echoHandler) OnClose(s *Socket, reason string) {
	h.mu.Lock()
	h.closes = append(h.closes, reason)
	h.mu.Unlock()
	h.closedCh <- reason
}

func (h *echoHandler) socket(t *testing.T, i int) *Socket {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.sockets) <= i {
		t.Fatalf("got %d connected sockets, want more than %d", len(h.sockets), i)
	}
	return h.sockets[i]
}

func (h *echoHandler) waitClose(t *testing.T) string {
	t.Helper()
	select {
	case r := <-h.closedCh:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("OnClose not called within 5 s")
		return ""
	}
}

// failureLog records OnFailure calls.
type failureLog struct {
	mu      sync.Mutex
	reasons []string
}

func (f *failureLog) add(_ *http.Request, reason, _ string) {
	f.mu.Lock()
	f.reasons = append(f.reasons, reason)
	f.mu.Unlock()
}

func (f *failureLog) has(reason string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.reasons {
		if r == reason {
			return true
		}
	}
	return false
}

// testServer is a Server behind real TLS on 127.0.0.1.
type testServer struct {
	srv      *Server
	h        *echoHandler
	fails    *failureLog
	hs       *httptest.Server
	client   *http.Client
	tlsConf  *tls.Config
	base     string // https://127.0.0.1:P/socket.io/
	hostPort string
	pem      []byte // the CA certificate
}

// startServer runs a Server with cfg (OnFailure is set by the helper).
func startServer(t *testing.T, cfg Config) *testServer {
	t.Helper()
	ca := certstest.NewCA(t, "socketio test CA")
	leaf := ca.Issue(t, certstest.LeafOptions{CN: "localhost", DNS: []string{"localhost"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	ts := &testServer{h: newEchoHandler(), fails: &failureLog{}}
	cfg.OnFailure = ts.fails.add
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	srv, err := NewServer(cfg, ts.h)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	ts.srv = srv
	mux := http.NewServeMux()
	mux.Handle(srv.cfg.Path, srv)
	ts.hs = httptest.NewUnstartedServer(mux)
	ts.hs.TLS = &tls.Config{Certificates: []tls.Certificate{leaf.TLS}, MinVersion: tls.VersionTLS12}
	ts.hs.StartTLS()
	ts.tlsConf = &tls.Config{RootCAs: ca.Pool, ServerName: "localhost", MinVersion: tls.VersionTLS12}
	ts.client = &http.Client{Transport: &http.Transport{TLSClientConfig: ts.tlsConf}, Timeout: 10 * time.Second}
	ts.hostPort = strings.TrimPrefix(ts.hs.URL, "https://")
	ts.base = ts.hs.URL + srv.cfg.Path
	ts.pem = ca.CertPEM
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		ts.hs.Close()
	})
	return ts
}

// do sends one request and returns the status and body.
func (ts *testServer) do(t *testing.T, method, query, body string, hdr ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, ts.base+"?"+query, strings.NewReader(body))
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := ts.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, query, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp.StatusCode, string(b)
}

// openInfo is the open packet's payload.
type openInfo struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int      `json:"pingInterval"`
	PingTimeout  int      `json:"pingTimeout"`
	MaxPayload   int      `json:"maxPayload"`
}

func parseOpen(t *testing.T, body string) openInfo {
	t.Helper()
	if !strings.HasPrefix(body, "0") {
		t.Fatalf("got %q, want an open packet", body)
	}
	var o openInfo
	if err := json.Unmarshal([]byte(body[1:]), &o); err != nil {
		t.Fatalf("open packet %q: %v", body, err)
	}
	return o
}

// pollHandshake opens a polling session and returns its sid.
func (ts *testServer) pollHandshake(t *testing.T) string {
	t.Helper()
	code, body := ts.do(t, "GET", "EIO=4&transport=polling", "")
	if code != 200 {
		t.Fatalf("handshake: got %d %q, want 200", code, body)
	}
	return parseOpen(t, body).SID
}

func (ts *testServer) get(t *testing.T, sid string) string {
	t.Helper()
	code, body := ts.do(t, "GET", "EIO=4&transport=polling&sid="+sid, "")
	if code != 200 {
		t.Fatalf("GET poll: got %d %q, want 200", code, body)
	}
	return body
}

func (ts *testServer) post(t *testing.T, sid, payload string) {
	t.Helper()
	code, body := ts.do(t, "POST", "EIO=4&transport=polling&sid="+sid, payload)
	if code != 200 || body != "ok" {
		t.Fatalf("POST %q: got %d %q, want 200 ok", payload, code, body)
	}
}

// pollConnect opens a polling session and connects to "/".
func (ts *testServer) pollConnect(t *testing.T) string {
	t.Helper()
	sid := ts.pollHandshake(t)
	ts.post(t, sid, "40")
	if got := ts.get(t, sid); !strings.HasPrefix(got, `40{"sid":"`) {
		t.Fatalf("connect reply: got %q, want 40{\"sid\":...}", got)
	}
	return sid
}

// wsClient is a raw WebSocket client.
type wsClient struct {
	conn net.Conn
	rd   *bufio.Reader
}

// dialWS opens a WebSocket to the server with query.
func (ts *testServer) dialWS(t *testing.T, query string) *wsClient {
	t.Helper()
	d := ws.Dialer{TLSConfig: ts.tlsConf, Timeout: 5 * time.Second}
	conn, br, _, err := d.Dial(context.Background(), "wss://"+ts.hostPort+ts.srv.cfg.Path+"?"+query)
	if err != nil {
		t.Fatalf("dial websocket: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	if br == nil {
		br = bufio.NewReader(conn)
	}
	return &wsClient{conn: conn, rd: br}
}

func (c *wsClient) sendText(t *testing.T, s string) {
	t.Helper()
	if err := wsutil.WriteClientText(c.conn, []byte(s)); err != nil {
		t.Fatalf("write text: %v", err)
	}
}

func (c *wsClient) sendBinary(t *testing.T, b []byte) {
	t.Helper()
	if err := wsutil.WriteClientBinary(c.conn, b); err != nil {
		t.Fatalf("write binary: %v", err)
	}
}

// read returns the next data message; a close frame gives op OpClose.
func (c *wsClient) read(t *testing.T) (ws.OpCode, []byte) {
	t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		hdr, err := ws.ReadHeader(c.rd)
		if err != nil {
			t.Fatalf("read header: %v", err)
		}
		p := make([]byte, hdr.Length)
		if _, err := io.ReadFull(c.rd, p); err != nil {
			t.Fatalf("read payload: %v", err)
		}
		if hdr.OpCode == ws.OpPing || hdr.OpCode == ws.OpPong {
			continue
		}
		return hdr.OpCode, p
	}
}

// readText reads a text message, skipping Engine.IO pings (answered).
func (c *wsClient) readText(t *testing.T) string {
	t.Helper()
	for range 10 {
		op, p := c.read(t)
		if op != ws.OpText {
			t.Fatalf("got opcode %v %q, want text", op, p)
		}
		if string(p) == "2" {
			c.sendText(t, "3")
			continue
		}
		return string(p)
	}
	t.Fatal("only pings in 10 messages")
	return ""
}

type httpRequest = http.Request

func newReq(ts *testServer, method, query string) (*http.Request, error) {
	return http.NewRequest(method, ts.base+"?"+query, nil)
}

// authToken accepts {"token":NAME} with any NAME but "bad".
func authToken(auth []byte) (string, error) {
	var a struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(auth, &a); err != nil || a.Token == "" || a.Token == "bad" {
		return "", errInvalidToken
	}
	return a.Token, nil
}

var errInvalidToken = errors.New("invalid token")

type jsonRaw = json.RawMessage

// getPing polls past noops (a hold of one ping interval may end just
// before the ping is queued).
func (ts *testServer) getPing(t *testing.T, sid string) string {
	t.Helper()
	for range 3 {
		if got := ts.get(t, sid); got != "6" {
			return got
		}
	}
	return "6"
}
