package web

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path"
	"strings"
	"syscall"
)

// Static serves the files under dir (app.static_dir) at "/", safely:
//
//   - files are opened through os.OpenRoot, so neither ".." nor a symlink
//     can reach outside dir; a symlink inside dir to a file inside dir is
//     followed (deployments often link to versioned files); the dotfile rule
//     below applies to the requested path, not to a link's target;
//   - a path with any segment starting with "." (".env", ".git/config",
//     "..") is refused, except a first segment ".well-known" (RFC 8615:
//     security.txt, app-site associations), whose own dotfiles stay refused;
//   - a directory serves its index.html ("/docs" redirects to "/docs/" as
//     http.FileServer does), there are no listings;
//   - only regular files are served (no FIFOs or devices);
//   - every refusal is 404, so that nothing tells what exists.
//
// GET and HEAD only (405 with Allow otherwise). http.ServeContent sets
// Content-Type (by extension, else sniffed), Last-Modified, and handles
// Range and If-Modified-Since; responses carry X-Content-Type-Options:
// nosniff. The root's descriptor stays open for the handler's lifetime.
// The handler is safe for concurrent use.
func Static(dir string) (http.Handler, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open app.static_dir %s: %w", dir, err)
	}
	return &static{root: root}, nil
}

type static struct {
	root *os.Root
}

func (s *static) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	name, ok := staticName(r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	fi, err := s.root.Stat(name)
	if err != nil {
		s.openFailed(w, r, err)
		return
	}
	if fi.IsDir() {
		s.serveDir(w, r, name)
		return
	}
	if strings.HasSuffix(r.URL.Path, "/") {
		http.NotFound(w, r) // a file named as a directory
		return
	}
	s.serveFile(w, r, name, fi)
}

// staticName maps a URL path to a name inside the root: "." for "/", no
// leading slash. It refuses paths that do not start with "/", hold a NUL
// or a segment starting with "." (see Static).
func staticName(p string) (string, bool) {
	if !strings.HasPrefix(p, "/") || strings.ContainsRune(p, 0) {
		return "", false
	}
	for i, seg := range strings.Split(p[1:], "/") {
		if strings.HasPrefix(seg, ".") && !(i == 0 && seg == ".well-known") {
			return "", false
		}
	}
	name := strings.TrimPrefix(path.Clean(p), "/")
	if name == "" {
		name = "."
	}
	return name, true
}

func (s *static) serveDir(w http.ResponseWriter, r *http.Request, dir string) {
	index := path.Join(dir, "index.html")
	fi, err := s.root.Stat(index)
	if err != nil {
		s.openFailed(w, r, err)
		return
	}
	if !strings.HasSuffix(r.URL.Path, "/") {
		// Relative links in index.html need the trailing slash.
		target := path.Base(r.URL.Path) + "/"
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, target, http.StatusMovedPermanently)
		return
	}
	s.serveFile(w, r, index, fi)
}

func (s *static) serveFile(w http.ResponseWriter, r *http.Request, name string, fi fs.FileInfo) {
	if !fi.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}
	f, err := s.root.Open(name)
	if err != nil {
		s.openFailed(w, r, err)
		return
	}
	defer f.Close()
	// Stat again through the open file: what is served is what was opened.
	fi, err = f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}
	http.ServeContent(w, r, fi.Name(), fi.ModTime(), f)
}

// openFailed answers 503 when the process is out of file descriptors
// (so that operators see it), else 404: missing, forbidden, outside the
// root or a broken link look the same.
func (s *static) openFailed(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
		http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
		return
	}
	http.NotFound(w, r)
}
