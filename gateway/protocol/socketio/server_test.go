package socketio

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

func TestHandshake(t *testing.T) {
	ts := startServer(t, Config{PingInterval: 2 * time.Second, PingTimeout: time.Second, MaxPayload: 4096})
	code, body := ts.do(t, "GET", "EIO=4&transport=polling", "")
	if code != 200 {
		t.Fatalf("got %d %q, want 200", code, body)
	}
	o := parseOpen(t, body)
	if len(o.SID) != 20 || o.PingInterval != 2000 || o.PingTimeout != 1000 || o.MaxPayload != 4096 ||
		len(o.Upgrades) != 1 || o.Upgrades[0] != "websocket" {
		t.Fatalf("got open %+v, want 20-char sid, 2000/1000 ms, maxPayload 4096, upgrades [websocket]", o)
	}
	if got := ts.srv.Stats().Sessions; got != 1 {
		t.Fatalf("got %d sessions, want 1", got)
	}
}

func TestRefusedRequests(t *testing.T) {
	ts := startServer(t, Config{})
	sid := ts.pollHandshake(t)
	tests := []struct {
		name, method, query string
		hdr                 []string
		status              int
		body, reason        string
	}{
		{"bad EIO", "GET", "EIO=3&transport=polling", nil, 400, `{"code":5,"message":"Unsupported protocol version"}`, ReasonUnsupportedEIO},
		{"no EIO", "GET", "transport=polling", nil, 400, `{"code":5,"message":"Unsupported protocol version"}`, ReasonUnsupportedEIO},
		{"unknown transport", "GET", "EIO=4&transport=flash", nil, 400, `{"code":0,"message":"Transport unknown"}`, ReasonBadRequest},
		{"unknown sid", "GET", "EIO=4&transport=polling&sid=nope", nil, 400, `{"code":1,"message":"Session ID unknown"}`, ReasonUnknownSID},
		{"POST handshake", "POST", "EIO=4&transport=polling", nil, 400, `{"code":2,"message":"Bad handshake method"}`, ReasonBadHandshake},
		{"bad origin", "GET", "EIO=4&transport=polling", []string{"Origin", "https://evil.example"}, 403, `{"code":4,"message":"Forbidden"}`, ReasonBadOrigin},
		{"PUT on session", "PUT", "EIO=4&transport=polling&sid=" + sid, nil, 400, `{"code":3,"message":"Bad request"}`, ReasonBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := ts.do(t, tc.method, tc.query, "", tc.hdr...)
			if code != tc.status || body != tc.body {
				t.Fatalf("got %d %s, want %d %s", code, body, tc.status, tc.body)
			}
			if !ts.fails.has(tc.reason) {
				t.Fatalf("OnFailure reasons %v lack %q", ts.fails.reasons, tc.reason)
			}
		})
	}
}

func TestCORSOnlyForAllowedOrigins(t *testing.T) {
	ts := startServer(t, Config{})
	for _, tc := range []struct {
		name, origin, want string
	}{
		{"same host", "https://" + ts.hostPort, "https://" + ts.hostPort},
		{"no origin", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := newReq(ts, "GET", "EIO=4&transport=polling")
			if tc.origin != "" {
				req.Header.Set("Origin", tc.origin)
			}
			resp, err := ts.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := resp.Header.Get("Access-Control-Allow-Origin"); resp.StatusCode != 200 || got != tc.want {
				t.Fatalf("got %d, Access-Control-Allow-Origin %q, want 200, %q", resp.StatusCode, got, tc.want)
			}
		})
	}
}

func TestPollingEventAck(t *testing.T) {
	ts := startServer(t, Config{})
	sid := ts.pollConnect(t)
	ts.post(t, sid, `421["echo","hi",{"a":1}]`+"\x1e"+`422["echo"]`)
	if got, want := ts.get(t, sid), `431["hi",{"a":1}]`+"\x1e"+`432[]`; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	s := ts.h.socket(t, 0)
	if s.Transport() != "socketio-polling" || s.ID() != sid {
		t.Fatalf("got transport %q id %q, want socketio-polling %q", s.Transport(), s.ID(), sid)
	}
}

