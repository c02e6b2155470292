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

	"github.com/wssgate/wssgate/gateway/auth"
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
	Limits           Limits // checked at accept, before TLS; MaxConnections also caps sessions
	CertGeneration   func() uint64
	// Authenticate, if set, decides after admission and before the upgrade
	// who the client is (app.auth); an error refuses the upgrade with
	// auth.HTTPStatus (401 with WWW-Authenticate, 403 or 503). Nil: every
	// client is anonymous, with the protocol's listener-wide lists.
	Authenticate func(r *http.Request) (*auth.Grant, error)
	// Upgraded starts the session of an upgraded connection on a goroutine
	// of its own and returns; done is called when the session has ended.
	// grant is what Authenticate returned (nil without Authenticate).
	Upgraded func(conn net.Conn, info *session.Info, grant *auth.Grant, done func())
	// SocketIO serves SocketIOPath (app.socketio); nil: Socket.IO is
	// disabled and the path answers a 404 that says so.
	SocketIO     http.Handler
	SocketIOPath string
	// SocketIOUpgraded starts the WebSocket transport of a Socket.IO
	// client (see ServeSocketIOWebSocket).
	SocketIOUpgraded SocketIOUpgradedFunc
	Log              *slog.Logger
	Counters         *Counters
	Coverage         *Coverage // whose Config wraps TLS; nil: no coverage check

	ln  net.Listener
	srv *http.Server
}

// Listen binds addr. Call Serve next.
func (a *App) Listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen app %s: %w", addr, err)
	}
	a.ln = newLimitListener(ln, a.Limits, a.Counters, func(f Failure) { a.Counters.fail(a.Log, f) }, true)
	a.Counters.Address = ln.Addr().String()
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+a.WSPath, a.serveWS)
	mux.HandleFunc("GET /.well-known/wssgate", a.serveWellKnown)
	mux.Handle("GET /wssgate.js", a.ClientJS)
	if a.SocketIOPath != "" {
		mux.Handle(a.SocketIOPath, a.socketIO())
	}
	mux.Handle("/", a.Root)
	a.srv = &http.Server{
		Handler:           a.refuseOr(mux),
		ConnContext:       refusedContext,
		TLSConfig:         a.TLS,
		ReadHeaderTimeout: a.HandshakeTimeout, // also bounds the TLS handshake
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          log.New(errorLog{a}, "", 0),
		ConnState:         a.connState,
	}
	return nil
}

// refuseOr answers 503 on connections accepted over a limit (see
// limitListener) and serves next on the others.
func (a *App) refuseOr(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := refusedOf(r.Context())
		if rc == nil {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Connection", "close")
		w.Header().Set("Retry-After", "1")
		http.Error(w, "server busy: "+rc.reason.String(), http.StatusServiceUnavailable)
		if r.ProtoMajor == 2 { // no Connection: close in HTTP/2
			if f, ok := w.(http.Flusher); ok {
				f.Flush()
			}
			rc.Close()
		}
	})
}

// Addr returns the bound address.
func (a *App) Addr() net.Addr { return a.ln.Addr() }

// Serve serves HTTPS until Close.
func (a *App) Serve() error {
	err := a.srv.Serve(tls.NewListener(plainHTTP(a.ln, a), a.TLS))
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
