package web

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func do(t *testing.T, h http.Handler, method, target string, header http.Header) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return string(b)
}

func TestHandlerRoutes(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		path       string
		wantStatus int
		wantType   string
		wantBody   string
	}{
		{"page", http.MethodGet, "/", http.StatusOK, "text/html; charset=utf-8", `id="status"`},
		{"page with query", http.MethodGet, "/?x=1", http.StatusOK, "text/html; charset=utf-8", "<title>wssgate</title>"},
		{"client", http.MethodGet, "/wssgate.js", http.StatusOK, "text/javascript; charset=utf-8", "class WSSGate"},
		{"app script", http.MethodGet, "/app.js", http.StatusOK, "text/javascript; charset=utf-8", "devices/+/up"},
		{"app style", http.MethodGet, "/app.css", http.StatusOK, "text/css; charset=utf-8", "system-ui"},
		{"unknown path", http.MethodGet, "/nope", http.StatusNotFound, "text/plain; charset=utf-8", "not found"},
		{"index by name", http.MethodGet, "/index.html", http.StatusNotFound, "text/plain; charset=utf-8", "not found"},
		{"directory listing", http.MethodGet, "/static/", http.StatusNotFound, "text/plain; charset=utf-8", "not found"},
		{"post page", http.MethodPost, "/", http.StatusMethodNotAllowed, "text/plain; charset=utf-8", "Method Not Allowed"},
		{"delete client", http.MethodDelete, "/wssgate.js", http.StatusMethodNotAllowed, "text/plain; charset=utf-8", "Method Not Allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := do(t, Handler(), tt.method, tt.path, nil)
			body := readBody(t, resp)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("got status %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if got := resp.Header.Get("Content-Type"); got != tt.wantType {
				t.Errorf("got Content-Type %q, want %q", got, tt.wantType)
			}
			if !strings.Contains(body, tt.wantBody) {
				t.Errorf("got body without %q", tt.wantBody)
			}
			if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("got X-Content-Type-Options %q, want nosniff", got)
			}
			if tt.wantStatus == http.StatusMethodNotAllowed && resp.Header.Get("Allow") != "GET, HEAD" {
				t.Errorf("got Allow %q, want %q", resp.Header.Get("Allow"), "GET, HEAD")
			}
			if tt.wantStatus == http.StatusOK {
				if got := resp.Header.Get("Cache-Control"); got != "no-cache" {
					t.Errorf("got Cache-Control %q, want no-cache", got)
				}
				if resp.Header.Get("ETag") == "" {
					t.Error("got no ETag")
				}
			}
		})
	}
}

func TestConditionalAndHead(t *testing.T) {
	for _, path := range []string{"/", "/wssgate.js", "/app.js", "/app.css"} {
		t.Run(path, func(t *testing.T) {
			first := do(t, Handler(), http.MethodGet, path, nil)
			full := readBody(t, first)
			etag := first.Header.Get("ETag")
			if !strings.HasPrefix(etag, `"`) {
				t.Fatalf("got ETag %q, want a strong quoted ETag", etag)
			}

			cond := do(t, Handler(), http.MethodGet, path, http.Header{"If-None-Match": {etag}})
			if cond.StatusCode != http.StatusNotModified {
				t.Errorf("If-None-Match: got status %d, want %d", cond.StatusCode, http.StatusNotModified)
			}
			if body := readBody(t, cond); body != "" {
				t.Errorf("If-None-Match: got %d body bytes, want 0", len(body))
			}

			stale := do(t, Handler(), http.MethodGet, path, http.Header{"If-None-Match": {`"other"`}})
			if stale.StatusCode != http.StatusOK {
				t.Errorf("stale If-None-Match: got status %d, want %d", stale.StatusCode, http.StatusOK)
			}

			head := do(t, Handler(), http.MethodHead, path, nil)
			if head.StatusCode != http.StatusOK {
				t.Errorf("HEAD: got status %d, want %d", head.StatusCode, http.StatusOK)
			}
			if body := readBody(t, head); body != "" {
				t.Errorf("HEAD: got %d body bytes, want 0", len(body))
			}
			if got, want := head.ContentLength, int64(len(full)); got != want {
				t.Errorf("HEAD: got Content-Length %d, want %d", got, want)
			}
			if got := head.Header.Get("ETag"); got != etag {
				t.Errorf("HEAD: got ETag %q, want %q", got, etag)
			}
		})
	}
}

func TestPageElements(t *testing.T) {
	body := readBody(t, do(t, Handler(), http.MethodGet, "/", nil))
	for _, id := range []string{"status", "messages", "device-id", "command", "send-command", "command-result", "endpoints"} {
		t.Run(id, func(t *testing.T) {
			if !strings.Contains(body, `id="`+id+`"`) {
				t.Errorf("got page without element id %q", id)
			}
		})
	}
	if !strings.Contains(body, `value='{"led":"on"}'`) {
		t.Error(`got #command without default value {"led":"on"}`)
	}
	if !strings.Contains(body, `>connecting</span>`) {
		t.Error(`got #status without initial text "connecting"`)
	}
}

