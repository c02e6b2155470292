package protocol

import (
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/wssgate/wssgate/gateway/hub"
	"github.com/wssgate/wssgate/gateway/session"
)

// sinkConn is a net.Conn whose writes succeed at once and whose reads
// block until Close: the session's own cost, without a socket.
type sinkConn struct {
	net.Conn // nil: methods not overridden are not used
	once     sync.Once
	closed   chan struct{}
}

func (c *sinkConn) Read([]byte) (int, error)         { <-c.closed; return 0, io.EOF }
func (c *sinkConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c *sinkConn) Close() error                     { c.once.Do(func() { close(c.closed) }); return nil }
func (c *sinkConn) SetDeadline(time.Time) error      { return nil }
func (c *sinkConn) SetReadDeadline(time.Time) error  { return nil }
func (c *sinkConn) SetWriteDeadline(time.Time) error { return nil }

// BenchmarkAppDeliver measures the per-recipient cost of a fan-out to an
// app session: Deliver (frame compiled once, shared) → queue → writer →
// conn.Write.
func BenchmarkAppDeliver(b *testing.B) {
	log := slog.New(slog.DiscardHandler)
	h := hub.New("bench", nil)
	p := &App{Hub: h, Log: log, Ended: func(*session.Session) {}}
	limits := session.Limits{MaxMessage: 1 << 20, QueueBytes: 1 << 30, WriteTimeout: time.Second, PingInterval: time.Hour, IdleTimeout: 2 * time.Hour}
	conn := &sinkConn{closed: make(chan struct{})}
	s := p.NewSession(conn, &session.Info{Role: session.RoleApp}, nil, &limits, &session.Totals{})
	done := make(chan struct{})
	go func() { s.Run(); close(done) }()
	sub := s.Handler().(hub.Subscriber)
	d := &hub.Delivery{Message: hub.Message{Channel: "devices/d1/up", Data: []byte(`{"seq":1,"ts":1700000000000000000}`)}}
	d.Frame(kindApp, appFrame)
	b.ReportAllocs()
	for b.Loop() {
		sub.Deliver(d)
	}
	conn.Close()
	<-done
}
