package listener

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Proxied counts the WebSockets the app listener's root handler hijacked
// (the reverse proxy's upgrades) and owns their connections: App.Close
// closes those still open. They also hold one of the listener's Open slots
// each, so that they count toward max_connections.
type Proxied struct {
	Open  atomic.Int64  // proxied WebSockets open now
	Total atomic.Uint64 // proxied WebSockets ever opened

	mu    sync.Mutex            // guards conns
	conns map[net.Conn]struct{} // hijacked and not yet closed
}

func (p *Proxied) add(c net.Conn) {
	p.mu.Lock()
	if p.conns == nil {
		p.conns = map[net.Conn]struct{}{}
	}
	p.conns[c] = struct{}{}
	p.mu.Unlock()
	p.Open.Add(1)
	p.Total.Add(1)
}

func (p *Proxied) remove(c net.Conn) {
	p.mu.Lock()
	_, ok := p.conns[c]
	delete(p.conns, c)
	p.mu.Unlock()
	if ok {
		p.Open.Add(-1)
	}
}

// closeAll closes every proxied WebSocket still open (on App.Close: net/http's
// Shutdown does not wait for hijacked connections).
func (p *Proxied) closeAll() {
	p.mu.Lock()
	conns := make([]net.Conn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

// serveProxiedUpgrade admits an upgrade request for the root handler (one
// Open slot, refused with 503 at max_connections) and hands the handler a
// ResponseWriter whose Hijack returns an idle-bounded connection.
func (a *App) serveProxiedUpgrade(w http.ResponseWriter, r *http.Request, next http.Handler) {
	if n := a.Counters.Open.Add(1); a.Limits.MaxConnections > 0 && n > int64(a.Limits.MaxConnections) {
		a.Counters.Open.Add(-1)
		f := Failure{Remote: r.RemoteAddr, Stage: "upgrade", Reason: TooManyConnections,
			Message: fmt.Sprintf("proxied upgrade: listener at max_connections (%d)", a.Limits.MaxConnections)}
		if r.TLS != nil {
			f.ServerName = r.TLS.ServerName
		}
		a.Counters.fail(a.Log, f)
		http.Error(w, "listener at max_connections", http.StatusServiceUnavailable)
		return
	}
	defer a.Counters.Open.Add(-1)
	next.ServeHTTP(&proxiedWriter{ResponseWriter: w, a: a}, r)
}

// proxiedWriter intercepts the root handler's Hijack.
type proxiedWriter struct {
	http.ResponseWriter
	a *App
}

// Unwrap lets http.ResponseController reach the server's writer.
func (p *proxiedWriter) Unwrap() http.ResponseWriter { return p.ResponseWriter }

// Hijack hands over the connection with the request's deadlines replaced by
// the idle timeout (see idleConn), and counts it.
func (p *proxiedWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(p.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	h := p.a.HTTP
	_ = conn.SetReadDeadline(time.Time{})
	if h.ProxiedWriteTimeout > 0 { // the 101 goes out through brw, on conn itself
		_ = conn.SetWriteDeadline(time.Now().Add(h.ProxiedWriteTimeout))
	}
	ic := &idleConn{Conn: conn, idle: h.IdleTimeout, write: h.ProxiedWriteTimeout, proxied: &p.a.Proxied}
	ic.touch()
	p.a.Proxied.add(ic)
	return ic, brw, nil
}

// idleConn is a proxied WebSocket's client connection: a Read fails once no
// byte moved either way for idle (the proxy then closes both sides), each
// Write is bounded by write. Bytes, not frames, count: the proxy does not
// parse the stream.
type idleConn struct {
	net.Conn
	idle, write time.Duration
	proxied     *Proxied
	last        atomic.Int64 // Unix nanoseconds of the latest byte either way
	closeOnce   sync.Once
}

func (c *idleConn) touch() { c.last.Store(time.Now().UnixNano()) }

func (c *idleConn) Read(b []byte) (int, error) {
	for {
		if c.idle > 0 {
			_ = c.Conn.SetReadDeadline(time.Unix(0, c.last.Load()).Add(c.idle))
		}
		n, err := c.Conn.Read(b)
		if n > 0 {
			c.touch()
		}
		if n == 0 && c.idle > 0 && errors.Is(err, os.ErrDeadlineExceeded) &&
			time.Since(time.Unix(0, c.last.Load())) < c.idle {
			continue // the other direction moved: the idle clock restarted
		}
		if n == 0 && errors.Is(err, os.ErrDeadlineExceeded) {
			return 0, fmt.Errorf("proxied WebSocket idle for %s: %w", c.idle, err)
		}
		return n, err
	}
}

func (c *idleConn) Write(b []byte) (int, error) {
	if c.write > 0 {
		_ = c.Conn.SetWriteDeadline(time.Now().Add(c.write))
	}
	n, err := c.Conn.Write(b)
	if n > 0 {
		c.touch()
	}
	return n, err
}

func (c *idleConn) Close() error {
	err := c.Conn.Close()
	c.closeOnce.Do(func() { c.proxied.remove(c) })
	return err
}
