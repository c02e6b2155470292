package socketio

import (
	"encoding/json"
	"net/http"
	"sync"
	"sync/atomic"
)

// Handler receives a socket's life. Callbacks for one socket never run
// concurrently with each other, except that OnClose may run while an
// OnEvent is still in progress (the transport ended meanwhile); OnClose
// always follows OnConnect and runs once, only for connected sockets.
type Handler interface {
	// OnConnect runs once the client's CONNECT to "/" is accepted.
	OnConnect(s *Socket)
	// OnEvent runs for each event. Binary arguments stay placeholders
	// in args (see Placeholder) and are attachments[num]. ack is nil
	// unless the client asked for one; calling it more than once sends
	// one ack. args and attachments are owned by the callee.
	OnEvent(s *Socket, name string, args []json.RawMessage, attachments [][]byte, ack func(args ...any))
	// OnClose runs once when a connected socket ends, with a Socket.IO
	// reason such as "transport close", "ping timeout",
	// "client namespace disconnect" or "server shutting down".
	OnClose(s *Socket, reason string)
}

// connection states of a Socket.
const (
	stateNew        = iota // no CONNECT accepted yet
	stateConnecting        // OnConnect is running
	stateConnected
	stateClosed
)

// Socket is the Socket.IO socket of the namespace "/" on one Engine.IO
// session. Its methods are safe for concurrent use.
type Socket struct {
	sess     *session
	id       string
	identity atomic.Pointer[string]
	grant    atomic.Value // what Config.Authenticate returned with the identity

	mu          sync.Mutex
	state       int    // guarded by mu
	closeReason string // guarded by mu; set when closed while connecting
}

// ID is the Engine.IO session id, stable across the upgrade.
func (s *Socket) ID() string { return s.sess.id }

// SocketID is the Socket.IO socket id sent in the CONNECT reply.
func (s *Socket) SocketID() string { return s.id }

// Grant is what Config.Authenticate returned with the identity (nil if
// nothing).
func (s *Socket) Grant() any { return s.grant.Load() }

// Identity is what Config.Authenticate returned.
func (s *Socket) Identity() string {
	if p := s.identity.Load(); p != nil {
		return *p
	}
	return ""
}

// Request is the Engine.IO handshake request (headers, cookies, TLS
// state, remote address); its body is empty.
func (s *Socket) Request() *http.Request { return s.sess.req }

// Transport is "socketio-polling" or "socketio-websocket".
func (s *Socket) Transport() string {
	s.sess.mu.Lock()
	defer s.sess.mu.Unlock()
	if s.sess.ws != nil {
		return "socketio-websocket"
	}
	return "socketio-polling"
}

// Done is closed when the session has ended.
func (s *Socket) Done() <-chan struct{} { return s.sess.done }

// Close ends the session's transport (no Socket.IO DISCONNECT is sent, so
// the client reconnects by itself).
func (s *Socket) Close(reason string) { s.sess.close(reason) }

// Emit sends an event. A []byte argument travels as a binary attachment;
// a json.RawMessage is sent as is; other values through encoding/json.
// It reports false if the socket is not connected, an argument does not
// encode, or the outbound queue overflowed (the socket is then closed).
func (s *Socket) Emit(event string, args ...any) bool {
	text, atts, err := encodeEvent(false, 0, event, args)
	if err != nil {
		s.sess.srv.log.Warn("socket.io emit: encode", "event", event, "err", err)
		return false
	}
	return s.connected() && s.sendPacket(text, atts)
}

// SendPrepared sends a packet encoded once for many sockets.
func (s *Socket) SendPrepared(p *Prepared) bool {
	if !s.connected() {
		return false
	}
	ss := s.sess
	ss.mu.Lock()
	w := ss.ws
	ss.mu.Unlock()
	if w == nil {
		return s.sendPacket(p.text, p.attachments)
	}
	for _, f := range p.frames() {
		if !ss.sendFrame(w, f) {
			return false
		}
	}
	return true
}

// sendPacket sends a Socket.IO packet and its attachments.
func (s *Socket) sendPacket(text []byte, atts [][]byte) bool {
	if !s.sess.send(EIOMessage, text, false) {
		return false
	}
	for _, a := range atts {
		if !s.sess.send(EIOMessage, a, true) {
			return false
		}
	}
	return true
}

func (s *Socket) connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state == stateConnected
}

// onMessage handles one Engine.IO message; the caller holds sess.inMu.
func (s *Socket) onMessage(data []byte, binary bool) {
	ss := s.sess
	var (
		pkt  Packet
		atts [][]byte
		done bool
		err  error
	)
	if binary {
		pkt, atts, done, err = ss.reasm.Binary(data)
	} else {
		pkt, atts, done, err = ss.reasm.Text(data)
	}
	if err != nil {
		ss.srv.failure(ss.req, ReasonBadRequest, err.Error())
		ss.close("parse error")
		return
	}
	if done {
		s.dispatch(&pkt, atts)
	}
}

