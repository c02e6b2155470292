package gateway

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/wssgate/wssgate/gateway/config"
	"github.com/wssgate/wssgate/gateway/listener"
	"github.com/wssgate/wssgate/gateway/session"
)

// lineCounter counts log lines containing any of its needles.
type lineCounter struct {
	mu      sync.Mutex
	needles []string
	n       int
}

func (c *lineCounter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, line := range strings.Split(strings.TrimSpace(string(p)), "\n") {
		for _, nd := range c.needles {
			if strings.Contains(line, nd) {
				c.n++
				break
			}
		}
	}
	return len(p), nil
}

func (c *lineCounter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// A flood of plain-HTTP connections to the TLS device port is counted
// exactly and logged in fewer than 100 lines.
func TestFailedHandshakeFloodIsSampled(t *testing.T) {
	lines := &lineCounter{needles: []string{"handshake failed", "suppressed similar log lines"}}
	h := newHarness(t, func(_ *config.Config, h *harness) { h.logw = lines })
	const total, workers = 5000, 8
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < total; i += workers {
				if err := plainHTTP(h.device); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Logf("5,000 failed handshakes took %s (shared machine)", d)
	}
	c := h.g.device.Counters
	waitFor(t, "every failure counted", func() bool { return c.Failures(listener.NotTLS) == total })
	ctx, cancel := contextTimeout(5 * time.Second)
	defer cancel()
	if err := h.g.Shutdown(ctx); err != nil { // closes the samplers: the last summaries are written
		t.Fatal(err)
	}
	if n := lines.count(); n >= 100 || n == 0 {
		t.Fatalf("got %d log lines for %d failed handshakes, want between 1 and 99", n, total)
	}
	t.Logf("%d failed handshakes: %d log lines, counted %d", total, lines.count(), c.Failures(listener.NotTLS))
}

// plainHTTP sends a plain HTTP request to a TLS port and reads the answer.
func plainHTTP(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "GET /device HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		return err
	}
	b, err := io.ReadAll(c)
	if !bytes.HasPrefix(b, []byte("HTTP/1.1 400")) {
		return errors.Join(errors.New("plain HTTP to the TLS port: got "+string(b)), err)
	}
	return nil
}

// Over max_connections the device listener refuses at accept with a TLS
// alert, and counts it; a freed slot is usable again.
func TestDeviceMaxConnections(t *testing.T) {
	h := newHarness(t, func(c *config.Config, _ *harness) { c.Device.Limits.MaxConnections = 2 })
	a, b := h.dialDevice("m1"), h.dialDevice("m2")
	_ = b
	if _, err := h.tryDial("wss://"+h.device+"/device?device_id=m3", nil, nil); err == nil {
		t.Fatal("a third connection was accepted over max_connections 2")
	} else if !strings.Contains(err.Error(), "internal error") && !strings.Contains(err.Error(), "EOF") &&
		!strings.Contains(err.Error(), "reset") {
		t.Errorf("refusal: got %v, want a TLS alert (or the closed connection)", err)
	}
	if n := h.g.device.Counters.Failures(listener.TooManyConnections); n != 1 {
		t.Errorf("too_many_connections: got %d, want 1", n)
	}
	a.Close()
	waitFor(t, "slot released", func() bool { _, ok := h.g.Registry().Device("m1"); return !ok })
	h.dialDevice("m4")
}

// max_connections_per_ip on the app: the client over it gets 503.
func TestAppMaxConnectionsPerIP(t *testing.T) {
	h := newHarness(t, func(c *config.Config, _ *harness) { c.App.Limits.MaxConnectionsPerIP = 1 })
	h.dialApp()
	tr := &http.Transport{TLSClientConfig: h.tlsConfig(nil), DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get("https://" + h.app + "/.well-known/wssgate")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "too_many_connections_per_ip") {
		t.Fatalf("got %d %q, want 503 naming too_many_connections_per_ip", resp.StatusCode, body)
	}
	if n := h.g.app.Counters.Failures(listener.TooManyConnectionsPerIP); n != 1 {
		t.Errorf("too_many_connections_per_ip: got %d, want 1", n)
	}
}

