package gateway

import (
	"bufio"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/wssgate/wssgate/gateway/config"
	"github.com/wssgate/wssgate/gateway/listener"
)

// dialTLS opens a raw HTTP/1.1 TLS connection to the app port.
func (h *harness) dialTLS() *tls.Conn {
	h.t.Helper()
	cfg := h.tlsConfig(nil)
	cfg.NextProtos = []string{"http/1.1"}
	c, err := tls.Dial("tcp", h.app, cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { c.Close() })
	return c
}

func TestAppHTTPReadTimeoutCutsTrickledBody(t *testing.T) {
	gotBody := make(chan error, 1)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		gotBody <- err
	}))
	t.Cleanup(upstream.Close) // after the client's connection closes: the handler waits for its body
	const readTimeout = time.Second
	h := newHarness(t, func(c *config.Config, _ *harness) {
		c.App.Upstream = upstream.URL
		c.App.HTTP.ReadTimeout = readTimeout
	})
	c := h.dialTLS()
	if _, err := io.WriteString(c, "POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	go func() { // 1 byte/s, at most 20 bytes; ends when the connection does
		for range 20 {
			if _, err := c.Write([]byte("x")); err != nil {
				return
			}
			time.Sleep(time.Second)
		}
	}()
	_ = c.SetReadDeadline(time.Now().Add(15 * time.Second))
	_, err := io.Copy(io.Discard, c) // until the gateway closes
	if elapsed := time.Since(start); elapsed > readTimeout+time.Second || err != nil && isTimeout(err) {
		t.Fatalf("trickled body: connection ended after %s (err %v), want within read_timeout (%s) + 1s", elapsed, err, readTimeout)
	}
	select {
	case err := <-gotBody:
		if err == nil {
			t.Fatal("upstream read the whole body, want it cut")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("upstream still reading the body")
	}
}

func isTimeout(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }

func TestAppHTTPWriteTimeoutCutsSlowReader(t *testing.T) {
	const size = 256 << 20 // sparse: far more than socket buffers hold
	const writeTimeout = time.Second
	h := newHarness(t, func(c *config.Config, h *harness) {
		c.App.StaticDir = filepath.Join(h.dir, "www")
		must(t, os.MkdirAll(c.App.StaticDir, 0o755))
		f, err := os.Create(filepath.Join(c.App.StaticDir, "big.bin"))
		must(t, err)
		must(t, f.Truncate(size))
		must(t, f.Close())
		c.App.HTTP.WriteTimeout = writeTimeout
	})
	c := h.dialTLS()
	if _, err := io.WriteString(c, "GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.ContentLength != size {
		t.Fatalf("got %d with %d bytes, want 200 with %d", resp.StatusCode, resp.ContentLength, size)
	}
	time.Sleep(writeTimeout + time.Second) // a reader that does not read
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	n, err := io.Copy(io.Discard, resp.Body) // then reads as fast as it can
	if err == nil || isTimeout(err) || n >= size {
		t.Fatalf("slow reader: got %d of %d bytes (err %v), want the response cut at write_timeout", n, size, err)
	}
}

