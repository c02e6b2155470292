package gateway

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/wssgate/wssgate/gateway/certs/certstest"
	"github.com/wssgate/wssgate/gateway/config"
	"github.com/wssgate/wssgate/gateway/listener"
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

func TestDeviceIdentity(t *testing.T) {
	const token = "s3cret-token"
	sum := sha256.Sum256([]byte(token))
	var clientCA *certstest.CA
	h := newHarness(t, func(c *config.Config, h *harness) {
		c.Dev = false
		clientCA = certstest.NewCA(t, "device CA")
		c.TLS.ClientCA = clientCA.WriteCA(t, h.dir)
		c.Device.ClientAuth = "optional"
		c.Device.Tokens = []config.DeviceToken{{Device: "tok-1", SHA256: hex.EncodeToString(sum[:])}}
	})
	good := clientCA.Issue(t, certstest.LeafOptions{CN: "cert-1", Client: true})
	stranger := certstest.NewCA(t, "other CA").Issue(t, certstest.LeafOptions{CN: "evil", Client: true})
	url := "wss://" + h.device + "/device"

	tests := []struct {
		name     string
		url      string
		hdr      http.Header
		cert     *tls.Certificate
		identity string // "" → refused
		status   string // in the refusal
	}{
		{"client certificate", url, nil, &good.TLS, "cert-1", ""},
		{"bearer token", url, http.Header{"Authorization": {"Bearer " + token}}, nil, "tok-1", ""},
		{"query token", url + "?token=" + token, nil, nil, "tok-1", ""},
		{"wrong token", url + "?token=nope", nil, nil, "", "401"},
		{"no proof", url, nil, nil, "", "401"},
		{"device_id outside dev mode", url + "?device_id=x", nil, nil, "", "401"},
		{"certificate from another CA", url, nil, &stranger.TLS, "", "certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := h.tryDial(tt.url, tt.hdr, tt.cert)
			if tt.identity == "" {
				if err == nil {
					// TLS 1.3: a rejected client certificate surfaces on first read.
					_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
					_, _, err = wsutil.ReadServerData(conn)
					conn.Close()
				}
				if err == nil || !strings.Contains(err.Error(), tt.status) {
					t.Fatalf("got %v, want a refusal mentioning %q", err, tt.status)
				}
				return
			}
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer conn.Close()
			waitFor(t, "device "+tt.identity, func() bool { _, ok := h.g.Registry().Device(tt.identity); return ok })
		})
	}
	waitFor(t, "failures counted", func() bool {
		return h.g.device.Counters.Failures(listener.Unauthenticated) == 3 &&
			h.g.device.Counters.Failures(listener.BadClientCertificate) == 1
	})
	if got := h.g.device.Counters.CertRejects()["unknown_ca"]; got != 1 {
		t.Errorf("client-certificate rejections for unknown_ca: got %d, want 1", got)
	}
}