// handshake_rate: a client over its bucket is refused and counted.
func TestDeviceHandshakeRate(t *testing.T) {
	h := newHarness(t, func(c *config.Config, _ *harness) {
		c.Device.Limits.HandshakeRate = config.HandshakeRate{PerSecond: 0.01, Burst: 2}
	})
	h.dialDevice("r1")
	h.dialDevice("r2")
	if _, err := h.tryDial("wss://"+h.device+"/device?device_id=r3", nil, nil); err == nil {
		t.Fatal("a third handshake within the burst of 2 was accepted")
	}
	if n := h.g.device.Counters.Failures(listener.HandshakeRate); n != 1 {
		t.Errorf("handshake_rate: got %d, want 1", n)
	}
}

// An identity replaced more than max_replacements times is held off with
// 4008; the live session stays, and every refusal is counted.
func TestFlappingHeldOff(t *testing.T) {
	h := newHarness(t, func(c *config.Config, _ *harness) {
		c.Device.Limits.Flapping = config.Flapping{MaxReplacements: 2, Window: time.Minute, HoldOff: time.Minute}
	})
	var last net.Conn
	for i := range 3 { // the first, then two replacements
		last = h.dialDevice("twin")
		waitFor(t, "session", func() bool {
			s, ok := h.g.Registry().Device("twin")
			return ok && h.g.device.Counters.HandshakesOK.Load() == uint64(i+1) && s.Info().LocalAddr != ""
		})
	}
	for range 2 { // the third replacement starts the hold-off; the next is held off
		c := h.dialDevice("twin")
		if code, reason := readClose(t, c); code != session.CodeFlapping {
			t.Fatalf("got close %d %q, want 4008", code, reason)
		}
	}
	if n := h.g.device.Counters.Sessions.Closes.Get(session.CodeFlapping); n != 2 {
		t.Errorf("4008 closes: got %d, want 2", n)
	}
	if n := h.g.device.Counters.Sessions.Closes.Get(session.CodeReplaced); n != 2 {
		t.Errorf("4001 closes: got %d, want 2", n)
	}
	// The session that was live is still served.
	send(t, last, "still here")
	if _, ok := h.g.Registry().Device("twin"); !ok {
		t.Fatal("the live session was dropped by a held-off connect")
	}
}

