package listener

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/wssgate/wssgate/gateway/session"
)

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
	HTTP     HTTPLimits // deadlines of plain requests and proxied WebSockets (apphttp.go)
	Proxied  Proxied    // the root handler's hijacked WebSockets (proxied.go)

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
		Handler:           a.withDeadlines(mux),
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

// Close stops accepting and closes idle HTTP connections, then the proxied
// WebSockets; sessions on WSPath are not touched (the gateway closes them
// with 1001).
func (a *App) Close(ctx context.Context) error {
	defer a.Proxied.closeAll()
	return a.srv.Shutdown(ctx)
}
