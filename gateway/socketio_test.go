package gateway

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/wssgate/wssgate/gateway/config"
	"github.com/wssgate/wssgate/gateway/listener"
	"github.com/wssgate/wssgate/internal/sioclient"
)

// sioDial connects a Socket.IO WebSocket client.
func (h *harness) sioDial() *sioclient.Client {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := sioclient.Dial(ctx, "https://"+h.app, "/socket.io/", h.tlsConfig(nil), nil)
	if err != nil {
		h.t.Fatalf("socket.io dial: %v", err)
	}
	h.t.Cleanup(func() { c.Close() })
	return c
}

// sioNext reads the next Socket.IO packet within 5 s.
func sioNext(t *testing.T, c *sioclient.Client) sioclient.Packet {
	t.Helper()
	_ = c.Conn().SetReadDeadline(time.Now().Add(5 * time.Second))
	p, err := c.Next()
	if err != nil {
		t.Fatalf("socket.io read: %v", err)
	}
	return p
}

// sioCall emits with an ack and returns the ack's packet text.
func sioCall(t *testing.T, c *sioclient.Client, name string, args ...any) string {
	t.Helper()
	id, err := c.Emit(true, name, args...)
	if err != nil {
		t.Fatalf("emit %s: %v", name, err)
	}
	p := sioNext(t, c)
	want := "3" + itoa(id) + "["
	if !strings.HasPrefix(string(p.Text), want) {
		t.Fatalf("emit %s: got %q, want an ack %s...", name, p.Text, want)
	}
	return string(p.Text[len(want)-1:])
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestSocketIOWebSocket(t *testing.T) {
	h := newHarness(t, nil)
	dev := h.dialDevice("d1")
	waitFor(t, "device", func() bool { _, ok := h.g.Registry().Device("d1"); return ok })
	c := h.sioDial()
	tests := []struct {
		name string
		args []any
		want string
	}{
		{"subscribe", []any{"devices/+/up"}, `[{}]`},
		{"subscribe", []any{"secret/#"}, `[{"error":{"code":"forbidden","message":"subscribe to secret/# not allowed"}}]`},
		{"unsubscribe", []any{"devices/x/up"}, `[{"error":{"code":"not_found","message":"not subscribed to devices/x/up"}}]`},
		{"publish", []any{"devices/d1/up", "x"}, `[{"error":{"code":"forbidden","message":"publish to devices/d1/up not allowed"}}]`},
		{"publish", []any{"devices/d1/down"}, `[{"error":{"code":"bad_request","message":"publish: want the data as argument 2"}}]`},
		{"nope", nil, `[{"error":{"code":"bad_request","message":"unknown event \"nope\": emit subscribe, unsubscribe or publish"}}]`},
	}
	for _, tt := range tests {
		if got := sioCall(t, c, tt.name, tt.args...); got != tt.want {
			t.Errorf("%s %v: got %s, want %s", tt.name, tt.args, got, tt.want)
		}
	}
	if got := sioCall(t, c, "publish", "devices/d1/down", map[string]string{"led": "on"}); got != `[{"reached":1}]` {
		t.Fatalf("publish: got %s, want reached 1", got)
	}
	if p, op := read(t, dev); op != ws.OpText || string(p) != `{"led":"on"}` {
		t.Fatalf("device got %q (%v), want the JSON text", p, op)
	}
	send(t, dev, `{"t":21.5}`)
	if p := sioNext(t, c); string(p.Text) != `2["message",{"channel":"devices/d1/up","data":{"t":21.5}}]` {
		t.Fatalf("text delivery: got %q", p.Text)
	}
	_ = dev.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if err := wsutil.WriteClientBinary(dev, []byte{0, 1, 255}); err != nil {
		t.Fatal(err)
	}
	p := sioNext(t, c)
	if string(p.Text) != `51-["message",{"channel":"devices/d1/up","data":{"_placeholder":true,"num":0}}]` ||
		len(p.Binary) != 1 || !bytes.Equal(p.Binary[0], []byte{0, 1, 255}) {
		t.Fatalf("binary delivery: got %q %v", p.Text, p.Binary)
	}
	views := h.g.Sessions()
	var found bool
	for _, v := range views {
		if v.Info.Transport == "socketio-websocket" {
			found = true
			if len(v.Subscriptions) != 1 || v.Subscriptions[0] != "devices/+/up" || v.Live.MsgsOut < 2 {
				t.Errorf("socket.io session: subs %v, msgs out %d", v.Subscriptions, v.Live.MsgsOut)
			}
		}
	}
	if !found {
		t.Fatalf("no socketio-websocket session in %d sessions", len(views))
	}
	// Shutdown closes the transport with 1001, never a Socket.IO DISCONNECT.
	go h.g.Shutdown(context.Background())
	_ = c.Conn().SetReadDeadline(time.Now().Add(5 * time.Second))
	for range 10 {
		p, err := c.Next()
		var ce wsutil.ClosedError
		if errors.As(err, &ce) {
			if ce.Code != ws.StatusGoingAway {
				t.Fatalf("shutdown: close %d %q, want 1001", ce.Code, ce.Reason)
			}
			return
		}
		if err != nil {
			t.Fatalf("shutdown: %v, want a close frame", err)
		}
		if len(p.Text) > 0 && p.Text[0] == '1' {
			t.Fatalf("shutdown sent a Socket.IO DISCONNECT %q", p.Text)
		}
	}
	t.Fatal("no close frame on shutdown")
}

// poller speaks Engine.IO polling over one HTTPS client.
type poller struct {
	t   *testing.T
	c   *http.Client
	url string // .../socket.io/?EIO=4&transport=polling
	sid string
}

func (p *poller) do(method, body string) (int, string) {
	p.t.Helper()
	u := p.url
	if p.sid != "" {
		u += "&sid=" + p.sid
	}
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	resp, err := p.c.Do(req)
	if err != nil {
		p.t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// get long-polls until a payload other than a ping comes (pings answered).
func (p *poller) get() string {
	p.t.Helper()
	for range 5 {
		code, body := p.do(http.MethodGet, "")
		if code != 200 {
			p.t.Fatalf("GET: %d %s", code, body)
		}
		if body != "2" {
			return body
		}
		p.do(http.MethodPost, "3")
	}
	p.t.Fatal("only pings")
	return ""
}

func newPoller(t *testing.T, h *harness) *poller {
	tr := &http.Transport{TLSClientConfig: h.tlsConfig(nil)}
	t.Cleanup(tr.CloseIdleConnections)
	p := &poller{t: t, c: &http.Client{Transport: tr, Timeout: 10 * time.Second}, url: "https://" + h.app + "/socket.io/?EIO=4&transport=polling"}
	open := p.get()
	var o struct{ SID string }
	if err := json.Unmarshal([]byte(open[1:]), &o); err != nil || open[0] != '0' {
		t.Fatalf("open packet %q: %v", open, err)
	}
	p.sid = o.SID
	if code, body := p.do(http.MethodPost, "40"); code != 200 || body != "ok" {
		t.Fatalf("CONNECT: %d %s", code, body)
	}
	if got := p.get(); !strings.HasPrefix(got, `40{"sid":`) {
		t.Fatalf("CONNECT reply %q", got)
	}
	return p
}

func TestSocketIOPolling(t *testing.T) {
	h := newHarness(t, nil)
	dev := h.dialDevice("d2")
	waitFor(t, "device", func() bool { _, ok := h.g.Registry().Device("d2"); return ok })
	p := newPoller(t, h)
	if code, body := p.do(http.MethodPost, `421["subscribe","devices/d2/up"]`); code != 200 {
		t.Fatalf("POST subscribe: %d %s", code, body)
	}
	if got := p.get(); got != `431[{}]` {
		t.Fatalf("subscribe ack: got %q", got)
	}
	send(t, dev, "plain text")
	if got := p.get(); got != `42["message",{"channel":"devices/d2/up","data":"plain text"}]` {
		t.Fatalf("delivery: got %q", got)
	}
	// Binary publish: a BINARY_EVENT and its attachment as base64.
	p.do(http.MethodPost, "451-2[\"publish\",\"devices/d2/down\",{\"_placeholder\":true,\"num\":0}]\x1ebAAEC")
	if got := p.get(); got != `432[{"reached":1}]` {
		t.Fatalf("publish ack: got %q", got)
	}
	if b, op := read(t, dev); op != ws.OpBinary || !bytes.Equal(b, []byte{0, 1, 2}) {
		t.Fatalf("device got %v %v, want binary 00 01 02", b, op)
	}
	var transports []string
	for _, v := range h.g.Sessions() {
		transports = append(transports, v.Info.Transport)
	}
	if !strings.Contains(strings.Join(transports, ","), "socketio-polling") {
		t.Fatalf("transports %v, want a socketio-polling session", transports)
	}
}

func TestSocketIOFailures(t *testing.T) {
	h := newHarness(t, nil)
	tr := &http.Transport{TLSClientConfig: h.tlsConfig(nil)}
	t.Cleanup(tr.CloseIdleConnections)
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	for _, tt := range []struct {
		query  string
		reason listener.Reason
	}{
		{"EIO=3&transport=polling", listener.UnsupportedEIO},
		{"EIO=4&transport=polling&sid=nope", listener.UnknownSID},
		{"EIO=4&transport=carrier-pigeon", listener.BadRequest},
	} {
		before := h.g.app.Counters.Failures(tt.reason)
		resp, err := c.Get("https://" + h.app + "/socket.io/?" + tt.query)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 || h.g.app.Counters.Failures(tt.reason) != before+1 {
			t.Errorf("%s: status %d, %s failures %d, want 400 and one more", tt.query, resp.StatusCode, tt.reason, h.g.app.Counters.Failures(tt.reason))
		}
	}
	if f := h.g.Failures(); len(f) == 0 || f[0].Stage != "socketio" {
		t.Fatalf("failures: %+v, want socketio entries", f)
	}
}

func TestSocketIODisabled(t *testing.T) {
	off := false
	h := newHarness(t, func(c *config.Config, _ *harness) { c.App.SocketIO.Enabled = &off })
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: h.ca.Pool, ServerName: "localhost"}}
	t.Cleanup(tr.CloseIdleConnections)
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get("https://" + h.app + "/socket.io/?EIO=4&transport=polling")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 404 || !strings.Contains(string(b), "Socket.IO is disabled") || !strings.Contains(string(b), "app.socketio.enabled") {
		t.Fatalf("got %d %q, want 404 saying Socket.IO is disabled and how to enable it", resp.StatusCode, b)
	}
	if n := h.g.app.Counters.Failures(listener.SocketIODisabled); n != 1 {
		t.Fatalf("socketio_disabled failures: %d, want 1", n)
	}
}
