package session

import (
	"bufio"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"

	"github.com/wssgate/wssgate/gateway/hub"
	"github.com/wssgate/wssgate/gateway/wire"
)

// Role says which protocol a session speaks.
type Role string

// Roles.
const (
	RoleApp    Role = "app"    // JSON envelope on the app listener
	RoleDevice Role = "device" // raw frames on the device listener
)

// Close codes wssgate sends that gobwas/ws does not name.
const (
	CodeServiceRestart ws.StatusCode = 1012 // rolling reconnect onto a new certificate
	CodeTryAgainLater  ws.StatusCode = 1013 // slow consumer: outbound queue overflow
	CodeReplaced       ws.StatusCode = 4001 // a newer session took this device identity
)

// Limits bound one session.
type Limits struct {
	MaxMessage   int64         // largest message read; larger → 1009
	QueueBytes   int           // outbound queue bound; overflow → 1013
	WriteTimeout time.Duration // one batch write to the peer
	PingInterval time.Duration // how often the writer pings
	IdleTimeout  time.Duration // no frame from the peer for this long → close
}

// closeWait bounds how long a closing session waits for the peer's close.
const closeWait = 2 * time.Second

// Info describes a session. It is fixed once the session is created.
type Info struct {
	ID              string
	Listener        string
	Role            Role
	Identity        string
	RemoteAddr      string
	LocalAddr       string
	ConnectedAt     time.Time
	TLSVersion      string
	CipherSuite     string
	SNI             string
	ALPN            string
	PeerSubject     string
	PeerFingerprint string
	PeerChain       []*x509.Certificate // client certificate chain, leaf first; nil without one
	CertGeneration  uint64
	Origin          string
	UserAgent       string
}

// Handler gives a session its protocol. Both methods run on the reader
// goroutine.
type Handler interface {
	// OnMessage receives one complete message (text is valid UTF-8). data
	// is owned by the callee.
	OnMessage(s *Session, op ws.OpCode, data []byte)
	// OnClose runs once after the connection is closed.
	OnClose(s *Session)
}

// Session is one live WebSocket connection.
type Session struct {
	info    Info
	conn    net.Conn
	limits  Limits
	handler Handler
	log     *slog.Logger
	totals  *Counters // the listener's counters, shared
	// Data is free for the Handler (e.g. the app protocol's state).
	Data any

	mu      sync.Mutex // guards the fields below
	queue   [][]byte   // frames waiting for the writer
	queued  int        // bytes in queue
	closing bool       // a close frame is queued or the session is ending
	code    ws.StatusCode
	reason  string
	subs    []string // channel patterns, maintained by the Handler

	wake       chan struct{} // capacity 1: work for the writer
	readerDone chan struct{} // closed when the reader has returned

	msgsIn, bytesIn, msgsOut, bytesOut atomic.Uint64
	lastActivity                       atomic.Int64 // unix nanoseconds
}

// NewID returns a random session id.
func NewID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// New makes a session over an upgraded connection. totals is the
// listener's shared counters. Call Run to serve it.
func New(conn net.Conn, info Info, limits Limits, h Handler, totals *Counters, log *slog.Logger) *Session {
	if info.ID == "" {
		info.ID = NewID()
	}
	if info.ConnectedAt.IsZero() {
		info.ConnectedAt = time.Now()
	}
	s := &Session{
		info:       info,
		conn:       conn,
		limits:     limits,
		handler:    h,
		totals:     totals,
		log:        log.With("session", info.ID, "listener", info.Listener, "identity", info.Identity),
		wake:       make(chan struct{}, 1),
		readerDone: make(chan struct{}),
	}
	s.lastActivity.Store(info.ConnectedAt.UnixNano())
	return s
}

// Info returns the session's fixed description.
func (s *Session) Info() Info { return s.info }

// ID returns the session id.
func (s *Session) ID() string { return s.info.ID }

// Run serves the session until it ends. It returns after the writer has
// stopped, the connection is closed and Handler.OnClose has run.
func (s *Session) Run() {
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		s.writeLoop()
	}()
	drain := s.readLoop()
	close(s.readerDone)
	<-writerDone // bounded: every write has a deadline
	if drain {
		// Bounded in time and bytes: the peer answers our close and hangs up.
		_ = s.conn.SetReadDeadline(time.Now().Add(closeWait))
		_, _ = io.CopyN(io.Discard, s.conn, 1<<20)
	}
	s.conn.Close()
	s.mu.Lock()
	s.closing = true
	if s.code == 0 {
		s.code, s.reason = ws.StatusAbnormalClosure, "connection lost"
	}
	s.queue, s.queued = nil, 0
	s.mu.Unlock()
	s.handler.OnClose(s)
}

