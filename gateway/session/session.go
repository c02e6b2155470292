package session

import (
	"bufio"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"

	"github.com/wssgate/wssgate/gateway/limit"
	"github.com/wssgate/wssgate/gateway/wire"
	"github.com/wssgate/wssgate/internal/logsample"
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
	CodeTokenExpired   ws.StatusCode = 4003 // the session's credentials expired (not refreshed)
	CodeFlapping       ws.StatusCode = 4008 // identity held off: replaced too often
)

// Limits bound one session.
type Limits struct {
	MaxMessage   int64         // largest message read; larger → 1009
	QueueBytes   int           // outbound queue bound; overflow → 1013
	WriteTimeout time.Duration // one batch write to the peer
	PingInterval time.Duration // how often the writer pings
	IdleTimeout  time.Duration // no frame from the peer for this long → close
	// Budget is the process-wide memory budget that read buffers of
	// partial messages and outbound queues draw from; nil: unlimited. A
	// session whose next allocation does not fit is closed with 1013.
	Budget *limit.Budget
	// MsgsPerSec and BytesPerSec bound what the peer sends (0: no
	// limit); over them → close 1008 "rate limit".
	MsgsPerSec, BytesPerSec float64
	// Sample, if set, samples the log lines of tripped limits by limit
	// (an attacker can trip them on every connection).
	Sample *logsample.Sampler
}

// closeWait bounds how long a closing session waits for the peer's close.
const closeWait = 2 * time.Second

// Info describes a session. It is fixed once the session is created.
type Info struct {
	ID              string
	Listener        string
	Role            Role
	Identity        string
	AuthMethod      string // how Identity was proven: cert, token, jwt, check, dev; "" anonymous
	RemoteAddr      string
	LocalAddr       string
	ConnectedAt     time.Time
	TLSVersion      string
	CipherSuite     string
	ServerName      string // SNI
	ALPN            string
	PeerCertSubject string
	PeerCertSHA256  string              // lowercase hex of the leaf's DER
	PeerChain       []*x509.Certificate // client certificate chain, leaf first; nil without one
	CertGeneration  uint64
	Origin          string
	UserAgent       string
	// Transport is "" for a WebSocket speaking the listener's own protocol,
	// "socketio-polling" or "socketio-websocket" for a Socket.IO client.
	Transport string
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
	limits  *Limits
	handler Handler
	log     *slog.Logger
	totals  *Totals // the listener's running totals, shared

	mu       sync.Mutex // guards the fields below
	queue    [][]byte   // frames waiting for the writer
	queued   int        // bytes in queue
	charged  int64      // budget held by queue and the batch in flight (close frames excepted)
	closing  bool       // a close frame is queued or the session is ending: Send refuses
	echo     bool       // the close being queued answers the peer's (not counted)
	writing  bool       // a writer goroutine exists (see writeLoop)
	parked   bool       // the writer waits on wake for frames
	wake     chan struct{}
	sent     bool // a frame other than a ping was queued since the last ping
	retire   bool // nothing but a ping since the last one: the writer ends when done
	code     ws.StatusCode
	reason   string
	pinger   *time.Timer // queues a ping every PingInterval
	writerWG sync.WaitGroup

	msgsIn, bytesIn, msgsOut, bytesOut atomic.Uint64
	drops                              atomic.Uint64     // frames lost: overflow, failed or timed-out write
	lastActivity                       atomic.Int64      // unix nanoseconds
	rate                               limit.SessionRate // the reader's only
}

// NewID returns a random session id.
func NewID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// New makes a session over an upgraded connection. limits and totals are
// the listener's, shared by its sessions. Call Run to serve it.
func New(conn net.Conn, info *Info, limits *Limits, h Handler, totals *Totals, log *slog.Logger) *Session {
	s := &Session{info: *info, conn: conn, limits: limits, handler: h, totals: totals, log: log}
	s.rate = limit.SessionRate{MsgsPerSec: limits.MsgsPerSec, BytesPerSec: limits.BytesPerSec}
	if s.info.ID == "" {
		s.info.ID = NewID()
	}
	if s.info.ConnectedAt.IsZero() {
		s.info.ConnectedAt = time.Now()
	}
	s.lastActivity.Store(s.info.ConnectedAt.UnixNano())
	return s
}

// Handler returns the session's protocol (what New was given).
func (s *Session) Handler() Handler { return s.handler }

// Info returns the session's fixed description.
func (s *Session) Info() Info { return s.info }