func TestProxiedWebSocketIdleTimeoutAndCounts(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, _, err := ws.UpgradeHTTP(r, w)
		if err != nil {
			return
		}
		defer conn.Close()
		for range 100 { // echo until the gateway closes
			msg, op, err := wsutil.ReadClientData(conn)
			if err != nil || wsutil.WriteServerMessage(conn, op, msg) != nil {
				return
			}
		}
	}))
	defer upstream.Close()
	const idle = time.Second
	h := newHarness(t, func(c *config.Config, _ *harness) {
		c.App.Upstream = upstream.URL
		c.App.Limits.PingInterval, c.App.Limits.IdleTimeout = idle/2, idle
		c.App.Limits.MaxConnections = 1
	})
	c := h.dial("wss://"+h.app+"/live", nil, nil)
	if open, total := h.g.ProxiedWebSockets(); open != 1 || total != 1 {
		t.Fatalf("proxied WebSockets: got open %d total %d, want 1 and 1", open, total)
	}
	if _, err := h.tryDial("wss://"+h.app+"/live", nil, nil); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("second proxied WebSocket at max_connections 1: got %v, want 503", err)
	}
	if n := h.g.app.Counters.Failures(listener.TooManyConnections); n != 1 {
		t.Fatalf("too_many_connections: got %d, want 1", n)
	}
	for range 4 { // traffic keeps it open past the idle timeout
		send(t, c, "hi")
		if p, _ := read(t, c); string(p) != "hi" {
			t.Fatalf("echo: got %q", p)
		}
		time.Sleep(idle / 2)
	}
	start := time.Now()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := io.Copy(io.Discard, c)
	if elapsed := time.Since(start); elapsed > idle+time.Second || isTimeout(err) {
		t.Fatalf("idle proxied WebSocket: closed after %s (err %v), want within idle_timeout (%s) + 1s", elapsed, err, idle)
	}
	waitFor(t, "proxied WebSocket counted closed", func() bool { open, _ := h.g.ProxiedWebSockets(); return open == 0 })
	waitFor(t, "its max_connections slot freed", func() bool { return h.g.app.Counters.Open.Load() == 0 })
}

func TestProxyForwardedHeaders(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Header.Get("X-Real-IP")+"|"+strings.Join(r.Header.Values("X-Forwarded-For"), ",")+"|"+r.Header.Get("X-Forwarded-Proto"))
	}))
	defer upstream.Close()
	get := func(h *harness) string {
		req, _ := http.NewRequest("GET", "https://"+h.app+"/whoami", nil)
		req.Header.Set("X-Real-IP", "203.0.113.9")
		req.Header.Set("X-Forwarded-For", "203.0.113.9")
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: h.tlsConfig(nil)}, Timeout: 5 * time.Second}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	t.Run("untrusted client", func(t *testing.T) {
		h := newHarness(t, func(c *config.Config, _ *harness) { c.App.Upstream = upstream.URL })
		if got, want := get(h), "127.0.0.1|127.0.0.1|https"; got != want {
			t.Fatalf("upstream saw %q, want %q: a client's own X-Real-IP/X-Forwarded-For must not pass", got, want)
		}
	})
	t.Run("trusted proxy", func(t *testing.T) {
		h := newHarness(t, func(c *config.Config, _ *harness) {
			c.App.Upstream = upstream.URL
			c.App.TrustedProxies = []string{"127.0.0.0/8"}
		})
		if got, want := get(h), "203.0.113.9|203.0.113.9, 127.0.0.1|https"; got != want {
			t.Fatalf("upstream saw %q, want %q: a trusted proxy's headers are extended", got, want)
		}
	})
}

func TestStaticRefusals(t *testing.T) {
	h := newHarness(t, func(c *config.Config, h *harness) {
		www := filepath.Join(h.dir, "www")
		c.App.StaticDir = www
		must(t, os.MkdirAll(filepath.Join(www, "nodex"), 0o755))
		must(t, os.WriteFile(filepath.Join(www, "index.html"), []byte("home"), 0o644))
		must(t, os.WriteFile(filepath.Join(www, ".env"), []byte("SECRET=1"), 0o644))
		must(t, os.WriteFile(filepath.Join(www, "nodex", "a.txt"), []byte("a"), 0o644))
		must(t, os.WriteFile(filepath.Join(h.dir, "private.key"), []byte("KEY"), 0o600))
		must(t, os.Symlink(filepath.Join(h.dir, "private.key"), filepath.Join(www, "key.pem")))
	})
	for _, p := range []string{"/key.pem", "/.env", "/nodex/", "/nodex"} {
		if code, body := h.get(p); code != 404 || strings.Contains(body, "KEY") || strings.Contains(body, "a.txt") {
			t.Errorf("%s: got %d %q, want 404", p, code, body)
		}
	}
	if code, body := h.get("/"); code != 200 || body != "home" {
		t.Fatalf("/: got %d %q, want the index", code, body)
	}
}
