package listener

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gobwas/ws"

	"github.com/wssgate/wssgate/gateway/session"
)

// Endpoints are the public coordinates a page needs; Host is filled in
// from each request unless PublicHost is set.
type Endpoints struct {
	PublicHost string // overrides the request's host
	AppPort    int
	WSPath     string
	DevicePort int
	DevicePath string
}

// WellKnown is the JSON document at /.well-known/wssgate.
type WellKnown struct {
	AppURL      string `json:"app_url"`
	AppWSURL    string `json:"app_ws_url"`
	DeviceWSURL string `json:"device_ws_url"`
}

// For returns the endpoints as seen by a client that asked for host.
func (e Endpoints) For(host string) WellKnown {
	if e.PublicHost != "" {
		host = e.PublicHost
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	hp := func(port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }
	return WellKnown{
		AppURL:      "https://" + hp(e.AppPort) + "/",
		AppWSURL:    "wss://" + hp(e.AppPort) + e.WSPath,
		DeviceWSURL: "wss://" + hp(e.DevicePort) + e.DevicePath,
	}
}

// App is the HTTPS listener for web apps and browsers.
type App struct {
	Name             string
	TLS              *tls.Config // from certs.Store.TLSConfig
	WSPath           string
	Root             http.Handler // "/": demo page, static files or reverse proxy
	ClientJS         http.Handler // "/wssgate.js"
	Endpoints        Endpoints
	AllowedOrigins   []string // empty: same host only; "*": any
	HandshakeTimeout time.Duration
	MaxConnections   int
	CertGeneration   func() uint64
	// Upgraded starts the session of an upgraded connection on a goroutine
	// of its own and returns; done is called when the session has ended.
	Upgraded func(conn net.Conn, info *session.Info, done func())
	Log      *slog.Logger
	Counters *Counters

	ln  net.Listener
	srv *http.Server
}

// Listen binds addr. Call Serve next.
func (a *App) Listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen app %s: %w", addr, err)
	}
	a.ln = ln
	a.Counters.Address = ln.Addr().String()
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+a.WSPath, a.serveWS)
	mux.HandleFunc("GET /.well-known/wssgate", a.serveWellKnown)
	mux.Handle("GET /wssgate.js", a.ClientJS)
	mux.Handle("/", a.Root)
	a.srv = &http.Server{
		Handler:           mux,
		TLSConfig:         a.TLS,
		ReadHeaderTimeout: a.HandshakeTimeout, // also bounds the TLS handshake
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          log.New(errorLog{a}, "", 0),
	}
	return nil
}

// Addr returns the bound address.
func (a *App) Addr() net.Addr { return a.ln.Addr() }

