package socketio

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gobwas/ws"

	"github.com/wssgate/wssgate/gateway/wire"
)

// outPacket is one queued Engine.IO packet of a polling session.
type outPacket struct {
	typ    EIOType
	data   []byte
	binary bool
}

// session is one Engine.IO session: its transport (polling, or a
// WebSocket after an upgrade or from the start), pings, and the Socket.IO
// socket on top.
type session struct {
	srv  *Server
	id   string
	req  *http.Request // the handshake request (headers, cookies, TLS state)
	sock *Socket

	inMu  sync.Mutex  // serialises inbound packets: POST handlers and the WebSocket reader
	reasm Reassembler // guarded by inMu

	mu            sync.Mutex
	websocketOnly bool          // set before the session is shared
	closed        bool          // guarded by mu
	ws            *WebSocket    // guarded by mu; the active WebSocket, nil while polling
	probe         *WebSocket    // guarded by mu; a WebSocket being probed for the upgrade
	probed        bool          // guarded by mu; the probe answered: polls are paused with noop
	poll          []outPacket   // guarded by mu; queued for the next poll
	pollBytes     int           // guarded by mu
	getting       bool          // guarded by mu; a long-poll GET is held
	posting       bool          // guarded by mu; a POST is being read
	pingTimer     *time.Timer   // guarded by mu
	pongTimer     *time.Timer   // guarded by mu
	wake          chan struct{} // capacity 1: the held GET has something to do
	done          chan struct{} // closed when the session closes
}

func newSession(srv *Server, id string, r *http.Request) *session {
	ss := &session{srv: srv, id: id, req: r.Clone(r.Context()), wake: make(chan struct{}, 1), done: make(chan struct{})}
	ss.req.Body = http.NoBody
	ss.reasm = Reassembler{MaxAttachments: srv.cfg.MaxAttachments, MaxBytes: srv.cfg.MaxPayload}
	ss.sock = &Socket{sess: ss, id: newID()}
	return ss
}

// openJSON is the open packet's payload.
func (ss *session) openJSON() []byte {
	c := &ss.srv.cfg
	b := make([]byte, 0, 128)
	b = append(b, `{"sid":"`...)
	b = append(b, ss.id...)
	if ss.websocketOnly {
		b = append(b, `","upgrades":[],"pingInterval":`...)
	} else {
		b = append(b, `","upgrades":["websocket"],"pingInterval":`...)
	}
	b = strconv.AppendInt(b, c.PingInterval.Milliseconds(), 10)
	b = append(b, `,"pingTimeout":`...)
	b = strconv.AppendInt(b, c.PingTimeout.Milliseconds(), 10)
	b = append(b, `,"maxPayload":`...)
	b = strconv.AppendInt(b, int64(c.MaxPayload), 10)
	return append(b, '}')
}

// signal wakes the held GET, if any.
func (ss *session) signal() {
	select {
	case ss.wake <- struct{}{}:
	default:
	}
}

// send queues one packet on the current transport. It reports false if
// the session is closed or its queue overflowed (then it is closed).
func (ss *session) send(t EIOType, data []byte, binary bool) bool {
	ss.mu.Lock()
	if ss.closed {
		ss.mu.Unlock()
		return false
	}
	if ss.ws != nil {
		ok := ss.ws.conn.Send(wsFrame(t, data, binary))
		ss.mu.Unlock()
		return ok
	}
	ok := ss.queueLocked(outPacket{typ: t, data: data, binary: binary})
	ss.mu.Unlock()
	if !ok {
		ss.srv.stats.slowCloses.Add(1)
		ss.srv.log.Warn("socket.io slow consumer: outbound buffer full, closing", "sid", ss.id, "max_buffer_bytes", ss.srv.cfg.MaxBufferBytes)
		ss.close("slow consumer")
	}
	return ok
}

// queueLocked appends to the polling queue within MaxBufferBytes.
func (ss *session) queueLocked(p outPacket) bool {
	n := pollingLen(p.data, p.binary)
	if ss.pollBytes+n > ss.srv.cfg.MaxBufferBytes {
		return false
	}
	ss.poll = append(ss.poll, p)
	ss.pollBytes += n
	ss.signal()
	return true
}

