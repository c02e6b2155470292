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

// errPeerClosed ends the read loop after the peer's close frame.
var errPeerClosed = errors.New("session: peer closed")

// readLoop reads frames until the session ends. RFC 6455 checks: gobwas
// checks headers (reserved bits and opcodes, masking, control frame size
// and FIN, continuation order), message size across fragments and UTF-8
// across fragments; close codes are checked here.
//
// It reports whether the peer should be drained before the connection is
// closed: after a close we started, unread input would make the kernel
// reset the connection and the peer could lose our close frame.
func (s *Session) readLoop() (drain bool) {
	rd := &wsutil.Reader{
		Source:         s.conn,
		State:          ws.StateServerSide,
		CheckUTF8:      true,
		MaxMessageSize: s.limits.MaxMessage,
		OnIntermediate: s.onControl, // control frames inside a fragmented message
		// Every frame of a fragmented message is activity: a long upload
		// is not an idle peer.
		OnContinuation: func(ws.Header, io.Reader) error { s.extendDeadline(); s.touch(); return nil },
	}
	for {
		s.extendDeadline()
		hdr, err := rd.NextFrame()
		if err == nil {
			s.touch()
			if hdr.OpCode.IsControl() {
				err = s.onControl(hdr, rd)
			} else {
				err = s.readMessage(rd, hdr)
			}
		}
		if err != nil {
			return s.readFailed(err)
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
// arrive (never on the declared length), and hands it to the Handler.
func (s *Session) readMessage(rd *wsutil.Reader, hdr ws.Header) error {
	op := hdr.OpCode
	data, err := readAll(rd, int(min(hdr.Length, 4096)))
	if err != nil {
		return err
	}
	s.msgsIn.Add(1)
	s.bytesIn.Add(uint64(len(data)))
	s.totals.MsgsIn.Add(1)
	s.totals.BytesIn.Add(uint64(len(data)))
	s.handler.OnMessage(s, op, data)
	return nil
}

// readAll reads until the reader reports the end of the message.
func readAll(r io.Reader, hint int) ([]byte, error) {
	b := make([]byte, 0, max(hint, 16))
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
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
			s.closeFromReader(ws.StatusNormalClosure, "")
		default:
			s.closeFromReader(code, reason) // echo the peer's code
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
