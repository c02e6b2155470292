package socketio

import (
	"bytes"
	"fmt"
	"net/http"
	"time"

	"github.com/gobwas/ws"
)

// Conn is the outbound side of a WebSocket transport: the seam where the
// gateway's session writer can replace the Server's own. *session.Session
// of package gateway/session has this method set.
type Conn interface {
	// Send queues one complete WebSocket frame (header included, as
	// wire.Frame builds it). false: not queued, because the connection is
	// closing or its byte-bounded queue overflowed (then it closes
	// itself, counted). Send must not call back into the WebSocket.
	Send(frame []byte) bool
	// Close sends a close frame with code and reason and ends the
	// connection; idempotent.
	Close(code ws.StatusCode, reason string)
}

// WebSocket binds one WebSocket connection to an Engine.IO session. The
// connection's reader feeds it every message and calls Closed at the end.
type WebSocket struct {
	sess *session
	conn Conn
}

// probeData is the payload of the upgrade probe ping and pong.
var probeData = []byte("probe")

// Receive handles one WebSocket message. It is called by one reader at a
// time, in arrival order. An error means the connection should close (the
// session has already been told).
func (w *WebSocket) Receive(binary bool, data []byte) error {
	ss := w.sess
	p := EIOPacket{Type: EIOMessage, Data: data, Binary: true}
	if !binary {
		var err error
		if p, err = DecodeText(data); err != nil {
			ss.srv.failure(ss.req, ReasonBadRequest, err.Error())
			ss.close("parse error")
			return err
		}
	}
	ss.mu.Lock()
	active, probing := ss.ws == w, ss.probe == w
	ss.mu.Unlock()
	switch {
	case probing:
		return w.upgradeStep(p)
	case !active:
		return fmt.Errorf("socketio: websocket is not the session's transport")
	}
	ss.inMu.Lock()
	ss.receive(p)
	ss.inMu.Unlock()
	return nil
}

// upgradeStep runs the polling → websocket upgrade: "2probe" is answered
// with "3probe" and the held poll with a noop; "5" switches transports.
func (w *WebSocket) upgradeStep(p EIOPacket) error {
	ss := w.sess
	switch {
	case p.Type == EIOPing && bytes.Equal(p.Data, probeData):
		if !w.conn.Send(wsFrame(EIOPong, probeData, false)) {
			return fmt.Errorf("socketio: send probe pong")
		}
		ss.mu.Lock()
		ss.probed = true
		ss.signal()
		ss.mu.Unlock()
		return nil
	case p.Type == EIOUpgrade:
		return w.switchTransport()
	}
	ss.srv.failure(ss.req, ReasonBadRequest, fmt.Sprintf("packet type %q during upgrade", byte(p.Type)))
	ss.mu.Lock()
	ss.probe, ss.probed = nil, false
	ss.mu.Unlock()
	return fmt.Errorf("socketio: unexpected packet during upgrade")
}

// switchTransport makes w the session's transport; what was queued for
// polling is sent on it first, in order.
func (w *WebSocket) switchTransport() error {
	ss := w.sess
	ss.mu.Lock()
	if ss.closed || !ss.probed {
		ss.mu.Unlock()
		return fmt.Errorf("socketio: upgrade before probe")
	}
	ss.ws, ss.probe, ss.probed = w, nil, false
	queued := ss.poll
	ss.poll, ss.pollBytes = nil, 0
	ok := true
	for _, q := range queued {
		ok = ok && w.conn.Send(wsFrame(q.typ, q.data, q.binary))
	}
	ss.signal() // a GET still held gets its noop
	ss.mu.Unlock()
	ss.srv.stats.upgrades.Add(1)
	if !ok {
		ss.close("slow consumer")
		return fmt.Errorf("socketio: flush queue on upgrade")
	}
	return nil
}

// Closed tells the session its WebSocket has ended.
func (w *WebSocket) Closed() {
	ss := w.sess
	ss.mu.Lock()
	wasProbe := ss.probe == w
	if wasProbe {
		ss.probe, ss.probed = nil, false
		ss.signal()
	}
	active := ss.ws == w
	ss.mu.Unlock()
	if active {
		ss.close("transport close")
	}
}

// AttachWebSocket binds an upgraded connection to the session r names
// (sid: an upgrade from polling) or to a new WebSocket-only session (no
// sid; the open packet is sent on c). The caller feeds c's messages to the
// returned WebSocket and calls its Closed when c ends.
func (s *Server) AttachWebSocket(r *http.Request, c Conn) (*WebSocket, error) {
	sid := r.URL.Query().Get("sid")
	if sid == "" {
		ss := s.newSession(r, true)
		if ss == nil {
			return nil, fmt.Errorf("socketio: attach websocket: server shutting down")
		}
		w := &WebSocket{sess: ss, conn: c}
		ss.mu.Lock()
		ss.ws = w
		ss.mu.Unlock()
		c.Send(wsFrame(EIOOpen, ss.openJSON(), false))
		return w, nil
	}
	ss := s.lookup(sid)
	if ss == nil {
		return nil, fmt.Errorf("socketio: attach websocket: sid %q unknown", sid)
	}
	w := &WebSocket{sess: ss, conn: c}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closed || ss.ws != nil || ss.probe != nil {
		return nil, fmt.Errorf("socketio: attach websocket: sid %q is not a polling session awaiting an upgrade", sid)
	}
	ss.probe = w
	time.AfterFunc(s.cfg.UpgradeTimeout, func() { w.upgradeTimedOut() })
	return w, nil
}

// upgradeTimedOut closes a probe that did not finish the upgrade in time.
func (w *WebSocket) upgradeTimedOut() {
	ss := w.sess
	ss.mu.Lock()
	stuck := ss.probe == w
	if stuck {
		ss.probe, ss.probed = nil, false
		ss.signal()
	}
	ss.mu.Unlock()
	if stuck {
		w.conn.Close(ws.StatusPolicyViolation, "upgrade timeout")
	}
}

// checkUpgrade refuses an upgrade request before the handshake is answered.
func (s *Server) checkUpgrade(w http.ResponseWriter, r *http.Request, ss *session) bool {
	ss.mu.Lock()
	ok := !ss.closed && ss.ws == nil && ss.probe == nil
	ss.mu.Unlock()
	if !ok {
		s.fail(w, r, http.StatusBadRequest, codeBadRequest, ReasonTransportMismatch, "websocket request for sid "+ss.id+", which is not polling or is upgrading")
	}
	return ok
}

// upgradeSession answers a websocket request for a polling session.
func (s *Server) upgradeSession(w http.ResponseWriter, r *http.Request, ss *session) {
	if s.checkUpgrade(w, r, ss) {
		s.serveWebSocket(w, r)
	}
}

// openWebSocket answers a websocket-only handshake.
func (s *Server) openWebSocket(w http.ResponseWriter, r *http.Request) {
	s.serveWebSocket(w, r)
}