// sendUpgrade sends a raw upgrade request over TLS and returns the status
// line of the answer and, for a refusal, whether the server closed the
// connection after it.
func sendUpgrade(t *testing.T, h *harness, addr, req string) (status string, closed bool) {
	t.Helper()
	c, err := tls.Dial("tcp", addr, h.tlsConfig(nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode == http.StatusSwitchingProtocols {
		return resp.Status, false
	}
	_, err = br.ReadByte()
	return resp.Status, errors.Is(err, io.EOF)
}

const upgradeHead = "GET %s HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"

func TestStrictUpgradeHeaders(t *testing.T) {
	const token = "Tok-lower-case-scheme"
	sum := sha256.Sum256([]byte(token))
	h := newHarness(t, func(c *config.Config, _ *harness) {
		c.Device.Tokens = []config.DeviceToken{{Device: "tok-9", SHA256: hex.EncodeToString(sum[:])}}
	})
	dev := strings.Replace(upgradeHead, "%s", "/device?device_id=hdr", 1)
	app := strings.Replace(upgradeHead, "%s", "/ws", 1)
	tests := []struct {
		name, addr, req, want string
		closed                bool
	}{
		{"device: duplicate key", h.device, dev + "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n\r\n", "400", true},
		{"device: NUL in a value", h.device, dev + "User-Agent: a\x00b\r\n\r\n", "400", true},
		{"device: control byte in a value", h.device, dev + "X-A: a\x1bb\r\n\r\n", "400", true},
		{"device: Content-Length and Transfer-Encoding", h.device, dev + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", "400", true},
		{"device: lower-case bearer", h.device, strings.Replace(upgradeHead, "%s", "/device", 1) + "authorization: bearer " + token + "\r\n\r\n", "101", false},
		{"device: plain request passes", h.device, dev + "\r\n", "101", false},
		{"app: duplicate key", h.app, app + "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n\r\n", "400", true},
		{"app: NUL in a value (net/http)", h.app, app + "User-Agent: a\x00b\r\n\r\n", "400", true},
		{"app: Content-Length and Transfer-Encoding", h.app, app + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "400", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, closed := sendUpgrade(t, h, tt.addr, tt.req)
			if !strings.HasPrefix(status, tt.want) {
				t.Fatalf("got %q, want %s", status, tt.want)
			}
			if tt.closed && !closed {
				t.Error("connection kept open after the refusal, want closed")
			}
			if tt.want == "101" && tt.addr == h.device {
				id := "hdr"
				if strings.Contains(tt.req, "bearer") {
					id = "tok-9"
				}
				waitFor(t, "device "+id, func() bool { _, ok := h.g.Registry().Device(id); return ok })
			}
		})
	}

}

// After a server-initiated 1002 close, TCP closes as soon as the client's
// close reply arrives; a silent client is cut off after the 2 s bound.
func TestPromptTCPCloseAfterProtocolError(t *testing.T) {
	h := newHarness(t, nil)
	best := time.Hour
	for i := range 3 { // the best of three: the machine is shared
		c := h.dialDevice("prompt" + string(rune('a'+i)))
		if err := writeFrame(c, ws.Frame{Header: ws.Header{Fin: true, Rsv: 4, OpCode: ws.OpText, Length: 3}, Payload: []byte("abc")}); err != nil {
			t.Fatal(err)
		}
		if code, _ := readClose(t, c); code != ws.StatusProtocolError {
			t.Fatalf("got close %d, want 1002", code)
		}
		if err := writeClose(c, ws.StatusProtocolError); err != nil {
			t.Fatal(err)
		}
		sent := time.Now()
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil {
			t.Fatal("read data after the close handshake")
		}
		best = min(best, time.Since(sent))
	}
	if best > 50*time.Millisecond {
		t.Fatalf("TCP closed %s after the client's close reply (best of 3), want within 50 ms", best)
	}
	if n := h.g.device.Counters.Sessions.Closes.Get(ws.StatusProtocolError); n != 3 {
		t.Errorf("1002 closes counted: got %d, want 3", n)
	}
	silent := h.dialDevice("silent")
	_ = writeFrame(silent, ws.Frame{Header: ws.Header{Fin: true, Rsv: 4, OpCode: ws.OpText, Length: 1}, Payload: []byte("a")})
	readClose(t, silent)
	start := time.Now()
	_ = silent.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := silent.Read(make([]byte, 1)); err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("silent peer: got %v after %s, want closed after about 2 s", err, time.Since(start))
	}
}

func contextTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

// Devices holding partial messages beyond limits.memory_budget are closed
// with 1013 and counted; a good session keeps receiving meanwhile.
func TestMemoryBudgetHoldsUnderPartialMessages(t *testing.T) {
	h := newHarness(t, func(c *config.Config, _ *harness) {
		c.Limits.MemoryBudget = 8 << 20
		c.Device.Limits.MaxMessage = 1 << 20
	})
	app := h.dialApp()
	subscribe(t, app, "devices/good/up")
	good := h.dialDevice("good")
	const hogs = 16
	for i := range hogs {
		c := h.dialDevice("hog" + string(rune('a'+i)))
		_ = c.SetWriteDeadline(time.Now().Add(10 * time.Second))
		hdr := ws.Header{Fin: true, OpCode: ws.OpBinary, Length: 1 << 20, Masked: true, Mask: ws.NewMask()}
		if err := ws.WriteHeader(c, hdr); err != nil {
			t.Fatal(err)
		}
		// Never the whole message; the write ends when the server stops
		// reading and the test's cleanup closes c.
		go func() { _, _ = c.Write(make([]byte, 900<<10)) }()
	}
	// Whatever the hogs hold, the budget stays within its bound and the
	// good device's messages reach the app.
	waitFor(t, "the budget to be exhausted", func() bool { return h.g.budget.Refused() > 0 })
	for i := range 5 {
		send(t, good, `{"n":`+string(rune('0'+i))+`}`)
		if m := readApp(t, app); m.Channel != "devices/good/up" {
			t.Fatalf("good session: got %+v", m)
		}
	}
	if u := h.g.budget.InUse(); u > 8<<20 {
		t.Errorf("budget in use %d, over its 8 MiB", u)
	}
	waitFor(t, "1013 closes", func() bool { return h.g.device.Counters.Sessions.Closes.Get(session.CodeTryAgainLater) >= hogs/2 })
	got := h.g.device.Counters.Sessions.Closes.Get(session.CodeTryAgainLater)
	t.Logf("%d of %d hogs closed 1013 with an 8 MiB budget", got, hogs)
}
