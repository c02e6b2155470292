package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"time"
)

//go:embed static
var staticFS embed.FS

// asset is one embedded file with everything needed to serve it.
type asset struct {
	name        string // file name, for http.ServeContent
	contentType string
	etag        string // strong ETag of body
	body        []byte
}

// assets maps a request path to its asset. "/" is the demo page.
var assets = mustLoadAssets(map[string]string{
	"/":           "index.html",
	"/app.js":     "app.js",
	"/app.css":    "app.css",
	"/wssgate.js": "wssgate.js",
})

var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
}

// mustLoadAssets reads the embedded files named by routes. A missing file is a
// build defect, so it panics (at package initialisation, caught by every test).
func mustLoadAssets(routes map[string]string) map[string]*asset {
	out := make(map[string]*asset, len(routes))
	for route, name := range routes {
		a, err := loadAsset(name)
		if err != nil {
			panic(err)
		}
		out[route] = a
	}
	return out
}

func loadAsset(name string) (*asset, error) {
	body, err := fs.ReadFile(staticFS, path.Join("static", name))
	if err != nil {
		return nil, fmt.Errorf("read asset %s: %w", name, err)
	}
	ctype, ok := contentTypes[path.Ext(name)]
	if !ok {
		return nil, fmt.Errorf("read asset %s: no content type for %q", name, path.Ext(name))
	}
	sum := sha256.Sum256(body)
	return &asset{
		name:        name,
		contentType: ctype,
		etag:        `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`,
		body:        body,
	}, nil
}

// Handler serves the built-in demo page at "/" with its app.js and app.css, and
// the browser client at "/wssgate.js". Only GET and HEAD are allowed (405
// otherwise); any other path is 404. Responses carry Content-Type, an ETag
// (conditional requests get 304), Cache-Control: no-cache,
// X-Content-Type-Options: nosniff and a Content-Security-Policy that allows only
// same-origin scripts, styles and connections.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := assets[r.URL.Path]
		if !ok {
			setSecurityHeaders(w, r)
			http.NotFound(w, r)
			return
		}
		serveAsset(w, r, a)
	})
}

// ClientJS serves the browser client (the /wssgate.js source) at whatever path
// it is mounted on, for muxes where "/" is a static directory or a reverse proxy.
// Method handling and headers are as for Handler.
func ClientJS() http.Handler {
	a := assets["/wssgate.js"]
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serveAsset(w, r, a)
	})
}

func serveAsset(w http.ResponseWriter, r *http.Request, a *asset) {
	setSecurityHeaders(w, r)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", a.etag)
	// A zero modtime: no Last-Modified; the ETag drives conditional requests.
	http.ServeContent(w, r, a.name, time.Time{}, bytes.NewReader(a.body))
}
