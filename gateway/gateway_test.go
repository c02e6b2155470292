package gateway

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/wssgate/wssgate/gateway/protocol"
	"github.com/wssgate/wssgate/gateway/session"
)

func TestWellKnownAndSharedCertificate(t *testing.T) {
	h := newHarness(t, nil)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: h.tlsConfig(nil)}}
	resp, err := client.Get("https://" + h.app + "/.well-known/wssgate")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	_, appPort, _ := net.SplitHostPort(h.app)
	_, devPort, _ := net.SplitHostPort(h.device)
	want := `{"app_url":"https://127.0.0.1:` + appPort + `/","app_ws_url":"wss://127.0.0.1:` + appPort + `/ws","device_ws_url":"wss://127.0.0.1:` + devPort + `/device"}`
	if got := strings.TrimSpace(string(body)); got != want {
		t.Errorf("well-known: got %s, want %s", got, want)
	}
	if bytes.Contains(body, []byte("ws://")) || bytes.Contains(body, []byte("http://")) {
		t.Errorf("well-known names an insecure URL: %s", body)
	}
	// The same certificate on both ports, verified against the CA.
	fp := func(addr string) [32]byte {
		c, err := tls.Dial("tcp", addr, h.tlsConfig(nil))
		if err != nil {
			t.Fatalf("tls dial %s: %v", addr, err)
		}
		defer c.Close()
		return sha256.Sum256(c.ConnectionState().PeerCertificates[0].Raw)
	}
	if a, d := fp(h.app), fp(h.device); a != d {
		t.Errorf("app and device serve different certificates: %x vs %x", a, d)
	}
}

func TestDeviceToAppAndBack(t *testing.T) {
	h := newHarness(t, nil)
	app := h.dialApp()
	subscribe(t, app, "devices/+/up")
	dev := h.dialDevice("d1")
	waitFor(t, "device registered", func() bool { _, ok := h.g.Registry().Device("d1"); return ok })

	if err := wsutil.WriteClientText(dev, []byte(`{"t":21.5}`)); err != nil {
		t.Fatal(err)
	}
	if err := wsutil.WriteClientBinary(dev, []byte{0, 1, 2, 255}); err != nil {
		t.Fatal(err)
	}
	m := readApp(t, app)
	if m.Type != "message" || m.Channel != "devices/d1/up" || string(m.Data) != `{"t":21.5}` {
		t.Errorf("text: got %+v, want message on devices/d1/up with data {\"t\":21.5}", m)
	}
	m = readApp(t, app)
	if got, _ := base64.StdEncoding.DecodeString(m.DataBase64); !bytes.Equal(got, []byte{0, 1, 2, 255}) {
		t.Errorf("binary: got %+v, want data_base64 of 00 01 02 ff", m)
	}

	ack := request(t, app, `{"type":"publish","id":7,"channel":"devices/d1/down","data":{"led":"on"}}`)
	if ack.Type != "ack" || string(ack.ID) != "7" || ack.Reached == nil || *ack.Reached != 1 {
		t.Errorf("publish ack: got %+v, want ack id 7 reached 1", ack)
	}
	p, op := read(t, dev)
	if op != ws.OpText || string(p) != `{"led":"on"}` {
		t.Errorf("device got %q (op %v), want text {\"led\":\"on\"}", p, op)
	}
	request(t, app, `{"type":"publish","id":8,"channel":"devices/d1/down","data_base64":"AAEC"}`)
	p, op = read(t, dev)
	if op != ws.OpBinary || !bytes.Equal(p, []byte{0, 1, 2}) {
		t.Errorf("device got %x (op %v), want binary 000102", p, op)
	}
}

func TestAppRequestErrors(t *testing.T) {
	h := newHarness(t, nil)
	app := h.dialApp()
	tests := []struct {
		name, req, code string
	}{
		{"publish outside allow-list", `{"type":"publish","id":1,"channel":"devices/d1/up","data":1}`, "forbidden"},
		{"subscribe outside allow-list", `{"type":"subscribe","id":2,"channel":"devices/#"}`, "forbidden"},
		{"invalid pattern", `{"type":"subscribe","id":3,"channel":"devices/a+/up"}`, "bad_request"},
		{"not JSON", `nope`, "bad_request"},
		{"unknown type", `{"type":"shout","id":4,"channel":"x"}`, "bad_request"},
		{"unsubscribe unknown", `{"type":"unsubscribe","id":5,"channel":"devices/+/up"}`, "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := request(t, app, tt.req)
			if m.Type != "error" || m.Code != tt.code || m.Message == "" {
				t.Fatalf("got %+v, want error %s with a message", m, tt.code)
			}
		})
	}
	// The session is still open and serving.
	subscribe(t, app, "devices/42/up")
}