// Send queues one compiled frame (see package wire). It reports false if
// the session is closing or the frame overflowed the queue (the session is
// then closing with 1013).
func (s *Session) Send(frame []byte) bool {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return false
	}
	if s.queued+len(frame) > s.limits.QueueBytes {
		s.overflowLocked()
		s.mu.Unlock()
		return false
	}
	s.queue = append(s.queue, frame)
	s.queued += len(frame)
	s.mu.Unlock()
	s.signal()
	return true
}

// overflowLocked drops the queue and closes with 1013.
func (s *Session) overflowLocked() {
	s.totals.SlowCloses.Add(1)
	s.totals.Drops.Add(uint64(len(s.queue)) + 1)
	s.log.Warn("slow consumer: outbound queue full, closing", "queued_bytes", s.queued, "limit", s.limits.QueueBytes)
	s.queue, s.queued = s.queue[:0], 0
	s.closeLocked(CodeTryAgainLater, "slow consumer: queue full")
}

// Deliver implements hub.Subscriber: it queues the message in the
// session's wire format, encoded once per fan-out.
func (s *Session) Deliver(d *hub.Delivery) bool {
	if s.info.Role == RoleDevice {
		return s.Send(d.Frame(kindDevice, deviceFrame))
	}
	return s.Send(d.Frame(kindApp, appFrame))
}

// Frame kinds cached on a hub.Delivery.
const (
	kindApp = iota
	kindDevice
)

func appFrame(m hub.Message) []byte { return wire.MessageFrame(m.Channel, m.Data, m.Binary) }

func deviceFrame(m hub.Message) []byte {
	if m.Binary {
		return wire.Frame(ws.OpBinary, m.Data)
	}
	return wire.Frame(ws.OpText, m.Data)
}

// Close ends the session: queued frames are written, then a close frame
// with code and reason; the connection closes when the peer answers or
// after a short bound. Close is idempotent; only the first code counts.
func (s *Session) Close(code ws.StatusCode, reason string) {
	s.mu.Lock()
	s.closeLocked(code, reason)
	s.mu.Unlock()
}

func (s *Session) closeLocked(code ws.StatusCode, reason string) {
	if s.closing {
		return
	}
	s.closing = true
	s.code, s.reason = code, reason
	f := wire.CloseFrame(code, reason)
	s.queue = append(s.queue, f)
	s.queued += len(f)
	s.signal()
}

// CloseStatus returns the close code and reason once the session is
// closing (zero before).
func (s *Session) CloseStatus() (ws.StatusCode, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.code, s.reason
}

func (s *Session) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// take empties the queue for the writer.
func (s *Session) take(buf [][]byte) (frames [][]byte, closing bool) {
	s.mu.Lock()
	frames, s.queue = s.queue, buf[:0]
	s.queued = 0
	closing = s.closing
	s.mu.Unlock()
	return frames, closing
}

var writers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 16<<10) }}

// writeLoop is the only writer to the socket.
func (s *Session) writeLoop() {
	ping := time.NewTicker(s.limits.PingInterval)
	defer ping.Stop()
	var spare [][]byte
	for {
		readerDone := false
		select {
		case <-s.wake:
		case <-ping.C:
			s.Send(pingFrame)
		case <-s.readerDone:
			readerDone = true
		}
		frames, closing := s.take(spare)
		if len(frames) > 0 {
			if err := s.write(frames); err != nil {
				if !readerDone && !closing {
					s.log.Debug("write failed", "err", err)
				}
				s.conn.Close() // unblocks the reader
				return
			}
		}
		clear(frames)
		spare = frames
		if closing {
			// The close frame is out (or the session ended): give the
			// peer a bounded time to answer, then the reader returns.
			_ = s.conn.SetReadDeadline(time.Now().Add(closeWait))
			return
		}
		if readerDone {
			return
		}
	}
}

var pingFrame = wire.Frame(ws.OpPing, nil)

// write sends frames in one batch, through a pooled buffer so that small
// frames share TLS records; no buffer is held while the session is idle.
func (s *Session) write(frames [][]byte) error {
	_ = s.conn.SetWriteDeadline(time.Now().Add(s.limits.WriteTimeout))
	var n int
	var err error
	if len(frames) == 1 {
		n, err = s.conn.Write(frames[0])
	} else {
		bw := writers.Get().(*bufio.Writer)
		bw.Reset(s.conn)
		for _, f := range frames {
			var m int
			m, err = bw.Write(f)
			n += m
			if err != nil {
				break
			}
		}
		if err == nil {
			err = bw.Flush()
		}
		bw.Reset(nil)
		writers.Put(bw)
	}
	if err != nil {
		return err
	}
	s.msgsOut.Add(uint64(len(frames)))
	s.bytesOut.Add(uint64(n))
	s.totals.MsgsOut.Add(uint64(len(frames)))
	s.totals.BytesOut.Add(uint64(n))
	return nil
}
