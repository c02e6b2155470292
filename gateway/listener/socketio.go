package listener

import (
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/wssgate/wssgate/gateway/auth"
	"github.com/wssgate/wssgate/gateway/session"
)

// socketIO is the handler of SocketIOPath: the gateway's Socket.IO server,
// or a 404 that says Socket.IO is disabled and how to enable it.
func (a *App) socketIO() http.Handler {
	if a.SocketIO != nil {
		return a.SocketIO
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.SocketIOFailure(r, SocketIODisabled.String(), "request for "+r.URL.Path+" while app.socketio.enabled is false")
		http.Error(w, "Socket.IO is disabled on this gateway: set app.socketio.enabled: true (or remove the key) to serve socket.io-client at "+a.SocketIOPath, http.StatusNotFound)
	})
}

// SocketIOFailure counts, remembers and logs one refused Socket.IO request
// or connect; reason is a Reason's name (socketio.Reason* match them).
func (a *App) SocketIOFailure(r *http.Request, reason, msg string) {
	f := Failure{Remote: r.RemoteAddr, Stage: "socketio", Message: msg}
	if r.TLS != nil {
		f.ServerName = r.TLS.ServerName
	}
	var ok bool
	if f.Reason, ok = ReasonNamed(reason); !ok {
		f.Reason, f.Message = BadRequest, reason+": "+msg
	}
	if f.Reason == Unauthenticated {
		f.Stage = "auth"
		if sub, _, ok := strings.Cut(msg, ":"); ok && slices.Contains(auth.SubReasons(), auth.SubReason(sub)) {
			f.SubReason = sub
		}
	}
	a.Counters.fail(a.Log, f)
}

// OriginAllowed applies the listener's Origin rules (allowed_origins, by
// default the request's own host) to r; no Origin header passes.
func (a *App) OriginAllowed(r *http.Request) bool {
	return a.originAllowed(r.Header.Get("Origin"), r.Host)
}

// ServeSocketIOWebSocket upgrades a Socket.IO websocket request that the
// Socket.IO server has checked (EIO, sid, transport) as /ws upgrades are
// (HTTP/1.1, origin, max_connections, failures by reason) and hands the
// connection to SocketIOUpgraded with the request, whose query names the
// Engine.IO session.
func (a *App) ServeSocketIOWebSocket(w http.ResponseWriter, r *http.Request) {
	conn, info, _, ok := a.upgrade(w, r, false) // Socket.IO authenticates at CONNECT
	if !ok {
		return
	}
	info.Transport = "socketio-websocket"
	a.SocketIOUpgraded(conn, &info, r, func() { a.Counters.Open.Add(-1) })
}

// SocketIOUpgradedFunc starts the transport session of an upgraded
// Socket.IO connection; done is called when it has ended.
type SocketIOUpgradedFunc func(conn net.Conn, info *session.Info, r *http.Request, done func())

// SocketIOInfo describes the client of a Socket.IO handshake request, as
// sessionInfo does for /ws (Identity and Transport are the caller's).
func (a *App) SocketIOInfo(r *http.Request) session.Info {
	info := session.Info{
		Listener:    a.Name,
		Role:        session.RoleApp,
		RemoteAddr:  r.RemoteAddr,
		ConnectedAt: time.Now(),
		Origin:      r.Header.Get("Origin"),
		UserAgent:   r.UserAgent(),
	}
	if la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		info.LocalAddr = la.String()
	}
	if r.TLS != nil {
		fillTLS(&info, *r.TLS)
	}
	if a.CertGeneration != nil {
		info.CertGeneration = a.CertGeneration()
	}
	return info
}
