package session

import (
	"errors"
	"io"
	"net"
	"os"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/wssgate/wssgate/gateway/wire"
)

// errPeerClosed ends the read loop after the peer's close frame; errLimit
// after the reader closed the session for a limit (budget, rate).
var (
	errPeerClosed = errors.New("session: peer closed")
	errLimit      = errors.New("session: limit exceeded")
)

// Read buffers of a message grow as bytes arrive, in chunks that double
// from the first (at most firstChunk) up to maxChunk, each acquired from
// the memory budget before it is allocated (beyond the first FreeBytes of
// the message).
const (
	firstChunk = 4096
	maxChunk   = 64 << 10
)

// readLoop reads frames until the session ends. RFC 6455 checks: gobwas
// checks headers (reserved bits and opcodes, masking, control frame size
// and FIN, continuation order), message size across fragments and UTF-8
// across fragments; close codes are checked here.
//
// Its stream's drain says whether the peer should be drained before the
// connection is closed: after a close we started, unread input would make
// the kernel reset the connection and the peer could lose our close frame.
func (s *Session) readLoop() *stream {
	st := &stream{r: s.conn}
	rd := &wsutil.Reader{
		Source:         st,
		State:          ws.StateServerSide,
		CheckUTF8:      true,
		MaxMessageSize: s.limits.MaxMessage,
		// Control frames inside a fragmented message.
		OnIntermediate: func(h ws.Header, r io.Reader) error { st.frame(h); return s.onControl(h, r) },
		// Every frame of a fragmented message is activity: a long upload
		// is not an idle peer.
		OnContinuation: func(h ws.Header, _ io.Reader) error { st.frame(h); s.extendDeadline(); s.touch(); return nil },
	}
	for {
		s.extendDeadline()
		hdr, err := rd.NextFrame()
		if err == nil {
			st.frame(hdr)
			s.touch()
			if hdr.OpCode.IsControl() {
				err = s.onControl(hdr, rd)
			} else {
				err = s.readMessage(rd, hdr)
			}
		}
		if err != nil {
			st.drain = s.readFailed(err)
			return st
		}
	}
}

// extendDeadline moves the idle deadline, unless the session is closing
// (then the writer has set a short one that must stand).
func (s *Session) extendDeadline() {
	s.mu.Lock()
	if !s.closing {
		_ = s.conn.SetReadDeadline(time.Now().Add(s.limits.IdleTimeout))
	}
	s.mu.Unlock()
}

func (s *Session) touch() { s.lastActivity.Store(time.Now().UnixNano()) }

// readMessage reads a whole data message, growing the buffer only as bytes
// arrive (never on the declared length), checks the session's rates and
// hands it to the Handler. The budget it held is released once the
// Handler returns (what the Handler queues is charged to the queues).
func (s *Session) readMessage(rd *wsutil.Reader, hdr ws.Header) error {
	op := hdr.OpCode
	data, held, err := s.readAll(rd, int(min(hdr.Length, firstChunk)))
	if err != nil {
		return err
	}
	if (s.limits.MsgsPerSec > 0 || s.limits.BytesPerSec > 0) && !s.rate.Allow(len(data), time.Now()) {
		s.limits.Budget.Release(held)
		s.limitHit(limitRate, "session over its rate limit, closing", "max_messages_per_s", s.limits.MsgsPerSec,
			"max_bytes_per_s", s.limits.BytesPerSec)
		s.closeFromReader(ws.StatusPolicyViolation, "rate limit")
		return errLimit
	}
	s.msgsIn.Add(1)
	s.bytesIn.Add(uint64(len(data)))
	s.totals.MsgsIn.Add(1)
	s.totals.BytesIn.Add(uint64(len(data)))
	s.handler.OnMessage(s, op, data)
	s.limits.Budget.Release(held)
	return nil
}

