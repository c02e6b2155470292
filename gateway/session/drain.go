package session

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"time"

	"github.com/gobwas/ws"
)

// Bounds of the drain after a close the reader started.
const (
	drainBytes     = 1 << 20
	maxDrainFrames = 1024
)

// stream is the reader's source: it counts the bytes read and keeps the
// last few, so that after a failed frame the drain knows where the next
// frame header starts. It belongs to the reader goroutine.
type stream struct {
	r        io.Reader
	pos      int64    // bytes read so far
	frameEnd int64    // where the payload of the last accepted frame header ends
	tail     [14]byte // the last bytes read: a frame header is at most 14
	tailLen  int
	drain    bool // set by readLoop: a close we started awaits the peer's
}

func (t *stream) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.pos += int64(n)
	t.keepTail(p[:n])
	return n, err
}

func (t *stream) keepTail(b []byte) {
	if len(b) >= len(t.tail) {
		t.tailLen = copy(t.tail[:], b[len(b)-len(t.tail):])
		return
	}
	keep := min(t.tailLen, len(t.tail)-len(b))
	copy(t.tail[:keep], t.tail[t.tailLen-keep:t.tailLen])
	t.tailLen = keep + copy(t.tail[keep:], b)
}

// frame records an accepted frame header (just read).
func (t *stream) frame(h ws.Header) { t.frameEnd = t.pos + h.Length }

// remaining returns how many payload bytes of the current frame are
// unread. Past the last frame's end, the bytes read since are a header
// that was refused (reserved bits, too large): its length is what is left.
// ok is false when the stream cannot be followed.
func (t *stream) remaining() (n int64, ok bool) {
	if t.pos <= t.frameEnd {
		return t.frameEnd - t.pos, true
	}
	hl := t.pos - t.frameEnd
	if hl > int64(t.tailLen) {
		return 0, false
	}
	h, err := ws.ReadHeader(bytes.NewReader(t.tail[t.tailLen-int(hl) : t.tailLen]))
	if err != nil {
		return 0, false
	}
	return h.Length, true
}

// drain runs after a close the reader started: it reads the peer's frames
// (not raw bytes) and returns as soon as the peer's close frame has
// arrived, so that the connection closes at once and without a reset.
// A silent peer is bounded by closeWait, a chatty one by drainBytes; a
// stream it cannot follow is discarded raw within the same bounds.
func (s *Session) drain(st *stream) {
	_ = s.conn.SetReadDeadline(time.Now().Add(closeWait))
	lr := &io.LimitedReader{R: s.conn, N: drainBytes}
	skip, ok := st.remaining()
	if !ok {
		_, _ = io.Copy(io.Discard, lr)
		return
	}
	if _, err := io.CopyN(io.Discard, lr, skip); err != nil {
		return
	}
	for range maxDrainFrames {
		hdr, err := ws.ReadHeader(lr)
		if err != nil {
			if !isIOError(err) {
				_, _ = io.Copy(io.Discard, lr) // not a frame: lost track
			}
			return
		}
		if _, err := io.CopyN(io.Discard, lr, hdr.Length); err != nil || hdr.OpCode == ws.OpClose {
			return
		}
	}
}

// isIOError reports errors of the connection rather than of the bytes.
func isIOError(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, os.ErrDeadlineExceeded) ||
		errors.Is(err, net.ErrClosed)
}
