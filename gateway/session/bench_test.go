package session

import (
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/wssgate/wssgate/gateway/wire"
)

// sinkConn is a net.Conn whose writes succeed at once and whose reads
// block until Close: the session's own cost, without a socket.
type sinkConn struct {
	net.Conn // nil: methods not overridden are not used
	once     sync.Once
	closed   chan struct{}
	mu       sync.Mutex
	written  int
}

func newSink() *sinkConn { return &sinkConn{closed: make(chan struct{})} }

func (c *sinkConn) Read([]byte) (int, error) { <-c.closed; return 0, io.EOF }
func (c *sinkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.written += len(p)
	c.mu.Unlock()
	return len(p), nil
}
func (c *sinkConn) Close() error                     { c.once.Do(func() { close(c.closed) }); return nil }
func (c *sinkConn) SetDeadline(time.Time) error      { return nil }
func (c *sinkConn) SetReadDeadline(time.Time) error  { return nil }
func (c *sinkConn) SetWriteDeadline(time.Time) error { return nil }

type nopHandler struct{}

func (nopHandler) OnMessage(*Session, ws.OpCode, []byte) {}
func (nopHandler) OnClose(*Session)                      {}

var benchLimits = Limits{MaxMessage: 1 << 20, QueueBytes: 1 << 30, WriteTimeout: time.Second, PingInterval: time.Hour, IdleTimeout: 2 * time.Hour}

// BenchmarkSessionSend measures the per-recipient transport cost of a
// fan-out: a compiled frame, shared → queue → writer → conn.Write.
func BenchmarkSessionSend(b *testing.B) {
	conn := newSink()
	s := New(conn, &Info{Role: RoleApp}, &benchLimits, nopHandler{}, &Totals{}, slog.New(slog.DiscardHandler))
	done := make(chan struct{})
	go func() { s.Run(); close(done) }()
	frame := wire.Frame(ws.OpText, []byte(`{"type":"message","channel":"devices/d1/up","data":{"seq":1,"ts":1700000000000000000}}`))
	b.ReportAllocs()
	for b.Loop() {
		s.Send(frame)
	}
	conn.Close()
	<-done
}