// wsFrame compiles one Engine.IO packet into a WebSocket frame: text
// "<type><data>", or the raw bytes of a binary message.
func wsFrame(t EIOType, data []byte, binary bool) []byte {
	if binary {
		return wire.Frame(ws.OpBinary, data)
	}
	b := make([]byte, 0, 10+1+len(data))
	b = appendFrameHeader(b, ws.OpText, 1+len(data))
	b = append(b, byte(t))
	return append(b, data...)
}

// appendFrameHeader appends an unmasked FIN frame header.
func appendFrameHeader(b []byte, op ws.OpCode, n int) []byte {
	b = append(b, 0x80|byte(op))
	switch {
	case n < 126:
		return append(b, byte(n))
	case n <= 0xffff:
		return append(b, 126, byte(n>>8), byte(n))
	}
	b = append(b, 127)
	for i := 7; i >= 0; i-- {
		b = append(b, byte(uint64(n)>>(8*i)))
	}
	return b
}

// schedulePing arms the next server ping.
func (ss *session) schedulePing() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closed {
		return
	}
	if ss.pongTimer != nil {
		ss.pongTimer.Stop()
		ss.pongTimer = nil
	}
	if ss.pingTimer != nil {
		ss.pingTimer.Stop()
	}
	ss.pingTimer = time.AfterFunc(ss.srv.cfg.PingInterval, ss.ping)
}

// ping sends a ping and arms the pong deadline (a timer callback).
func (ss *session) ping() {
	ss.mu.Lock()
	if !ss.closed {
		ss.pongTimer = time.AfterFunc(ss.srv.cfg.PingTimeout, func() { ss.close("ping timeout") })
	}
	ss.mu.Unlock()
	ss.send(EIOPing, nil, false)
}

// receive handles one inbound Engine.IO packet from the active transport.
// The caller holds inMu.
func (ss *session) receive(p EIOPacket) {
	switch p.Type {
	case EIOPong:
		ss.schedulePing()
	case EIOMessage:
		ss.sock.onMessage(p.Data, p.Binary)
	case EIOClose:
		ss.close("transport close")
	case EIOUpgrade, EIOOpen:
		ss.srv.failure(ss.req, ReasonBadRequest, "unexpected engine.io packet type "+string(rune(p.Type)))
		ss.close("parse error")
	}
}

// close ends the session once: timers stopped, transports closed (no
// Socket.IO DISCONNECT), the held GET answered with a close packet.
func (ss *session) close(reason string) {
	code, why := closeCode(reason)
	ss.closeWith(reason, code, why)
}

// closeWith is close with the WebSocket close code and reason given.
func (ss *session) closeWith(reason string, code ws.StatusCode, why string) {
	ss.mu.Lock()
	if ss.closed {
		ss.mu.Unlock()
		return
	}
	ss.closed = true
	for _, t := range []*time.Timer{ss.pingTimer, ss.pongTimer} {
		if t != nil {
			t.Stop()
		}
	}
	ws, probe := ss.ws, ss.probe
	ss.poll, ss.pollBytes = nil, 0
	// A polling client between two polls learns of a server-side close
	// from its next GET, answered with a close packet ("transport close"),
	// as the reference server does; a 400 would read as a transport error.
	linger := ws == nil && !ss.getting && !clientGone(reason)
	close(ss.done)
	ss.mu.Unlock()

	if linger {
		time.AfterFunc(closeLinger, func() { ss.srv.remove(ss) })
	} else {
		ss.srv.remove(ss)
	}
	for _, w := range []*WebSocket{ws, probe} {
		if w != nil {
			w.conn.Close(code, why)
		}
	}
	ss.srv.log.Debug("socket.io session closed", "sid", ss.id, "reason", reason)
	ss.sock.closed(reason)
}

// closeLinger bounds how long a closed polling session waits for the GET
// that tells the client.
const closeLinger = 5 * time.Second

// clientGone reports close reasons after which no client poll will come.
func clientGone(reason string) bool {
	switch reason {
	case "ping timeout", "transport close", "transport error", "client namespace disconnect", "parse error":
		return true
	}
	return false
}

// closeCode is the WebSocket close a session's end is told with.
func closeCode(reason string) (ws.StatusCode, string) {
	switch reason {
	case "server shutting down":
		return ws.StatusGoingAway, "server shutting down"
	case "slow consumer":
		return 1013, "slow consumer"
	case "parse error":
		return ws.StatusProtocolError, reason
	}
	return ws.StatusNormalClosure, ""
}
