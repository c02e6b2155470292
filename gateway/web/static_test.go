package web

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// staticTree lays out a static_dir next to a private folder outside it:
// dir/{index.html, app.css, app.js, data.json, a.txt, .env, .git/config,
// sub/index.html, sub/.hidden, empty/, inner-link.txt → a.txt,
// escape.txt → ../private/key.pem, escape-dir → ../private,
// .well-known/security.txt, pipe (a FIFO)}.
func staticTree(t *testing.T) string {
	t.Helper()
	base := t.TempDir()
	dir, private := filepath.Join(base, "public"), filepath.Join(base, "private")
	files := map[string]string{
		"public/index.html":               "<h1>home</h1>",
		"public/app.css":                  "body{}",
		"public/app.js":                   "console.log(1)",
		"public/data.json":                `{"a":1}`,
		"public/a.txt":                    "0123456789",
		"public/.env":                     "SECRET=1",
		"public/.git/config":              "[core]",
		"public/sub/index.html":           "<h1>sub</h1>",
		"public/sub/.hidden":              "hidden",
		"public/.well-known/security.txt": "Contact: mailto:sec@example.com",
		"public/.well-known/.x":           "x",
		"private/key.pem":                 "PRIVATE KEY",
	}
	for name, body := range files {
		p := filepath.Join(base, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Mkdir(filepath.Join(dir, "empty"), 0o755))
	must(os.Symlink("a.txt", filepath.Join(dir, "inner-link.txt")))
	must(os.Symlink(filepath.Join(private, "key.pem"), filepath.Join(dir, "escape.txt")))
	must(os.Symlink("../private", filepath.Join(dir, "escape-dir")))
	must(syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644))
	return dir
}

func TestStatic(t *testing.T) {
	h, err := Static(staticTree(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, method, path string
		status             int
		ctype, body        string
	}{
		{"root serves index.html", "GET", "/", 200, "text/html; charset=utf-8", "<h1>home</h1>"},
		{"index by name", "GET", "/index.html", 200, "text/html; charset=utf-8", "<h1>home</h1>"},
		{"css", "GET", "/app.css", 200, "text/css; charset=utf-8", "body{}"},
		{"js", "GET", "/app.js", 200, "text/javascript; charset=utf-8", "console.log(1)"},
		{"json", "GET", "/data.json", 200, "application/json", `{"a":1}`},
		{"head", "HEAD", "/a.txt", 200, "text/plain; charset=utf-8", ""},
		{"dir with index", "GET", "/sub/", 200, "text/html; charset=utf-8", "<h1>sub</h1>"},
		{"dir without slash redirects", "GET", "/sub?x=1", 301, "", ""},
		{"dir without index", "GET", "/empty/", 404, "", "404"},
		{"dir without index nor slash", "GET", "/empty", 404, "", "404"},
		{"dotfile", "GET", "/.env", 404, "", "404"},
		{"dot folder", "GET", "/.git/config", 404, "", "404"},
		{"nested dotfile", "GET", "/sub/.hidden", 404, "", "404"},
		{"symlink out of the folder", "GET", "/escape.txt", 404, "", "404"},
		{"through a symlinked dir out of the folder", "GET", "/escape-dir/key.pem", 404, "", "404"},
		{"symlink inside the folder is followed", "GET", "/inner-link.txt", 200, "text/plain; charset=utf-8", "0123456789"},
		{"dot-dot traversal", "GET", "/../private/key.pem", 404, "", "404"},
		{"dot-dot inside", "GET", "/sub/../../private/key.pem", 404, "", "404"},
		{"dot-dot that stays inside is refused too", "GET", "/sub/../a.txt", 404, "", "404"},
		{"encoded dot-dot", "GET", "/%2e%2e/private/key.pem", 404, "", "404"},
		{"file as a directory", "GET", "/a.txt/", 404, "", "404"},
		{"missing", "GET", "/nope.html", 404, "", "404"},
		{"fifo", "GET", "/pipe", 404, "", "404"},
		{"well-known", "GET", "/.well-known/security.txt", 200, "text/plain; charset=utf-8", "Contact:"},
		{"dotfile in well-known", "GET", "/.well-known/.x", 404, "", "404"},
		{"post", "POST", "/a.txt", 405, "", "Method Not Allowed"},
		{"delete", "DELETE", "/", 405, "", "Method Not Allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := do(t, h, tt.method, tt.path, nil)
			body := readBody(t, resp)
			if resp.StatusCode != tt.status {
				t.Fatalf("got status %d (%q), want %d", resp.StatusCode, body, tt.status)
			}
			if tt.ctype != "" && resp.Header.Get("Content-Type") != tt.ctype {
				t.Errorf("got Content-Type %q, want %q", resp.Header.Get("Content-Type"), tt.ctype)
			}
			if !strings.Contains(body, tt.body) {
				t.Errorf("got body %q, want it to contain %q", body, tt.body)
			}
			if strings.Contains(body, "PRIVATE") || strings.Contains(body, "SECRET") {
				t.Errorf("body leaks a private file: %q", body)
			}
			if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Error("no X-Content-Type-Options: nosniff")
			}
			if tt.status == 405 && resp.Header.Get("Allow") != "GET, HEAD" {
				t.Errorf("got Allow %q, want GET, HEAD", resp.Header.Get("Allow"))
			}
			if tt.status == 301 && resp.Header.Get("Location") != "/sub/?x=1" {
				t.Errorf("got Location %q, want /sub/?x=1", resp.Header.Get("Location"))
			}
		})
	}
}