// TestNoInlineCode checks the page against its own CSP: no inline scripts,
// inline event handlers or style attributes, which 'self' would block.
func TestNoInlineCode(t *testing.T) {
	body := readBody(t, do(t, Handler(), http.MethodGet, "/", nil))
	scripts := regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script>`).FindAllStringSubmatch(body, -1)
	if len(scripts) == 0 {
		t.Fatal("got no <script> elements, want wssgate.js and app.js")
	}
	for _, s := range scripts {
		if !strings.Contains(s[1], "src=") || strings.TrimSpace(s[2]) != "" {
			t.Errorf("got inline script %q", s[0])
		}
	}
	for name, re := range map[string]*regexp.Regexp{
		"style element":   regexp.MustCompile(`(?i)<style\b`),
		"style attribute": regexp.MustCompile(`(?i)\sstyle\s*=`),
		"event handler":   regexp.MustCompile(`(?i)\son[a-z]+\s*=`),
		"javascript URL":  regexp.MustCompile(`(?i)javascript:`),
		"external URL":    regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//`),
	} {
		t.Run(name, func(t *testing.T) {
			if m := re.FindString(body); m != "" {
				t.Errorf("got %q in page", m)
			}
		})
	}
}

func TestAssetsHaveNoInsecureURLs(t *testing.T) {
	err := fs.WalkDir(staticFS, "static", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		t.Run(path, func(t *testing.T) {
			b, err := fs.ReadFile(staticFS, path)
			if err != nil {
				t.Fatalf("read %s: %v", path, err)
			}
			for _, bad := range []string{"ws://", "http://"} {
				if strings.Contains(string(b), bad) {
					t.Errorf("got %q in %s", bad, path)
				}
			}
		})
		return nil
	})
	if err != nil {
		t.Fatalf("walk assets: %v", err)
	}
}

func TestContentSecurityPolicy(t *testing.T) {
	tests := []struct {
		name    string
		host    string
		wantWSS string // "" means no explicit wss: source
	}{
		{"name and port", "localhost:8443", "wss://localhost:8443"},
		{"name", "gw.example.com", "wss://gw.example.com"},
		{"ipv4", "127.0.0.1:8443", "wss://127.0.0.1:8443"},
		{"ipv6", "[::1]:8443", "wss://[::1]:8443"},
		{"directive injection", "evil.example;script-src *", ""},
		{"space injection", "a.example 'unsafe-inline'", ""},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Host = tt.host
			rec := httptest.NewRecorder()
			Handler().ServeHTTP(rec, req)
			csp := rec.Result().Header.Get("Content-Security-Policy")
			for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("got CSP %q, want it to contain %q", csp, want)
				}
			}
			for _, bad := range []string{"unsafe-inline", "unsafe-eval", "*", ";script-src"} {
				if strings.Contains(csp, bad) {
					t.Errorf("got CSP %q, want no %q", csp, bad)
				}
			}
			gotWSS := strings.Contains(csp, "wss:")
			if tt.wantWSS == "" && gotWSS {
				t.Errorf("got CSP %q, want no wss: source", csp)
			}
			if tt.wantWSS != "" && !strings.HasSuffix(csp, "connect-src 'self' "+tt.wantWSS) {
				t.Errorf("got CSP %q, want connect-src 'self' %s", csp, tt.wantWSS)
			}
		})
	}
}

func TestClientJS(t *testing.T) {
	want := readBody(t, do(t, Handler(), http.MethodGet, "/wssgate.js", nil))
	for _, path := range []string{"/wssgate.js", "/static/wssgate.js"} {
		t.Run(path, func(t *testing.T) {
			resp := do(t, ClientJS(), http.MethodGet, path, nil)
			if got := readBody(t, resp); got != want {
				t.Errorf("got %d bytes, want the %d bytes of /wssgate.js", len(got), len(want))
			}
			if got := resp.Header.Get("Content-Type"); got != "text/javascript; charset=utf-8" {
				t.Errorf("got Content-Type %q, want text/javascript; charset=utf-8", got)
			}
		})
	}
	if got := do(t, ClientJS(), http.MethodPut, "/wssgate.js", nil).StatusCode; got != http.StatusMethodNotAllowed {
		t.Errorf("PUT: got status %d, want %d", got, http.StatusMethodNotAllowed)
	}
}

// TestOverTLS serves the handler from a real TLS server (HTTP/2 enabled) and
// fetches the page and the client through it.
func TestOverTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(Handler())
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	for _, path := range []string{"/", "/wssgate.js"} {
		t.Run(path, func(t *testing.T) {
			resp, err := srv.Client().Get(srv.URL + path)
			if err != nil {
				t.Fatalf("get %s: %v", path, err)
			}
			defer resp.Body.Close()
			body := readBody(t, resp)
			if resp.StatusCode != http.StatusOK || body == "" {
				t.Fatalf("got status %d with %d bytes, want 200 with a body", resp.StatusCode, len(body))
			}
			if resp.ProtoMajor != 2 {
				t.Errorf("got %s, want HTTP/2", resp.Proto)
			}
			host := strings.TrimPrefix(srv.URL, "https://")
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "wss://"+host) {
				t.Errorf("got CSP %q, want wss://%s", csp, host)
			}
		})
	}
}