// readAll reads until the reader reports the end of the message. Memory
// grows in chunks (see firstChunk, maxChunk), each taken from the budget
// first; a message of several chunks is copied once into one buffer at the
// end. held is the budget the returned buffer holds. If the budget is
// exhausted the session closes with 1013 and err is errLimit.
func (s *Session) readAll(r io.Reader, hint int) (data []byte, held int64, err error) {
	var full [][]byte // chunks filled before b
	alloc := 0        // bytes of the chunks allocated so far
	b, held, ok := s.chunk(max(hint, 16), &alloc, 0)
	for ok {
		if len(b) == cap(b) {
			full = append(full, b)
			if b, held, ok = s.chunk(min(2*cap(b), maxChunk), &alloc, held); !ok {
				break
			}
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return s.assemble(full, b, held)
		}
		if err != nil {
			s.limits.Budget.Release(held)
			return nil, 0, err
		}
	}
	s.limits.Budget.Release(held)
	return nil, 0, s.budgetExhausted()
}

// chunk allocates a read buffer of n bytes once the budget has what it
// adds beyond FreeBytes; alloc counts the message's chunks, held is the
// budget the message holds so far.
func (s *Session) chunk(n int, alloc *int, held int64) ([]byte, int64, bool) {
	need := excess(*alloc+n) - excess(*alloc)
	if need > 0 && !s.limits.Budget.TryAcquire(need) {
		return nil, held, false
	}
	*alloc += n
	return make([]byte, 0, n), held + need, true
}

// assemble joins the chunks of a message (one chunk is returned as is).
func (s *Session) assemble(full [][]byte, last []byte, held int64) ([]byte, int64, error) {
	if len(full) == 0 {
		return last, held, nil
	}
	total := len(last)
	for _, c := range full {
		total += len(c)
	}
	need := excess(total)
	if need > 0 && !s.limits.Budget.TryAcquire(need) {
		s.limits.Budget.Release(held)
		return nil, 0, s.budgetExhausted()
	}
	out := make([]byte, 0, total)
	for _, c := range full {
		out = append(out, c...)
	}
	out = append(out, last...)
	s.limits.Budget.Release(held) // the chunks are garbage now
	return out, need, nil
}

// budgetExhausted closes the session with 1013 from the reader.
func (s *Session) budgetExhausted() error {
	s.limitHit(limitBudget, "memory budget exhausted by a partial message, closing", "budget", s.budgetInUse())
	s.closeFromReader(CodeTryAgainLater, "memory budget exceeded")
	return errLimit
}

// onControl handles ping, pong and close, inside or between messages.
func (s *Session) onControl(hdr ws.Header, r io.Reader) error {
	var buf [125]byte // CheckHeader bounds control payloads to 125
	n, err := io.ReadFull(r, buf[:hdr.Length])
	if err != nil {
		return err
	}
	p := buf[:n]
	switch hdr.OpCode {
	case ws.OpPing:
		s.Send(wire.Frame(ws.OpPong, p))
	case ws.OpClose:
		code, reason, ok := wire.ParseClose(p)
		switch {
		case !ok:
			s.closeFromReader(ws.StatusProtocolError, "invalid close frame")
		case code == ws.StatusNoStatusRcvd:
			s.echoClose(ws.StatusNormalClosure, "")
		default:
			s.echoClose(code, reason) // echo the peer's code
		}
		return errPeerClosed
	}
	return nil
}

// readFailed turns a read error into the close the peer is owed; it
// reports whether we started a close.
func (s *Session) readFailed(err error) (drain bool) {
	var perr ws.ProtocolError
	switch {
	case errors.Is(err, errPeerClosed):
		return false
	case errors.Is(err, errLimit):
		return true
	case errors.Is(err, wsutil.ErrMessageTooLarge), errors.Is(err, wsutil.ErrFrameTooLarge):
		s.closeFromReader(ws.StatusMessageTooBig, "message too big")
	case errors.Is(err, wsutil.ErrInvalidUTF8):
		s.closeFromReader(ws.StatusInvalidFramePayloadData, "invalid UTF-8 in text message")
	case errors.As(err, &perr), errors.Is(err, ws.ErrHeaderLengthMSB), errors.Is(err, ws.ErrHeaderLengthUnexpected):
		s.closeFromReader(ws.StatusProtocolError, err.Error())
	case errors.Is(err, os.ErrDeadlineExceeded):
		if s.isClosing() {
			return false // the peer did not answer our close in time
		}
		s.closeFromReader(ws.StatusGoingAway, "idle timeout")
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return false
	default:
		s.log.Debug("read failed", "session", s.info.ID, "err", err)
		return false
	}
	return true
}

func (s *Session) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}