// ID returns the session id.
func (s *Session) ID() string { return s.info.ID }

// Run serves the session until it ends, on the calling goroutine (the
// reader). A writer goroutine exists only while the session has traffic
// (it ends after a ping interval with nothing but pings to write), so an
// idle session costs one goroutine. Run returns after the last write, once
// the connection is closed and Handler.OnClose has run.
func (s *Session) Run() {
	s.mu.Lock()
	s.pinger = time.AfterFunc(s.limits.PingInterval, s.ping)
	s.mu.Unlock()
	st := s.readLoop()
	s.mu.Lock()
	s.pinger.Stop()
	s.closing = true // Send refuses from now on, so no writer starts after this
	inline := !s.writing && len(s.queue) > 0
	if inline { // e.g. the reader's close frame: write it on this goroutine
		s.writing = true
		s.writerWG.Add(1)
	}
	s.wakeLocked() // a parked writer writes what is left and ends
	s.mu.Unlock()
	if inline {
		s.writeLoop()
	}
	s.writerWG.Wait() // bounded: every write has a deadline
	if st.drain {
		s.drain(st) // bounded: until the peer's close frame, closeWait or 1 MiB
	}
	s.conn.Close()
	s.mu.Lock()
	if s.code == 0 {
		s.code, s.reason = ws.StatusAbnormalClosure, "connection lost"
	}
	s.queue, s.queued = nil, 0
	s.releaseLocked()
	s.mu.Unlock()
	s.handler.OnClose(s)
}

// ping queues a ping and re-arms its timer while the session lives. A
// writer that wrote nothing but pings since the last one ends after this
// one: an idle session keeps no writer goroutine.
func (s *Session) ping() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.retire, s.sent = !s.sent, false
	if s.enqueueLocked(pingFrame) {
		s.pinger.Reset(s.limits.PingInterval)
	}
}

// Send queues one compiled frame (see package wire). It reports false if
// the session is closing or the frame overflowed the queue (the session is
// then closing with 1013, and the frame is counted as dropped).
func (s *Session) Send(frame []byte) bool {
	s.mu.Lock()
	s.sent, s.retire = true, false
	ok := s.enqueueLocked(frame)
	s.mu.Unlock()
	return ok
}

// enqueueLocked is Send with s.mu held.
func (s *Session) enqueueLocked(frame []byte) bool {
	if s.closing {
		return false
	}
	// The bound is on backlog: a frame alone is always queued, even one
	// larger than QueueBytes (a big device message grows by base64 or JSON
	// escaping on its way to apps).
	if len(s.queue) > 0 && s.queued+len(frame) > s.limits.QueueBytes {
		s.overflowLocked()
		return false
	}
	if !s.chargeLocked(len(frame)) {
		return false
	}
	s.queue = append(s.queue, frame)
	s.queued += len(frame)
	s.startWriterLocked()
	return true
}

// overflowLocked drops the queue and closes with 1013.
func (s *Session) overflowLocked() {
	s.totals.SlowCloses.Add(1)
	s.lost(len(s.queue) + 1) // the queue and the frame that did not fit
	s.log.Warn("slow consumer: outbound queue full, closing", "session", s.info.ID, "listener", s.info.Listener,
		"identity", s.info.Identity, "queued_bytes", s.queued, "limit", s.limits.QueueBytes)
	s.queue, s.queued = s.queue[:0], 0
	s.releaseLocked()
	s.closeLocked(CodeTryAgainLater, "slow consumer: queue full")
}

// lost counts frames that will never reach the peer, in the session's
// and the listener's drop counts.
func (s *Session) lost(frames int) {
	s.drops.Add(uint64(frames))
	s.totals.Drops.Add(uint64(frames))
}

// Close ends the session: queued frames are written, then a close frame
// with code and reason; the connection closes when the peer answers or
// after a short bound. Close is idempotent; only the first code counts.
func (s *Session) Close(code ws.StatusCode, reason string) {
	s.mu.Lock()
	if s.queueCloseLocked(code, reason) {
		s.startWriterLocked()
	}
	s.mu.Unlock()
}

// closeFromReader is Close for the reader, which returns right after: Run
// then writes the close frame itself, unless a writer is running.
func (s *Session) closeFromReader(code ws.StatusCode, reason string) {
	s.mu.Lock()
	s.queueCloseLocked(code, reason)
	s.mu.Unlock()
}

