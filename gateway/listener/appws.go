package listener

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gobwas/ws"

	"github.com/wssgate/wssgate/gateway/auth"
	"github.com/wssgate/wssgate/gateway/session"
)

// serveWS upgrades a browser (or other app client) to the JSON protocol.
func (a *App) serveWS(w http.ResponseWriter, r *http.Request) {
	conn, info, grant, ok := a.upgrade(w, r, true)
	if !ok {
		return
	}
	// The session gets a goroutine of its own: net/http's connection state
	// (request, buffers, this goroutine's stack) is freed while it lives.
	a.Upgraded(conn, &info, grant, func() { a.Counters.Open.Add(-1) })
}

// upgrade admits and upgrades r; when it reports true the connection
// holds one Open slot, which the session's done gives back.
// withAuth runs the Authenticate hook (/ws; a Socket.IO client
// authenticates in its CONNECT packet instead).
func (a *App) upgrade(w http.ResponseWriter, r *http.Request, withAuth bool) (net.Conn, session.Info, *auth.Grant, bool) {
	f := Failure{Remote: r.RemoteAddr, Stage: "upgrade"}
	if r.TLS != nil {
		f.ServerName = r.TLS.ServerName
	}
	if !a.admit(w, r, &f) {
		return nil, session.Info{}, nil, false
	}
	var grant *auth.Grant
	ok := true
	if withAuth {
		grant, ok = a.authenticate(w, r, &f)
	}
	if !ok {
		a.Counters.Open.Add(-1)
		return nil, session.Info{}, nil, false
	}
	conn, rw, _, err := ws.UpgradeHTTP(r, w)
	if err != nil {
		a.Counters.Open.Add(-1)
		f.Reason, f.Message = NotWebSocket, err.Error()
		a.Counters.fail(a.Log, f)
		return nil, session.Info{}, nil, false
	}
	// Frames a client sent without waiting for the 101 are in net/http's
	// buffer: the session reads them first.
	var early []byte
	if n := rw.Reader.Buffered(); n > 0 {
		early, _ = rw.Reader.Peek(n)
		early = bytes.Clone(early)
	}
	info := a.sessionInfo(r, conn)
	if grant != nil {
		info.Identity, info.AuthMethod = grant.Identity, string(grant.Method)
	}
	_ = conn.SetDeadline(time.Time{})
	a.Counters.HandshakesOK.Add(1)
	return withEarlyData(conn, early), info, grant, true
}

// authenticate runs the Authenticate hook and answers a refusal: 401 with
// WWW-Authenticate (RFC 6750), or the session check's 403, or 503. The
// failure is recorded as unauthenticated with its sub-reason; the
// response and the log never contain the token.
func (a *App) authenticate(w http.ResponseWriter, r *http.Request, f *Failure) (*auth.Grant, bool) {
	if a.Authenticate == nil {
		return nil, true
	}
	grant, err := a.Authenticate(r)
	if err == nil {
		return grant, true
	}
	sub := auth.Reason(err)
	if sub == "" {
		sub = auth.ReasonCheckUnavailable // not an *auth.Error: refused as unavailable (fail closed)
	}
	status := auth.HTTPStatus(err)
	f.Stage, f.Reason, f.SubReason = "auth", Unauthenticated, string(sub)
	f.Message = string(sub) + ": " + err.Error()
	a.Counters.fail(a.Log, *f)
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", auth.WWWAuthenticate(err))
	}
	http.Error(w, sub.Description(), status)
	return nil, false
}

// admit checks what may refuse an upgrade before it happens (protocol,
// origin, connection cap) and answers the refusal; when it admits, the
// request holds one Open slot.
func (a *App) admit(w http.ResponseWriter, r *http.Request, f *Failure) bool {
	if r.ProtoMajor != 1 {
		f.Reason, f.Message = NotWebSocket, "WebSocket over HTTP/2 is not supported"
		a.Counters.fail(a.Log, *f)
		http.Error(w, "WebSocket needs HTTP/1.1", http.StatusHTTPVersionNotSupported)
		return false
	}
	origin := r.Header.Get("Origin")
	if !a.originAllowed(origin, r.Host) {
		f.Reason, f.Message = BadOrigin, fmt.Sprintf("origin %q not allowed for host %q", origin, r.Host)
		a.Counters.fail(a.Log, *f)
		http.Error(w, fmt.Sprintf("origin %s is not allowed to open %s", origin, a.WSPath), http.StatusForbidden)
		return false
	}
	if msg := strictUpgrade(r); msg != "" {
		f.Reason, f.Message = NotWebSocket, msg
		a.Counters.fail(a.Log, *f)
		w.Header().Set("Connection", "close")
		http.Error(w, "bad request: "+msg, http.StatusBadRequest)
		return false
	}
	if n := a.Counters.Open.Add(1); a.Limits.MaxConnections > 0 && n > int64(a.Limits.MaxConnections) {
		a.Counters.Open.Add(-1)
		f.Reason, f.Message = TooManyConnections, fmt.Sprintf("listener at max_connections (%d)", a.Limits.MaxConnections)
		a.Counters.fail(a.Log, *f)
		http.Error(w, "listener at max_connections", http.StatusServiceUnavailable)
		return false
	}
	return true
}

// strictUpgrade returns why an upgrade request is malformed in ways
// net/http lets through ("" if it is not): net/http already refuses
// control bytes in header values (400) and lets Transfer-Encoding win
// over Content-Length; an upgrade carries no body and one key.
func strictUpgrade(r *http.Request) string {
	switch {
	case len(r.Header.Values("Sec-Websocket-Key")) > 1:
		return "duplicate Sec-WebSocket-Key"
	case len(r.TransferEncoding) > 0:
		return "Transfer-Encoding on an upgrade request"
	case r.ContentLength > 0:
		return "a body on an upgrade request"
	}
	return ""
}

// sessionInfo describes the session of an upgraded request.
func (a *App) sessionInfo(r *http.Request, conn net.Conn) session.Info {
	info := session.Info{
		Listener:    a.Name,
		Role:        session.RoleApp,
		RemoteAddr:  r.RemoteAddr,
		LocalAddr:   conn.LocalAddr().String(),
		ConnectedAt: time.Now(),
		Origin:      r.Header.Get("Origin"),
		UserAgent:   r.UserAgent(),
	}
	if r.TLS != nil {
		fillTLS(&info, *r.TLS)
	}
	if a.CertGeneration != nil {
		info.CertGeneration = a.CertGeneration()
	}
	return info
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