func TestStaticRangeAndConditional(t *testing.T) {
	dir := staticTree(t)
	mtime := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(dir, "a.txt"), mtime, mtime); err != nil {
		t.Fatal(err)
	}
	h, err := Static(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h) // a real socket: what a browser gets
	t.Cleanup(srv.Close)
	get := func(header http.Header) (*http.Response, string) {
		req, err := http.NewRequest("GET", srv.URL+"/a.txt", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header = header
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := get(http.Header{"Range": {"bytes=2-4"}})
	if resp.StatusCode != http.StatusPartialContent || body != "234" || resp.Header.Get("Content-Range") != "bytes 2-4/10" {
		t.Fatalf("range: got %d %q %q, want 206 \"234\" bytes 2-4/10", resp.StatusCode, body, resp.Header.Get("Content-Range"))
	}
	resp, _ = get(http.Header{"If-Modified-Since": {mtime.Format(http.TimeFormat)}})
	if resp.StatusCode != http.StatusNotModified {
		t.Fatalf("If-Modified-Since: got %d, want 304", resp.StatusCode)
	}
	resp, body = get(http.Header{"If-Modified-Since": {mtime.Add(-time.Hour).Format(http.TimeFormat)}})
	if resp.StatusCode != 200 || body != "0123456789" || resp.Header.Get("Last-Modified") != mtime.Format(http.TimeFormat) {
		t.Fatalf("modified since: got %d %q Last-Modified %q", resp.StatusCode, body, resp.Header.Get("Last-Modified"))
	}
}

// TestStaticRawTraversal sends request lines that no URL parser would
// build, on a real connection.
func TestStaticRawTraversal(t *testing.T) {
	h, err := Static(staticTree(t))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	for _, target := range []string{"/../private/key.pem", "/escape-dir/../escape-dir/key.pem", "/sub/%2e%2e/%2e%2e/private/key.pem", "/./.env"} {
		conn, err := net.DialTimeout("tcp", srv.Listener.Addr().String(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.WriteString(conn, "GET "+target+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		b, _ := io.ReadAll(resp.Body)
		conn.Close()
		if resp.StatusCode != 404 || strings.Contains(string(b), "PRIVATE") {
			t.Errorf("%s: got %d %q, want 404", target, resp.StatusCode, b)
		}
	}
}

func TestStaticMissingDir(t *testing.T) {
	_, err := Static(filepath.Join(t.TempDir(), "nope"))
	if err == nil || !strings.Contains(err.Error(), "app.static_dir") {
		t.Fatalf("got %v, want an error naming app.static_dir", err)
	}
}