func TestCloseCodes(t *testing.T) {
	h := newHarness(t, func(c *config.Config, _ *harness) {
		c.Device.Limits.MaxMessage = 1024
		c.Device.Limits.QueueBytes = 64 << 10
	})
	tests := []struct {
		name  string
		write func(c net.Conn) error
		want  ws.StatusCode
	}{
		{"oversized message", func(c net.Conn) error {
			return wsutil.WriteClientBinary(c, make([]byte, 2048))
		}, ws.StatusMessageTooBig},
		{"oversized across fragments", func(c net.Conn) error {
			for i, fin := range []bool{false, false} {
				op := ws.OpContinuation
				if i == 0 {
					op = ws.OpBinary
				}
				if err := writeFrame(c, ws.Frame{Header: ws.Header{Fin: fin, OpCode: op, Length: 600}, Payload: make([]byte, 600)}); err != nil {
					return err
				}
			}
			return nil
		}, ws.StatusMessageTooBig},
		{"invalid UTF-8", func(c net.Conn) error { return wsutil.WriteClientText(c, []byte{0xff, 0xfe}) }, ws.StatusInvalidFramePayloadData},
		{"UTF-8 split across fragments stays invalid", func(c net.Conn) error {
			if err := writeFrame(c, ws.NewFrame(ws.OpText, false, []byte{0xe2, 0x82})); err != nil {
				return err
			}
			return writeFrame(c, ws.NewFrame(ws.OpContinuation, true, []byte{0x41}))
		}, ws.StatusInvalidFramePayloadData},
		{"reserved bits", func(c net.Conn) error {
			return writeFrame(c, ws.Frame{Header: ws.Header{Fin: true, Rsv: 4, OpCode: ws.OpText, Length: 1}, Payload: []byte("a")})
		}, ws.StatusProtocolError},
		{"reserved opcode", func(c net.Conn) error {
			return writeFrame(c, ws.Frame{Header: ws.Header{Fin: true, OpCode: 0x3, Length: 1}, Payload: []byte("a")})
		}, ws.StatusProtocolError},
		{"continuation without start", func(c net.Conn) error {
			return writeFrame(c, ws.NewFrame(ws.OpContinuation, true, []byte("a")))
		}, ws.StatusProtocolError},
		{"unmasked client frame", func(c net.Conn) error {
			return ws.WriteFrame(c, ws.NewTextFrame([]byte("a")))
		}, ws.StatusProtocolError},
		{"fragmented ping", func(c net.Conn) error { return writeFrame(c, ws.NewFrame(ws.OpPing, false, nil)) }, ws.StatusProtocolError},
		{"close code 1005 on the wire", func(c net.Conn) error { return writeClose(c, 1005) }, ws.StatusProtocolError},
		{"close code 5000", func(c net.Conn) error { return writeClose(c, 5000) }, ws.StatusProtocolError},
		{"close code 1012 echoed", func(c net.Conn) error { return writeClose(c, 1012) }, 1012},
		{"close code 4000 echoed", func(c net.Conn) error { return writeClose(c, 4000) }, 4000},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := h.dialDevice("rfc" + string(rune('a'+i)))
			if err := tt.write(c); err != nil {
				t.Fatalf("write: %v", err)
			}
			if code, reason := readClose(t, c); code != tt.want {
				t.Fatalf("got close %d %q, want %d", code, reason, tt.want)
			}
		})
	}
}

func writeFrame(c net.Conn, f ws.Frame) error { return ws.WriteFrame(c, ws.MaskFrameInPlace(f)) }

func writeClose(c net.Conn, code ws.StatusCode) error {
	p := []byte{byte(code >> 8), byte(code)}
	return writeFrame(c, ws.NewFrame(ws.OpClose, true, p))
}

func TestPingPongAndFragmentedMessage(t *testing.T) {
	h := newHarness(t, nil)
	app := h.dialApp()
	subscribe(t, app, "devices/+/up")
	dev := h.dialDevice("frag")
	waitFor(t, "device", func() bool { _, ok := h.g.Registry().Device("frag"); return ok })
	// A text message in two fragments with a ping between them; the euro
	// sign is split across the fragments.
	for _, f := range []ws.Frame{
		ws.NewFrame(ws.OpText, false, []byte("price \xe2\x82")),
		ws.NewFrame(ws.OpPing, true, []byte("p")),
		ws.NewFrame(ws.OpContinuation, true, []byte("\xac 5")),
	} {
		if err := writeFrame(dev, f); err != nil {
			t.Fatal(err)
		}
	}
	_ = dev.SetReadDeadline(time.Now().Add(5 * time.Second))
	hdr, err := ws.ReadHeader(dev)
	if err != nil || hdr.OpCode != ws.OpPong {
		t.Fatalf("got %v %v, want pong", hdr.OpCode, err)
	}
	if m := readApp(t, app); string(m.Data) != `"price € 5"` {
		t.Errorf("got %s, want \"price € 5\"", m.Data)
	}
}

