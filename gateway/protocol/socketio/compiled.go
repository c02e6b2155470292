package socketio

import (
	"github.com/gobwas/ws"
)

// CompileMessageEvent is EncodeMessageEvent compiled once into what every
// socket is sent: the WebSocket frame of the text packet, then one binary
// frame per attachment, concatenated. Encode once per fan-out and hand the
// result to many sockets through SendCompiled; it must not change after.
func CompileMessageEvent(channel string, data []byte, binary bool) []byte {
	text, atts := EncodeMessageEvent(channel, data, binary)
	n := 10 + 1 + len(text)
	for _, a := range atts {
		n += 10 + len(a)
	}
	b := make([]byte, 0, n)
	b = appendFrameHeader(b, ws.OpText, 1+len(text))
	b = append(b, byte(EIOMessage))
	b = append(b, text...)
	for _, a := range atts {
		b = appendFrameHeader(b, ws.OpBinary, len(a))
		b = append(b, a...)
	}
	return b
}

// SendCompiled sends frames from CompileMessageEvent: as they are on a
// WebSocket (one queued write), split back into packets (sharing frames'
// bytes) on polling. It reports false as Emit does.
func (s *Socket) SendCompiled(frames []byte) bool {
	if !s.connected() {
		return false
	}
	ss := s.sess
	ss.mu.Lock()
	w := ss.ws
	ss.mu.Unlock()
	if w != nil {
		return ss.sendFrame(w, frames)
	}
	for len(frames) > 0 {
		op, payload, rest, ok := splitFrame(frames)
		switch {
		case !ok:
			return false
		case op == ws.OpBinary:
			ok = ss.send(EIOMessage, payload, true)
		case len(payload) > 0:
			ok = ss.send(EIOType(payload[0]), payload[1:], false)
		}
		if !ok {
			return false
		}
		frames = rest
	}
	return true
}

// splitFrame reads one unmasked frame that appendFrameHeader began.
func splitFrame(b []byte) (op ws.OpCode, payload, rest []byte, ok bool) {
	if len(b) < 2 {
		return 0, nil, nil, false
	}
	op, n, h := ws.OpCode(b[0]&0x0f), int(b[1]&0x7f), 2
	switch n {
	case 126:
		if len(b) < 4 {
			return 0, nil, nil, false
		}
		n, h = int(b[2])<<8|int(b[3]), 4
	case 127:
		if len(b) < 10 {
			return 0, nil, nil, false
		}
		n = 0
		for _, c := range b[2:10] {
			n = n<<8 | int(c)
		}
		h = 10
	}
	if n < 0 || len(b)-h < n {
		return 0, nil, nil, false
	}
	return op, b[h : h+n], b[h+n:], true
}

// CloseWith ends the session's transport with a WebSocket close code and
// reason (polling clients get a close packet); no Socket.IO DISCONNECT is
// sent, so the client reconnects by itself.
func (s *Socket) CloseWith(code ws.StatusCode, reason string) {
	s.sess.closeWith(reason, code, reason)
}