func writeFrame(c net.Conn, f ws.Frame) error { return ws.WriteFrame(c, ws.MaskFrameInPlace(f)) }

func writeClose(c net.Conn, code ws.StatusCode) error {
	p := []byte{byte(code >> 8), byte(code)}
	return writeFrame(c, ws.NewFrame(ws.OpClose, true, p))
}

func TestDeviceReplaced(t *testing.T) {
	h := newHarness(t, nil)
	old := h.dialDevice("twin")
	waitFor(t, "first", func() bool { _, ok := h.g.Registry().Device("twin"); return ok })
	first, _ := h.g.Registry().Device("twin")
	h.dialDevice("twin")
	if code, reason := readClose(t, old); code != session.CodeReplaced || reason != "replaced" {
		t.Fatalf("got close %d %q, want 4001 replaced", code, reason)
	}
	waitFor(t, "second registered", func() bool { s, ok := h.g.Registry().Device("twin"); return ok && s != first })
}

func TestReviewFixes(t *testing.T) {
	h := newHarness(t, nil)
	t.Run("a large device message reaches apps although base64 grows it past queue_bytes", func(t *testing.T) {
		app := h.dialApp()
		subscribe(t, app, "devices/+/up")
		dev := h.dialDevice("big")
		waitFor(t, "device", func() bool { _, ok := h.g.Registry().Device("big"); return ok })
		payload := bytes.Repeat([]byte{0xab}, 900<<10) // 900 KiB → 1.2 MiB of base64
		if err := wsutil.WriteClientBinary(dev, payload); err != nil {
			t.Fatal(err)
		}
		m := readApp(t, app)
		if got, _ := base64.StdEncoding.DecodeString(m.DataBase64); !bytes.Equal(got, payload) {
			t.Fatalf("got %d bytes, want the 900 KiB payload", len(got))
		}
	})
	t.Run("subscriptions per session are capped", func(t *testing.T) {
		app := h.dialApp()
		for i := range protocol.MaxSubscriptions {
			if m := request(t, app, fmt.Sprintf(`{"type":"subscribe","id":%d,"channel":"devices/d%d/up"}`, i, i)); m.Type != "ack" {
				t.Fatalf("subscription %d: got %+v", i, m)
			}
		}
		if m := request(t, app, `{"type":"subscribe","id":"x","channel":"devices/one-more/up"}`); m.Code != "limit" {
			t.Fatalf("got %+v, want error limit", m)
		}
	})
	t.Run("browsers are refused on the device listener", func(t *testing.T) {
		_, err := h.tryDial("wss://"+h.device+"/device?device_id=b", http.Header{"Origin": {"https://evil.example"}}, nil)
		if err == nil || !strings.Contains(err.Error(), "403") {
			t.Fatalf("got %v, want 403", err)
		}
	})
}

// rawUpgrade opens a WebSocket by hand, sending the upgrade request and
// frames in one write (one TLS record), as a client that does not wait for
// the 101 does. It returns a connection that reads past the response.
func rawUpgrade(t *testing.T, h *harness, addr, path string, frames ...ws.Frame) io.ReadWriter {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, h.tlsConfig(nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	var out bytes.Buffer
	fmt.Fprintf(&out, "GET %s HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", path)
	for _, f := range frames {
		if err := ws.WriteFrame(&out, ws.MaskFrameInPlace(f)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := conn.Write(out.Bytes()); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("upgrade response: %v", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: got %s, want 101", resp.Status)
	}
	return struct {
		io.Reader
		io.Writer
	}{br, conn}
}

func TestFramesSentWithTheUpgradeRequest(t *testing.T) {
	h := newHarness(t, nil)
	app := h.dialApp()
	subscribe(t, app, "devices/+/up")

	// A device's first message, in the same record as its upgrade request.
	rawUpgrade(t, h, h.device, "/device?device_id=eager", ws.NewTextFrame([]byte(`{"first":true}`)))
	m := readApp(t, app)
	if m.Channel != "devices/eager/up" || string(m.Data) != `{"first":true}` {
		t.Fatalf("app got %+v, want the device's first message on devices/eager/up", m)
	}

	// An app's subscribe request, likewise: its ack comes after the 101.
	eager := rawUpgrade(t, h, h.app, "/ws", ws.NewTextFrame([]byte(`{"type":"subscribe","id":9,"channel":"devices/+/up"}`)))
	p, _, err := wsutil.ReadServerData(eager)
	if err != nil {
		t.Fatalf("read ack: %v", err)
	}
	if !bytes.Contains(p, []byte(`"ack"`)) || !bytes.Contains(p, []byte(`"id":9`)) {
		t.Fatalf("got %s, want the ack of request 9", p)
	}
}
