package socketio

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/wssgate/wssgate/gateway/wire"
)

// closeWait bounds how long a closing connection waits for the peer.
const closeWait = 2 * time.Second

// wsConn is the Server's own Conn over a hijacked connection: one reader
// (readLoop, on the request's goroutine) and one writer goroutine draining
// a byte-bounded queue; only the writer writes to the socket.
type wsConn struct {
	srv *Server
	nc  net.Conn
	br  *bufio.Reader

	mu      sync.Mutex
	queue   [][]byte      // guarded by mu
	queued  int           // guarded by mu; bytes in queue
	closing bool          // guarded by mu; a close frame is queued or the conn is gone
	wake    chan struct{} // capacity 1
	stopped chan struct{} // closed when the writer returns
}

var _ Conn = (*wsConn)(nil)

// serveWebSocket upgrades r, attaches the connection and reads it until
// it ends. The reader and the writer are counted in s.wg.
func (s *Server) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	if s.cfg.ServeWebSocket != nil {
		s.cfg.ServeWebSocket(w, r)
		return
	}
	nc, rw, err := s.cfg.Upgrade(w, r)
	if err != nil {
		s.failure(r, ReasonBadRequest, err.Error())
		return
	}
	c := &wsConn{srv: s, nc: nc, br: rw.Reader, wake: make(chan struct{}, 1), stopped: make(chan struct{})}
	s.wg.Add(2)
	defer s.wg.Done()
	go c.writeLoop()
	sock, err := s.AttachWebSocket(r, c)
	if err != nil {
		s.failure(r, ReasonBadRequest, err.Error())
		c.Close(ws.StatusPolicyViolation, "session not found")
		c.drain()
		c.nc.Close()
		return
	}
	c.readLoop(sock)
	sock.Closed()
}

// Send queues a frame; overflow closes the connection with 1013.
func (c *wsConn) Send(frame []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return false
	}
	if c.queued+len(frame) > c.srv.cfg.MaxBufferBytes {
		c.srv.stats.slowCloses.Add(1)
		c.srv.log.Warn("socket.io slow consumer: websocket queue full, closing", "remote", c.nc.RemoteAddr().String(),
			"max_buffer_bytes", c.srv.cfg.MaxBufferBytes, "frames_lost", len(c.queue)+1)
		c.queue, c.queued = c.queue[:0], 0
		c.closeLocked(1013, "slow consumer")
		return false
	}
	c.queue = append(c.queue, frame)
	c.queued += len(frame)
	c.wakeLocked()
	return true
}

// Close queues a close frame; the writer sends it and stops.
func (c *wsConn) Close(code ws.StatusCode, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closeLocked(code, reason)
}

func (c *wsConn) closeLocked(code ws.StatusCode, reason string) {
	if c.closing {
		return
	}
	c.closing = true
	c.queue = append(c.queue, wire.CloseFrame(code, reason))
	c.wakeLocked()
}

func (c *wsConn) wakeLocked() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// writeLoop writes queued frames in batches until the close frame is out
// or a write fails; then the reader gets a bounded time to see the
// peer's close.
func (c *wsConn) writeLoop() {
	defer c.srv.wg.Done()
	defer close(c.stopped)
	bw := bufio.NewWriterSize(c.nc, 16<<10)
	var batch [][]byte
	for {
		c.mu.Lock()
		if len(c.queue) == 0 {
			closing := c.closing
			c.mu.Unlock()
			if closing {
				_ = c.nc.SetReadDeadline(time.Now().Add(closeWait))
				return
			}
			<-c.wake
			continue
		}
		batch, c.queue = c.queue, batch[:0]
		c.queued = 0
		c.mu.Unlock()
		_ = c.nc.SetWriteDeadline(time.Now().Add(c.srv.cfg.WriteTimeout))
		var err error
		for _, f := range batch {
			if _, err = bw.Write(f); err != nil {
				break
			}
		}
		if err == nil {
			err = bw.Flush()
		}
		clear(batch)
		if err != nil {
			c.mu.Lock()
			c.closing = true
			c.mu.Unlock()
			c.nc.Close() // ends the reader
			return
		}
	}
}

// readLoop reads messages until the connection ends and hands them to w.
func (c *wsConn) readLoop(w *WebSocket) {
	defer c.nc.Close()
	cfg := &c.srv.cfg
	rd := &wsutil.Reader{
		Source:         c.br,
		State:          ws.StateServerSide,
		CheckUTF8:      true,
		MaxMessageSize: int64(cfg.MaxPayload),
		OnIntermediate: c.onControl,
	}
	idle := cfg.PingInterval + cfg.PingTimeout + time.Second
	for {
		c.mu.Lock()
		if !c.closing {
			_ = c.nc.SetReadDeadline(time.Now().Add(idle))
		}
		c.mu.Unlock()
		hdr, err := rd.NextFrame()
		if err == nil && hdr.OpCode.IsControl() {
			err = c.onControl(hdr, rd)
		} else if err == nil {
			var data []byte
			data, err = io.ReadAll(rd)
			if err == nil {
				err = w.Receive(hdr.OpCode == ws.OpBinary, data)
			}
		}
		if err != nil {
			c.readFailed(err)
			return
		}
	}
}

// errPeerClosed ends the reader after the peer's close frame.
var errPeerClosed = errors.New("socketio: peer closed")

// onControl answers pings and closes.
func (c *wsConn) onControl(hdr ws.Header, r io.Reader) error {
	var buf [125]byte
	n, err := io.ReadFull(r, buf[:hdr.Length])
	if err != nil {
		return err
	}
	switch hdr.OpCode {
	case ws.OpPing:
		c.Send(wire.Frame(ws.OpPong, buf[:n]))
	case ws.OpClose:
		code, reason, ok := wire.ParseClose(buf[:n])
		switch {
		case !ok:
			c.Close(ws.StatusProtocolError, "invalid close frame")
		case code == ws.StatusNoStatusRcvd:
			c.Close(ws.StatusNormalClosure, "")
		default:
			c.Close(code, reason)
		}
		return errPeerClosed
	}
	return nil
}

// readFailed queues the close the peer is owed and waits for the writer
// to send it (bounded by the write timeout).
func (c *wsConn) readFailed(err error) {
	switch {
	case errors.Is(err, wsutil.ErrMessageTooLarge), errors.Is(err, wsutil.ErrFrameTooLarge):
		c.Close(ws.StatusMessageTooBig, "message too big")
	case errors.Is(err, wsutil.ErrInvalidUTF8):
		c.Close(ws.StatusInvalidFramePayloadData, "invalid UTF-8 in text message")
	default:
		var perr ws.ProtocolError
		if errors.As(err, &perr) {
			c.Close(ws.StatusProtocolError, err.Error())
		} else {
			c.Close(ws.StatusNormalClosure, "")
		}
	}
	c.drain()
}

// drain waits, bounded, for the writer to send what is queued (the close
// frame last) and stop.
func (c *wsConn) drain() {
	t := time.NewTimer(c.srv.cfg.WriteTimeout + closeWait)
	defer t.Stop()
	select {
	case <-c.stopped:
	case <-t.C:
	}
}