// Serve serves HTTPS until Close.
func (a *App) Serve() error {
	err := a.srv.Serve(tls.NewListener(a.ln, a.TLS))
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Close stops accepting and closes idle HTTP connections; hijacked
// WebSocket sessions are not touched (the gateway closes them with 1001).
func (a *App) Close(ctx context.Context) error {
	return a.srv.Shutdown(ctx)
}

func (a *App) serveWellKnown(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	_ = json.NewEncoder(w).Encode(a.Endpoints.For(r.Host))
}

// serveWS upgrades a browser (or other app client) to the JSON protocol.
func (a *App) serveWS(w http.ResponseWriter, r *http.Request) {
	f := Failure{Remote: r.RemoteAddr, Stage: "upgrade"}
	if r.TLS != nil {
		f.ServerName = r.TLS.ServerName
	}
	if r.ProtoMajor != 1 {
		f.Reason, f.Message = NotWebSocket, "WebSocket over HTTP/2 is not supported"
		a.Counters.fail(a.Log, f)
		http.Error(w, "WebSocket needs HTTP/1.1", http.StatusHTTPVersionNotSupported)
		return
	}
	origin := r.Header.Get("Origin")
	if !a.originAllowed(origin, r.Host) {
		f.Reason, f.Message = BadOrigin, fmt.Sprintf("origin %q not allowed for host %q", origin, r.Host)
		a.Counters.fail(a.Log, f)
		http.Error(w, fmt.Sprintf("origin %s is not allowed to open %s", origin, a.WSPath), http.StatusForbidden)
		return
	}
	if n := a.Counters.Open.Add(1); a.MaxConnections > 0 && n > int64(a.MaxConnections) {
		a.Counters.Open.Add(-1)
		f.Reason, f.Message = TooManyConnections, fmt.Sprintf("listener at max_connections (%d)", a.MaxConnections)
		a.Counters.fail(a.Log, f)
		http.Error(w, "listener at max_connections", http.StatusServiceUnavailable)
		return
	}
	started := false // from here on this request holds one Open slot
	defer func() {
		if !started {
			a.Counters.Open.Add(-1)
		}
	}()
	conn, rw, _, err := ws.UpgradeHTTP(r, w)
	if err != nil {
		f.Reason, f.Message = NotWebSocket, err.Error()
		a.Counters.fail(a.Log, f)
		return
	}
	// Frames a client sent without waiting for the 101 are in net/http's
	// buffer: the session reads them first.
	var early []byte
	if n := rw.Reader.Buffered(); n > 0 {
		early, _ = rw.Reader.Peek(n)
		early = bytes.Clone(early)
	}
	info := session.Info{
		Listener:    a.Name,
		Role:        session.RoleApp,
		RemoteAddr:  r.RemoteAddr,
		LocalAddr:   conn.LocalAddr().String(),
		ConnectedAt: time.Now(),
		Origin:      origin,
		UserAgent:   r.UserAgent(),
	}
	if r.TLS != nil {
		fillTLS(&info, *r.TLS)
	}
	if a.CertGeneration != nil {
		info.CertGeneration = a.CertGeneration()
	}
	_ = conn.SetDeadline(time.Time{})
	a.Counters.HandshakesOK.Add(1)
	started = true
	// The session gets a goroutine of its own: net/http's connection state
	// (request, buffers, this goroutine's stack) is freed while it lives.
	a.Upgraded(withEarlyData(conn, early), &info, func() { a.Counters.Open.Add(-1) })
}

// errorLog receives net/http's own log lines: failed TLS handshakes
// become recorded failures like the device port's; the rest is debug.
type errorLog struct{ a *App }

func (e errorLog) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(p))
	rest, ok := strings.CutPrefix(line, "http: TLS handshake error from ")
	if !ok {
		e.a.Log.Debug(line)
		return len(p), nil
	}
	remote, reason, _ := strings.Cut(rest, ": ")
	f := Failure{Remote: remote, Stage: "tls", Reason: TLSFailure, Message: reason}
	switch {
	case strings.Contains(reason, "HTTP request to an HTTPS server"):
		f.Reason, f.Message = NotTLS, "client sent plain HTTP to the TLS port: use https:// and wss://, not http:// or ws://"
	case strings.Contains(reason, "timeout"):
		f.Reason = Timeout
	case strings.Contains(reason, "EOF"):
		f.Message = "connection closed during the TLS handshake"
	}
	e.a.Counters.fail(e.a.Log, f)
	return len(p), nil
}

// originAllowed: no Origin (non-browser) passes; otherwise the list, or by
// default the request's own host.
func (a *App) originAllowed(origin, host string) bool {
	if origin == "" {
		return true
	}
	if len(a.AllowedOrigins) == 0 {
		u, err := url.Parse(origin)
		return err == nil && u.Scheme == "https" && strings.EqualFold(u.Host, host)
	}
	if slices.Contains(a.AllowedOrigins, "*") {
		return true
	}
	return slices.ContainsFunc(a.AllowedOrigins, func(o string) bool {
		return strings.EqualFold(strings.TrimSuffix(o, "/"), origin)
	})
}
