package listener

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/wssgate/wssgate/gateway/limit"
)

// Limits are what a listener checks when it accepts a connection, before
// any TLS or HTTP: zero fields disable a check.
type Limits struct {
	// MaxConnections caps the open connections (handshakes and sessions).
	MaxConnections int
	// MaxConnectionsPerIP caps them per client (IPv6: per /64).
	MaxConnectionsPerIP int
	// RatePerSecond and RateBurst are a per-client token bucket for new
	// connections.
	RatePerSecond float64
	RateBurst     int
}

// refuseSlack bounds the refused app connections kept open to be
// answered 503 over HTTP; beyond it they are closed at accept as the
// device listener's are.
const refuseSlack = 16

// tlsAlert is a TLS fatal internal_error alert record: what a refused
// connection gets instead of a handshake, without the cost of one.
var tlsAlert = []byte{21, 3, 1, 0, 2, 2, 80}

// limitListener applies Limits at accept time. Accept returns only
// admitted connections (or, for the app, refused ones to answer 503,
// wrapped as *refusedConn); the rest are counted as failed handshakes,
// sent a TLS alert and closed. Accept runs on one goroutine (the Serve
// loop), which owns scratch.
type limitListener struct {
	net.Listener
	conns    *limit.ConnLimiter
	rate     *limit.RateLimiter
	counters *Counters
	log      logFunc
	answer   bool         // the app: keep up to refuseSlack refused connections for a 503
	refused  atomic.Int32 // refused connections kept for a 503, open now
	scratch  [4 << 10]byte
}

// logFunc logs one failed handshake (Counters.fail with the listener's log).
type logFunc func(Failure)

// newLimitListener wraps ln; answer says refused connections may be
// answered over HTTP (the app listener).
func newLimitListener(ln net.Listener, l Limits, c *Counters, log logFunc, answer bool) *limitListener {
	return &limitListener{
		Listener: ln,
		conns:    limit.NewConnLimiter(l.MaxConnections, l.MaxConnectionsPerIP),
		rate:     limit.NewRateLimiter(l.RatePerSecond, l.RateBurst, 0),
		counters: c,
		log:      log,
		answer:   answer,
	}
}

// Accept returns the next admitted connection.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := remoteIP(c)
		reason, msg := Reason(-1), ""
		release, why, ok := l.conns.Acquire(ip)
		switch {
		case !ok && why == limit.ReasonTooManyConnectionsPerIP:
			reason, msg = TooManyConnectionsPerIP, fmt.Sprintf("client at max_connections_per_ip (%d)", l.conns.PerIP())
		case !ok:
			reason, msg = TooManyConnections, fmt.Sprintf("listener at max_connections (%d)", l.conns.Max())
		case !l.rate.Allow(ip, time.Now()):
			release()
			reason, msg = HandshakeRate, "client over handshake_rate"
		default:
			return &limitedConn{Conn: c, release: release}, nil
		}
		l.log(Failure{Remote: c.RemoteAddr().String(), Stage: "accept", Reason: reason, Message: msg})
		if rc := l.keepForAnswer(c, reason); rc != nil {
			return rc, nil
		}
		l.refuse(c)
	}
}

// keepForAnswer returns c wrapped for a 503 if the app may still keep one.
func (l *limitListener) keepForAnswer(c net.Conn, reason Reason) *refusedConn {
	if !l.answer || l.refused.Add(1) > refuseSlack {
		if l.answer {
			l.refused.Add(-1)
		}
		return nil
	}
	return &refusedConn{limitedConn: limitedConn{Conn: c, release: func() { l.refused.Add(-1) }}, reason: reason}
}

// refuse sends a TLS alert and closes c. What the client sent already is
// read first (without waiting), so that the close is a FIN, not a reset
// that could destroy the alert.
func (l *limitListener) refuse(c net.Conn) {
	_ = c.SetDeadline(time.Now())
	_, _ = c.Read(l.scratch[:])
	_ = c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	_, _ = c.Write(tlsAlert)
	c.Close()
}

// remoteIP is the client address of c (the zero Addr if it is not TCP).
func remoteIP(c net.Conn) netip.Addr {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return a.AddrPort().Addr()
	}
	return netip.Addr{}
}

// limitedConn gives its slot back when it is closed (once).
type limitedConn struct {
	net.Conn
	release func()
	closed  atomic.Bool
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	if c.closed.CompareAndSwap(false, true) {
		c.release()
	}
	return err
}

// refusedConn is an app connection over a limit, kept to answer 503.
type refusedConn struct {
	limitedConn
	reason Reason
}

type refusedKey struct{}

// refusedContext marks the request context of a refused connection
// (http.Server.ConnContext).
func refusedContext(ctx context.Context, c net.Conn) context.Context {
	if tc, ok := c.(interface{ NetConn() net.Conn }); ok {
		c = tc.NetConn()
	}
	if rc, ok := c.(*refusedConn); ok {
		return context.WithValue(ctx, refusedKey{}, rc)
	}
	return ctx
}

// refusedOf returns the refused connection a request came on, or nil.
func refusedOf(ctx context.Context) *refusedConn {
	rc, _ := ctx.Value(refusedKey{}).(*refusedConn)
	return rc
}