// echoClose answers the peer's close with its code; it is not counted
// as a close the gateway started.
func (s *Session) echoClose(code ws.StatusCode, reason string) {
	s.mu.Lock()
	s.echo = true
	s.queueCloseLocked(code, reason)
	s.echo = false
	s.mu.Unlock()
}

func (s *Session) closeLocked(code ws.StatusCode, reason string) {
	if s.queueCloseLocked(code, reason) {
		s.startWriterLocked()
	}
}

// queueCloseLocked queues the close frame unless the session is closing
// already; it reports whether it did.
func (s *Session) queueCloseLocked(code ws.StatusCode, reason string) bool {
	if s.closing {
		return false
	}
	if !s.echo {
		s.totals.Closes.Add(code) // a close we start, not the peer's echoed
	}
	s.closing = true
	s.code, s.reason = code, reason
	f := wire.CloseFrame(code, reason)
	s.queue = append(s.queue, f)
	s.queued += len(f)
	return true
}

// CloseStatus returns the close code and reason once the session is
// closing (zero before).
func (s *Session) CloseStatus() (ws.StatusCode, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.code, s.reason
}

// startWriterLocked wakes the writer, or starts one if there is none.
func (s *Session) startWriterLocked() {
	if s.writing {
		s.wakeLocked()
		return
	}
	if s.wake == nil {
		s.wake = make(chan struct{}, 1)
	}
	s.writing = true
	s.writerWG.Add(1)
	go s.writeLoop()
}

// wakeLocked wakes the writer if it is parked. One wake-up is pending at
// most: parked is cleared here, under the lock.
func (s *Session) wakeLocked() {
	if s.parked {
		s.parked = false
		s.wake <- struct{}{}
	}
}

var writers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 16<<10) }}

// writeLoop is the writer, the only goroutine that writes to the socket: it
// writes what is queued, in batches. With the queue empty it parks until
// the next frame, and ends once the session is closing or idle (see ping).
// Keeping it parked rather than starting one per frame saves a goroutine
// start, the growth of its stack through crypto/tls and its exit on every
// wake-up: at one frame per wake-up, about a tenth of the CPU per delivery.
func (s *Session) writeLoop() {
	defer s.writerWG.Done()
	var frames [][]byte
	lingered, burst := false, false
	for {
		s.mu.Lock()
		if len(s.queue) == 0 && burst && !lingered {
			// The last batch had several frames: a fan-out burst, where
			// the publisher is about to queue more. Let it run once, then
			// write what came as one batch, instead of ending this
			// goroutine and starting another.
			s.mu.Unlock()
			lingered = true
			runtime.Gosched()
			continue
		}
		if len(s.queue) == 0 {
			if s.closing || s.retire {
				s.writing, s.retire = false, false
				s.mu.Unlock()
				return
			}
			s.parked = true
			s.mu.Unlock()
			if cap(frames) > 64 {
				frames = nil // a fan-out burst's batch array is not kept while parked
			}
			<-s.wake
			lingered, burst = false, false
			continue
		}
		lingered = false
		frames, s.queue = s.queue, frames[:0]
		s.queued = 0
		charged := s.charged
		s.charged = 0
		burst = len(frames) > 1
		closeOut := s.closing && s.code != 0 // the batch ends with our close frame
		s.mu.Unlock()

		err := s.write(frames)
		s.limits.Budget.Release(charged)
		if err != nil {
			s.writeFailed(err, len(frames))
			return
		}
		clear(frames)
		if closeOut {
			// Give the peer a bounded time to answer; then the reader returns.
			_ = s.conn.SetReadDeadline(time.Now().Add(closeWait))
		}
	}
}

// writeFailed ends the session after a failed write, counting what is lost:
// a write that timed out is a slow consumer.
func (s *Session) writeFailed(err error, inFlight int) {
	s.conn.Close() // unblocks the reader, which ends the session
	s.mu.Lock()
	lost := inFlight + len(s.queue)
	s.queue, s.queued, s.writing = nil, 0, false
	s.releaseLocked()
	if !s.closing {
		s.closing = true
		s.code, s.reason = ws.StatusAbnormalClosure, "write failed: "+err.Error()
	}
	s.mu.Unlock()
	s.lost(lost)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		s.totals.SlowCloses.Add(1)
		s.log.Warn("slow consumer: write timed out, closing", "session", s.info.ID, "listener", s.info.Listener,
			"identity", s.info.Identity, "timeout", s.limits.WriteTimeout, "frames_lost", lost)
		return
	}
	s.log.Debug("write failed", "session", s.info.ID, "err", err, "frames_lost", lost)
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
