package gateway

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/wssgate/wssgate/gateway/certs/certstest"
	"github.com/wssgate/wssgate/gateway/config"
)

// harness runs a real gateway on 127.0.0.1:0 with certificates made for
// the test, and dials it with real TLS.
type harness struct {
	t      *testing.T
	g      *Gateway
	ca     *certstest.CA
	cfg    *config.Config
	dir    string
	app    string // host:port
	device string
	logs   *logBuffer // everything the gateway logged
	logw   io.Writer  // if set by mutate: the gateway's log goes here too
}

// logBuffer keeps the gateway's log lines for tests that inspect them.
type logBuffer struct {
	mu sync.Mutex // guards b
	b  strings.Builder
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newHarness starts a gateway; mutate may change the configuration
// (after defaults, before validation).
func newHarness(t *testing.T, mutate func(c *config.Config, h *harness)) *harness {
	t.Helper()
	h := &harness{t: t, ca: certstest.NewCA(t, "wssgate test CA"), dir: t.TempDir()}
	leaf := h.ca.Issue(t, certstest.LeafOptions{CN: "localhost", DNS: []string{"localhost"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	certFile, keyFile := leaf.Write(t, h.dir, "server")
	c := &config.Config{Dev: true, StateDir: h.dir, Node: "test"}
	c.TLS.Certificates = []config.CertPair{{Cert: certFile, Key: keyFile}}
	c.App.Address = "127.0.0.1:0"
	c.Device.Address = "127.0.0.1:0"
	c.App.Limits.PingInterval = 30 * time.Second
	c.ApplyDefaults()
	if mutate != nil {
		mutate(c, h)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	h.cfg = c
	h.logs = &logBuffer{}
	var w io.Writer = testWriter{t, h.logs}
	if h.logw != nil {
		w = io.MultiWriter(w, h.logw)
	}
	log := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
	g, err := New(c, log)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := g.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	h.g = g
	h.app, h.device = g.AppAddr().String(), g.DeviceAddr().String()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := g.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return h
}

// testWriter sends logs to t.Log, only shown for failing tests with -v,
// and to logs.
type testWriter struct {
	t    *testing.T
	logs *logBuffer
}

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	w.logs.mu.Lock()
	w.logs.b.Write(p)
	w.logs.mu.Unlock()
	return len(p), nil
}

func (h *harness) tlsConfig(cert *tls.Certificate) *tls.Config {
	c := &tls.Config{RootCAs: h.ca.Pool, ServerName: "localhost"}
	if cert != nil {
		// Always present it, even when the server asks for other CAs.
		c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
	}
	return c
}

// dial opens a WebSocket; it fails the test on error.
func (h *harness) dial(url string, hdr http.Header, cert *tls.Certificate) net.Conn {
	h.t.Helper()
	conn, err := h.tryDial(url, hdr, cert)
	if err != nil {
		h.t.Fatalf("dial %s: %v", url, err)
	}
	h.t.Cleanup(func() { conn.Close() })
	return conn
}

func (h *harness) tryDial(url string, hdr http.Header, cert *tls.Certificate) (net.Conn, error) {
	d := ws.Dialer{TLSConfig: h.tlsConfig(cert), Timeout: 5 * time.Second}
	if hdr != nil {
		d.Header = ws.HandshakeHeaderHTTP(hdr)
	}
	conn, br, _, err := d.Dial(context.Background(), url)
	if err != nil {
		return nil, err
	}
	if br != nil {
		ws.PutReader(br)
	}
	return conn, nil
}

func (h *harness) dialApp() net.Conn { return h.dial("wss://"+h.app+"/ws", nil, nil) }

func (h *harness) dialDevice(id string) net.Conn {
	return h.dial("wss://"+h.device+"/device?device_id="+id, nil, nil)
}

// appMsg is any app frame from the server.
type appMsg struct {
	Type       string          `json:"type"`
	ID         json.RawMessage `json:"id"`
	Code       string          `json:"code"`
	Message    string          `json:"message"`
	Reached    *int            `json:"reached"`
	Channel    string          `json:"channel"`
	Data       json.RawMessage `json:"data"`
	DataBase64 string          `json:"data_base64"`
}

func send(t *testing.T, c net.Conn, v string) {
	t.Helper()
	_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if err := wsutil.WriteClientText(c, []byte(v)); err != nil {
		t.Fatalf("send %s: %v", v, err)
	}
}

// read reads one data frame within 5 s.
func read(t *testing.T, c net.Conn) ([]byte, ws.OpCode) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	p, op, err := wsutil.ReadServerData(c)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return p, op
}

func readApp(t *testing.T, c net.Conn) appMsg {
	t.Helper()
	p, _ := read(t, c)
	var m appMsg
	if err := json.Unmarshal(p, &m); err != nil {
		t.Fatalf("app frame %q: %v", p, err)
	}
	return m
}

// request sends a request and returns its reply (ack or error).
func request(t *testing.T, c net.Conn, req string) appMsg {
	t.Helper()
	send(t, c, req)
	m := readApp(t, c)
	if m.Type != "ack" && m.Type != "error" {
		t.Fatalf("reply to %s: got type %q, want ack or error", req, m.Type)
	}
	return m
}

func subscribe(t *testing.T, c net.Conn, pattern string) {
	t.Helper()
	if m := request(t, c, `{"type":"subscribe","id":1,"channel":"`+pattern+`"}`); m.Type != "ack" {
		t.Fatalf("subscribe %s: got %+v, want ack", pattern, m)
	}
}

// readClose reads until the server's close frame and returns its code.
func readClose(t *testing.T, c net.Conn) (ws.StatusCode, string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for range 100000 {
		hdr, err := ws.ReadHeader(c)
		if err != nil {
			t.Fatalf("read until close: %v", err)
		}
		p := make([]byte, hdr.Length)
		if _, err := io.ReadFull(c, p); err != nil {
			t.Fatalf("read payload: %v", err)
		}
		if hdr.OpCode == ws.OpClose {
			code, reason := ws.ParseCloseFrameData(p)
			return code, reason
		}
	}
	t.Fatal("no close frame")
	return 0, ""
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