// dispatch acts on one complete packet.
func (s *Socket) dispatch(p *Packet, atts [][]byte) {
	ss := s.sess
	if p.Namespace != "/" {
		if p.Type == PacketConnect {
			ss.srv.failure(ss.req, ReasonBadRequest, "namespace "+p.Namespace+" does not exist")
			ss.send(EIOMessage, encodeConnectError(p.Namespace, "Invalid namespace"), false)
		}
		return
	}
	switch p.Type {
	case PacketConnect:
		s.connect(p.Data)
	case PacketDisconnect:
		if s.connected() {
			ss.close("client namespace disconnect")
		}
	case PacketEvent, PacketBinaryEvent:
		if !s.connected() {
			return
		}
		name, args, err := EventArgs(p.Data)
		if err != nil {
			ss.srv.failure(ss.req, ReasonBadRequest, err.Error())
			ss.close("parse error")
			return
		}
		var ack func(args ...any)
		if p.HasID {
			ack = s.acker(p.ID)
		}
		ss.srv.h.OnEvent(s, name, args, atts, ack)
	}
	// ACK and CONNECT_ERROR from a client: the server asks for no acks.
}

// connect accepts or refuses a CONNECT to "/".
func (s *Socket) connect(auth json.RawMessage) {
	ss := s.sess
	s.mu.Lock()
	if s.state != stateNew {
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	if f := ss.srv.cfg.Authenticate; f != nil {
		id, grant, err := f(ss.req, auth)
		if err != nil {
			ss.srv.failure(ss.req, ReasonUnauthenticated, err.Error())
			ss.send(EIOMessage, encodeConnectError("/", err.Error()), false)
			return
		}
		s.identity.Store(&id)
		if grant != nil {
			s.grant.Store(grant)
		}
	}
	s.mu.Lock()
	if s.state != stateNew {
		s.mu.Unlock()
		return
	}
	s.state = stateConnecting
	s.mu.Unlock()
	ss.send(EIOMessage, encodeConnect(s.id), false)
	ss.srv.h.OnConnect(s)
	s.mu.Lock()
	if s.state == stateClosed {
		reason := s.closeReason
		s.mu.Unlock()
		ss.srv.h.OnClose(s, reason)
		return
	}
	s.state = stateConnected
	s.mu.Unlock()
}

// closed runs once when the session ends.
func (s *Socket) closed(reason string) {
	s.mu.Lock()
	prev := s.state
	s.state, s.closeReason = stateClosed, reason
	s.mu.Unlock()
	if prev == stateConnected {
		s.sess.srv.h.OnClose(s, reason)
	}
}

// acker returns the ack function of event id: it sends once.
func (s *Socket) acker(id uint64) func(args ...any) {
	var once atomic.Bool
	return func(args ...any) {
		if once.Swap(true) {
			return
		}
		text, atts, err := encodeEvent(true, id, "", args)
		if err != nil {
			s.sess.srv.log.Warn("socket.io ack: encode", "id", id, "err", err)
			return
		}
		s.sendPacket(text, atts)
	}
}

// Prepared is a Socket.IO packet encoded once and sent to many sockets:
// polling sockets share its text, WebSocket sockets its compiled frames.
type Prepared struct {
	text        []byte
	attachments [][]byte
	once        sync.Once
	wsFrames    [][]byte
}

// Prepare wraps a packet from EncodeMessageEvent for SendPrepared. text and
// attachments must not change afterwards.
func Prepare(text []byte, attachments [][]byte) *Prepared {
	return &Prepared{text: text, attachments: attachments}
}

// frames compiles the WebSocket frames once.
func (p *Prepared) frames() [][]byte {
	p.once.Do(func() {
		p.wsFrames = make([][]byte, 0, 1+len(p.attachments))
		p.wsFrames = append(p.wsFrames, wsFrame(EIOMessage, p.text, false))
		for _, a := range p.attachments {
			p.wsFrames = append(p.wsFrames, wsFrame(EIOMessage, a, true))
		}
	})
	return p.wsFrames
}

// sendFrame sends a compiled frame on w if it is still the transport.
func (ss *session) sendFrame(w *WebSocket, f []byte) bool {
	ss.mu.Lock()
	if ss.closed || ss.ws != w {
		ss.mu.Unlock()
		return false
	}
	ok := w.conn.Send(f)
	ss.mu.Unlock()
	return ok
}