func TestSlowConsumerClosedOthersServed(t *testing.T) {
	h := newHarness(t, func(c *config.Config, _ *harness) {
		c.App.Limits.QueueBytes = 64 << 10
		c.App.Limits.MaxMessage = 16 << 10
	})
	stalled := h.dialApp()
	subscribe(t, stalled, "devices/+/up")
	reader := h.dialApp()
	subscribe(t, reader, "devices/+/up")
	dev := h.dialDevice("flood")
	waitFor(t, "device", func() bool { _, ok := h.g.Registry().Device("flood"); return ok })

	// The device sends 16 KiB messages while the reading subscriber stays
	// at most 2 behind, until the stalled one is cut off (or 2,000 sent).
	payload := bytes.Repeat([]byte("x"), 16<<10)
	received := make(chan struct{}, 2000)
	go func() {
		_ = reader.SetReadDeadline(time.Now().Add(30 * time.Second))
		for {
			if _, _, err := wsutil.ReadServerData(reader); err != nil {
				close(received)
				return
			}
			received <- struct{}{}
		}
	}()
	sent, got := 0, 0
	for sent < 2000 && h.g.app.Counters.Sessions.SlowCloses.Load() == 0 {
		if err := wsutil.WriteClientText(dev, payload); err != nil {
			t.Fatal(err)
		}
		sent++
		for sent-got > 2 {
			if _, ok := <-received; !ok {
				t.Fatalf("reading subscriber failed after %d messages", got)
			}
			got++
		}
	}
	for got < sent {
		if _, ok := <-received; !ok {
			t.Fatalf("reading subscriber got %d of %d messages", got, sent)
		}
		got++
	}
	if code, reason := readClose(t, stalled); code != 1013 {
		t.Errorf("stalled subscriber: got close %d %q, want 1013", code, reason)
	}
	if got := h.g.app.Counters.Sessions.SlowCloses.Load(); got != 1 {
		t.Errorf("slow closes: got %d, want 1", got)
	}
}

func TestHandshakeLimits(t *testing.T) {
	h := newHarness(t, func(c *config.Config, _ *harness) {
		c.Device.Limits.HandshakeTimeout = 300 * time.Millisecond
		c.App.Limits.HandshakeTimeout = 300 * time.Millisecond
	})
	t.Run("silent TCP closed at the deadline", func(t *testing.T) {
		for _, addr := range []string{h.device, h.app} {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, err = c.Read(make([]byte, 1))
			c.Close()
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Errorf("%s: connection still open after 5 s, want closed at 300 ms", addr)
			}
		}
		waitFor(t, "timeout counted", func() bool { return h.g.device.Counters.Failures(listener.Timeout) == 1 })
	})
}

func TestHandshakeRefusals(t *testing.T) {
	h := newHarness(t, nil)
	status := func(t *testing.T, addr, req string) string {
		c, err := tls.Dial("tcp", addr, h.tlsConfig(nil))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.WriteString(c, req); err != nil {
			t.Fatal(err)
		}
		line, _ := io.ReadAll(io.LimitReader(c, 64))
		return string(line)
	}
	upgrade := "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	tests := []struct {
		name, addr, req, want string
	}{
		{"device bad path", h.device, "GET /nope HTTP/1.1\r\nHost: localhost\r\n" + upgrade + "\r\n", "HTTP/1.1 404"},
		{"device not websocket", h.device, "GET /device?device_id=a HTTP/1.1\r\nHost: localhost\r\n\r\n", "HTTP/1.1 400"},
		{"device unauthenticated", h.device, "GET /device HTTP/1.1\r\nHost: localhost\r\n" + upgrade + "\r\n", "HTTP/1.1 401"},
		{"device request too large", h.device, "GET /device HTTP/1.1\r\nHost: localhost\r\nX-Big: " + strings.Repeat("a", 9000) + "\r\n\r\n", "HTTP/1.1 431"},
		{"app wrong origin", h.app, "GET /ws HTTP/1.1\r\nHost: localhost\r\nOrigin: https://evil.example\r\n" + upgrade + "\r\n", "HTTP/1.1 403"},
		{"app not websocket", h.app, "GET /ws HTTP/1.1\r\nHost: localhost\r\n\r\n", "HTTP/1.1 400"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := status(t, tt.addr, tt.req); !strings.HasPrefix(got, tt.want) {
				t.Fatalf("got %q, want %s", got, tt.want)
			}
		})
	}
	t.Run("plain http on the device port", func(t *testing.T) {
		c, err := net.Dial("tcp", h.device)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "GET /device HTTP/1.1\r\nHost: localhost\r\n\r\n")
		b, _ := io.ReadAll(c)
		if !strings.Contains(string(b), "wss://") {
			t.Fatalf("got %q, want a hint to use wss://", b)
		}
		recent := h.g.device.Counters.Recent()
		if len(recent) == 0 || recent[0].Reason != listener.NotTLS || !strings.Contains(recent[0].Message, "not ws://") {
			t.Fatalf("recent failures: got %+v, want newest not_tls", recent)
		}
	})
	t.Run("plain http on the app port", func(t *testing.T) {
		c, err := net.Dial("tcp", h.app)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: localhost\r\n\r\n")
		b, _ := io.ReadAll(c)
		if !strings.Contains(string(b), "400") {
			t.Fatalf("got %q, want 400", b)
		}
		// Not necessarily the newest: the previous subtests' failures are
		// recorded after their responses are written.
		waitFor(t, "not_tls recorded on the app listener", func() bool {
			return slices.ContainsFunc(h.g.app.Counters.Recent(), func(f listener.Failure) bool { return f.Reason == listener.NotTLS })
		})
	})
	t.Run("same-host origin allowed", func(t *testing.T) {
		h.dial("wss://"+h.app+"/ws", http.Header{"Origin": {"https://" + h.app}}, nil)
	})
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