func TestPollingBinaryBothWays(t *testing.T) {
	ts := startServer(t, Config{})
	sid := ts.pollConnect(t)
	// A binary event with an ack: the attachment comes back in the ack.
	ts.post(t, sid, `451-7["echo","x",{"_placeholder":true,"num":0}]`+"\x1e"+"bAAEC/w==")
	want := `461-7["x",{"_placeholder":true,"num":0}]` + "\x1e" + "bAAEC/w=="
	if got := ts.get(t, sid); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	// The pre-encoded delivery path, binary and text.
	s := ts.h.socket(t, 0)
	for _, d := range []struct {
		data   string
		binary bool
		want   string
	}{
		{"\x00\x01", true, `451-["message",{"channel":"devices/1/up","data":{"_placeholder":true,"num":0}}]` + "\x1ebAAE="},
		{`{"t":21.5}`, false, `42["message",{"channel":"devices/1/up","data":{"t":21.5}}]`},
		{"plain", false, `42["message",{"channel":"devices/1/up","data":"plain"}]`},
	} {
		if !s.SendPrepared(Prepare(EncodeMessageEvent("devices/1/up", []byte(d.data), d.binary))) {
			t.Fatal("SendPrepared: false")
		}
		if got := ts.get(t, sid); got != d.want {
			t.Fatalf("got %q, want %q", got, d.want)
		}
	}
}

func TestNamespaceAndAuth(t *testing.T) {
	ts := startServer(t, Config{Authenticate: func(_ *httpRequest, auth jsonRaw) (string, any, error) {
		id, err := authToken(auth)
		return id, nil, err
	}})
	sid := ts.pollHandshake(t)
	ts.post(t, sid, "40/admin,")
	if got, want := ts.get(t, sid), `44/admin,{"message":"Invalid namespace"}`; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	ts.post(t, sid, `40{"token":"bad"}`)
	if got, want := ts.get(t, sid), `44{"message":"invalid token"}`; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if !ts.fails.has(ReasonUnauthenticated) {
		t.Fatalf("OnFailure reasons %v lack unauthenticated", ts.fails.reasons)
	}
	ts.post(t, sid, `421["echo",1]`) // not connected yet: ignored
	ts.post(t, sid, `40{"token":"alice"}`)
	if got := ts.get(t, sid); !strings.HasPrefix(got, `40{"sid":`) {
		t.Fatalf("got %q, want a CONNECT reply", got)
	}
	if got := ts.h.socket(t, 0).Identity(); got != "alice" {
		t.Fatalf("got identity %q, want alice", got)
	}
}

func TestPingTimeout(t *testing.T) {
	ts := startServer(t, Config{PingInterval: 100 * time.Millisecond, PingTimeout: 100 * time.Millisecond})
	sid := ts.pollConnect(t)
	// Two rounds answered keep the session.
	for range 2 {
		if got := ts.getPing(t, sid); got != "2" {
			t.Fatalf("got %q, want a ping", got)
		}
		ts.post(t, sid, "3")
	}
	if got := ts.getPing(t, sid); got != "2" {
		t.Fatalf("got %q, want a ping", got)
	}
	if got := ts.h.waitClose(t); got != "ping timeout" {
		t.Fatalf("got close reason %q, want ping timeout", got)
	}
	if code, body := ts.do(t, "GET", "EIO=4&transport=polling&sid="+sid, ""); code != 400 || !strings.Contains(body, `"code":1`) {
		t.Fatalf("after timeout: got %d %q, want 400 code 1", code, body)
	}
}

func TestOversizePost(t *testing.T) {
	ts := startServer(t, Config{MaxPayload: 100})
	sid := ts.pollConnect(t)
	code, _ := ts.do(t, "POST", "EIO=4&transport=polling&sid="+sid, `42["echo","`+strings.Repeat("x", 200)+`"]`)
	if code != 413 {
		t.Fatalf("got %d, want 413", code)
	}
	if !ts.fails.has(ReasonTooLarge) || ts.srv.Stats().Sessions != 0 {
		t.Fatalf("got reasons %v, %d sessions; want too_large and the session closed", ts.fails.reasons, ts.srv.Stats().Sessions)
	}
}

func TestPollingSlowConsumer(t *testing.T) {
	ts := startServer(t, Config{MaxPayload: 1000, MaxBufferBytes: 1000})
	ts.pollConnect(t)
	s := ts.h.socket(t, 0)
	sent := 0
	for range 100 {
		if !s.Emit("message", strings.Repeat("y", 100)) {
			break
		}
		sent++
	}
	if sent == 100 || sent == 0 {
		t.Fatalf("emitted %d of 100 with a 1000-byte buffer, want some then false", sent)
	}
	if got := ts.h.waitClose(t); got != "slow consumer" || ts.srv.Stats().SlowCloses != 1 {
		t.Fatalf("got reason %q, %d slow closes; want slow consumer, 1", got, ts.srv.Stats().SlowCloses)
	}
}

