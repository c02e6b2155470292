package gateway

import (
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
)

func (h *harness) get(path string) (int, string) {
	h.t.Helper()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: h.tlsConfig(nil)}, Timeout: 5 * time.Second}
	resp, err := client.Get("https://" + h.app + path)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestAppRoot(t *testing.T) {
	t.Run("default demo page", func(t *testing.T) {
		h := newHarness(t, nil)
		if code, body := h.get("/"); code != 200 || !strings.Contains(body, `id="status"`) {
			t.Fatalf("got %d, want the demo page", code)
		}
		if code, body := h.get("/wssgate.js"); code != 200 || strings.Contains(body, "ws://") {
			t.Fatalf("/wssgate.js: got %d", code)
		}
	})
	t.Run("static directory", func(t *testing.T) {
		h := newHarness(t, func(c *config.Config, h *harness) {
			c.App.StaticDir = filepath.Join(h.dir, "www")
			must(t, os.MkdirAll(c.App.StaticDir, 0o755))
			must(t, os.WriteFile(filepath.Join(c.App.StaticDir, "index.html"), []byte("<h1>my app</h1>"), 0o644))
		})
		if code, body := h.get("/"); code != 200 || body != "<h1>my app</h1>" {
			t.Fatalf("got %d %q, want my app", code, body)
		}
		if code, _ := h.get("/wssgate.js"); code != 200 {
			t.Fatalf("/wssgate.js next to a static dir: got %d", code)
		}
	})
	t.Run("reverse proxy with WebSocket pass-through", func(t *testing.T) {
		upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/live" {
				io.WriteString(w, "upstream "+r.URL.Path+" host="+r.Host)
				return
			}
			conn, _, _, err := ws.UpgradeHTTP(r, w)
			if err != nil {
				return
			}
			defer conn.Close()
			msg, op, err := wsutil.ReadClientData(conn)
			if err == nil {
				_ = wsutil.WriteServerMessage(conn, op, append([]byte("echo: "), msg...))
			}
		}))
		defer upstream.Close()
		h := newHarness(t, func(c *config.Config, _ *harness) { c.App.Upstream = upstream.URL })
		if code, body := h.get("/page"); code != 200 || !strings.HasPrefix(body, "upstream /page host=127.0.0.1:") {
			t.Fatalf("got %d %q, want the upstream's page with the original Host", code, body)
		}
		c := h.dial("wss://"+h.app+"/live", nil, nil)
		if err := wsutil.WriteClientText(c, []byte("hi")); err != nil {
			t.Fatal(err)
		}
		if p, _ := read(t, c); string(p) != "echo: hi" {
			t.Fatalf("got %q through the proxy, want echo: hi", p)
		}
		// /ws is still the gateway's own endpoint.
		subscribe(t, h.dialApp(), "devices/+/up")
	})
}
