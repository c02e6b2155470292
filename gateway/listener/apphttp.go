package listener

import (
	"net/http"
	"strings"
	"time"
)

// HTTPLimits bound the app listener's plain HTTP requests and the
// WebSockets its root handler hijacks (the reverse proxy's upgrades).
// Zero values disable the bound.
type HTTPLimits struct {
	// ReadTimeout and WriteTimeout bound one plain request (app.http): its
	// body and its response, counted from the end of its headers.
	ReadTimeout, WriteTimeout time.Duration
	// IdleTimeout closes a proxied WebSocket that moved no byte either way
	// for this long (the listener's limits.idle_timeout).
	IdleTimeout time.Duration
	// ProxiedWriteTimeout bounds one write to a proxied WebSocket's client
	// (the listener's limits.write_timeout).
	ProxiedWriteTimeout time.Duration
}

// withDeadlines gives every request on the app port deadlines that bound
// the whole request, set per request through http.ResponseController
// (http.Server's own ReadTimeout and WriteTimeout would also hit the
// WebSockets, which have their own timeouts): an upgrade on ws_path clears
// them once upgraded (serveWS), a WebSocket the root handler hijacks gets
// the idle timeout instead (proxied.go). Deadlines set on an HTTP/2 stream
// bound that stream.
func (a *App) withDeadlines(mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		now := time.Now()
		if d := a.HTTP.ReadTimeout; d > 0 {
			_ = rc.SetReadDeadline(now.Add(d))
		}
		if d := a.HTTP.WriteTimeout; d > 0 {
			_ = rc.SetWriteDeadline(now.Add(d))
		}
		if isUpgrade(r) && !a.ownUpgrade(r) {
			a.serveProxiedUpgrade(w, r, mux)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// ownUpgrade reports whether the listener upgrades r itself (/ws, or a
// Socket.IO client's WebSocket): those are sessions, not proxied.
func (a *App) ownUpgrade(r *http.Request) bool {
	if r.Method != http.MethodGet {
		return false
	}
	return r.URL.Path == a.WSPath || a.SocketIO != nil && strings.HasPrefix(r.URL.Path, a.SocketIOPath)
}

// isUpgrade reports whether r asks to switch protocols (HTTP/1.1
// "Connection: upgrade" with an Upgrade header), as a reverse proxy would
// pass it on.
func isUpgrade(r *http.Request) bool {
	return r.ProtoMajor == 1 && strings.TrimSpace(r.Header.Get("Upgrade")) != "" &&
		hasToken(r.Header["Connection"], "upgrade")
}

// hasToken reports whether a comma-separated header holds token (any case).
func hasToken(values []string, token string) bool {
	for _, v := range values {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}