func TestUpgrade(t *testing.T) {
	ts := startServer(t, Config{})
	sid := ts.pollConnect(t)
	held := make(chan string, 1)
	go func() {
		_, body := ts.do(t, "GET", "EIO=4&transport=polling&sid="+sid, "")
		held <- body
	}()
	time.Sleep(50 * time.Millisecond) // let the GET be held
	c := ts.dialWS(t, "EIO=4&transport=websocket&sid="+sid)
	c.sendText(t, "2probe")
	if got := c.readText(t); got != "3probe" {
		t.Fatalf("got %q, want 3probe", got)
	}
	select {
	case got := <-held:
		if got != "6" {
			t.Fatalf("held poll: got %q, want noop 6", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("held poll not answered after the probe")
	}
	// Queued while upgrading: delivered on the WebSocket after "5".
	ts.h.socket(t, 0).Emit("message", "queued")
	c.sendText(t, "5")
	if got := c.readText(t); got != `42["message","queued"]` {
		t.Fatalf("got %q, want the queued event", got)
	}
	c.sendText(t, `421["echo",1]`)
	if got := c.readText(t); got != `431[1]` {
		t.Fatalf("got %q, want 431[1]", got)
	}
	assertWSBinaryEcho(t, c)
	if s := ts.h.socket(t, 0); s.Transport() != "socketio-websocket" {
		t.Fatalf("got transport %q, want socketio-websocket", s.Transport())
	}
	if code, body := ts.do(t, "GET", "EIO=4&transport=polling&sid="+sid, ""); code != 400 || !ts.fails.has(ReasonTransportMismatch) {
		t.Fatalf("poll after upgrade: got %d %q, reasons %v; want 400, transport_mismatch", code, body, ts.fails.reasons)
	}
}

// assertWSBinaryEcho sends a binary event with an ack over c and checks
// the binary ack.
func assertWSBinaryEcho(t *testing.T, c *wsClient) {
	t.Helper()
	c.sendText(t, `451-2["echo",{"_placeholder":true,"num":0}]`)
	c.sendBinary(t, []byte{9, 8, 7})
	if got := c.readText(t); got != `461-2[{"_placeholder":true,"num":0}]` {
		t.Fatalf("got %q, want a binary ack", got)
	}
	if op, p := c.read(t); op != ws.OpBinary || string(p) != "\x09\x08\x07" {
		t.Fatalf("got %v %x, want binary 090807", op, p)
	}
}

func TestWebSocketOnlyAndShutdown(t *testing.T) {
	ts := startServer(t, Config{})
	c := ts.dialWS(t, "EIO=4&transport=websocket")
	o := parseOpen(t, c.readText(t))
	if len(o.Upgrades) != 0 {
		t.Fatalf("got upgrades %v, want none", o.Upgrades)
	}
	c.sendText(t, "40")
	if got := c.readText(t); !strings.HasPrefix(got, `40{"sid":`) {
		t.Fatalf("got %q, want a CONNECT reply", got)
	}
	assertWSBinaryEcho(t, c)
	ts.h.socket(t, 0).SendPrepared(Prepare(EncodeMessageEvent("a/b", []byte("hi"), false)))
	if got := c.readText(t); got != `42["message",{"channel":"a/b","data":"hi"}]` {
		t.Fatalf("got %q", got)
	}
	pollSID := ts.pollConnect(t)
	held := make(chan string, 1)
	go func() {
		_, body := ts.do(t, "GET", "EIO=4&transport=polling&sid="+pollSID, "")
		held <- body
	}()
	time.Sleep(50 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ts.srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	// No Socket.IO DISCONNECT ("41"): the transport closes with 1001.
	op, p := c.read(t)
	if op != ws.OpClose || len(p) < 2 || int(p[0])<<8|int(p[1]) != 1001 {
		t.Fatalf("got %v %q, want close 1001", op, p)
	}
	if got := <-held; got != "1" {
		t.Fatalf("held poll: got %q, want close packet 1", got)
	}
	for range 2 {
		if r := ts.h.waitClose(t); r != "server shutting down" {
			t.Fatalf("got reason %q, want server shutting down", r)
		}
	}
}