func TestShutdownSendsGoingAway(t *testing.T) {
	h := newHarness(t, nil)
	app := h.dialApp()
	subscribe(t, app, "devices/+/up")
	dev := h.dialDevice("bye")
	waitFor(t, "sessions", func() bool { return h.g.Registry().Len() == 2 })
	shut := make(chan error, 1)
	go func() { shut <- h.g.Shutdown(context.Background()) }()
	for _, c := range []net.Conn{app, dev} {
		if code, _ := readClose(t, c); code != ws.StatusGoingAway {
			t.Errorf("got close %d, want 1001", code)
		}
		// Answer like a real client, so the session ends at once.
		_ = writeClose(c, 1001)
	}
	select {
	case err := <-shut:
		if err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Shutdown did not return within 5 s")
	}
}

func TestDeviceMutualTLS(t *testing.T) {
	var clientCA *certstest.CA
	var revoked *certstest.Leaf
	h := newHarness(t, func(c *config.Config, h *harness) {
		c.Dev = false
		clientCA = certstest.NewCA(t, "device CA")
		c.TLS.ClientCA = clientCA.WriteCA(t, h.dir)
		revoked = clientCA.Issue(t, certstest.LeafOptions{CN: "revoked-1", Client: true})
		c.TLS.CRLFiles = []string{writeFile(t, h.dir, "devices.crl", clientCA.CRL(t, revoked.Cert))}
		c.Device.ClientAuth = "require"
	})
	url := "wss://" + h.device + "/device"
	tests := []struct {
		name     string
		cert     *certstest.Leaf
		identity string // "" → refused
		reason   string // failure reason recorded
	}{
		{"good certificate, CN identity", clientCA.Issue(t, certstest.LeafOptions{CN: "dev-1", Client: true}), "dev-1", ""},
		{"URI SAN identity wins", clientCA.Issue(t, certstest.LeafOptions{CN: "x", URIs: []string{"urn:dev:d9"}, Client: true}), "urn:dev:d9", ""},
		{"revoked", revoked, "", "revoked"},
		{"expired", clientCA.Issue(t, certstest.LeafOptions{CN: "old", Client: true,
			NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)}), "", "expired"},
		{"wrong CA", certstest.NewCA(t, "rogue").Issue(t, certstest.LeafOptions{CN: "rogue", Client: true}), "", "unknown_ca"},
		{"two URI SANs", clientCA.Issue(t, certstest.LeafOptions{CN: "two", URIs: []string{"urn:a", "urn:b"}, Client: true}), "", "unauthenticated"},
		{"no certificate", nil, "", "no_certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cert *tls.Certificate
			if tt.cert != nil {
				cert = &tt.cert.TLS
			}
			conn, err := h.tryDial(url, nil, cert)
			if tt.identity != "" {
				if err != nil {
					t.Fatalf("dial: %v", err)
				}
				defer conn.Close()
				waitFor(t, "device "+tt.identity, func() bool { _, ok := h.g.Registry().Device(tt.identity); return ok })
				return
			}
			if err == nil {
				_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
				_, _, err = wsutil.ReadServerData(conn) // TLS 1.3: the refusal comes with the first read
				conn.Close()
			}
			if err == nil {
				t.Fatal("connected, want refused")
			}
			waitFor(t, "failure recorded", func() bool {
				r := h.g.device.Counters.Recent()
				return len(r) > 0 && strings.Contains(r[0].Reason.String()+" "+r[0].Message, tt.reason)
			})
		})
	}
}

// A peer that never answers our close frame is cut off after a short
// bound, not after the whole shutdown grace.
func TestShutdownUnresponsivePeer(t *testing.T) {
	h := newHarness(t, nil)
	h.dialDevice("mute") // never reads, never answers
	h.dialApp()
	waitFor(t, "sessions", func() bool { return h.g.Registry().Len() == 2 })
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.g.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Shutdown took %s with silent peers, want about 2 s", d)
	}
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
