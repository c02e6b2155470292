package listener

import (
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wssgate/wssgate/gateway/certs"
)

// DefaultMaxPendingHellos bounds the ClientHellos a Coverage holds while
// their handshakes are in progress, when Coverage.MaxPending is 0.
const DefaultMaxPendingHellos = 16384

// Coverage is one listener's handshake-time coverage check. Config wraps
// the listener's tls.Config so that every ClientHello is noted, by remote
// address, with its SNI and whether the certificate about to be served
// covers what the client asked for (the SNI, or without SNI the local IP it
// dialled). When the listener learns how the handshake ended it takes the
// note back: a failed handshake names the uncovered name as its cause (one
// failure entry); a successful one is recorded in Names and, if uncovered,
// still becomes one failure entry with reason name_not_covered. Build it
// with NewCoverage; a nil *Coverage checks nothing. It is safe for
// concurrent use; mu guards pending.
type Coverage struct {
	current  func() *certs.Bundle
	names    *certs.NameLog // nil: names are not recorded
	counters *Counters
	log      *slog.Logger
	max      int

	mu      sync.Mutex
	pending map[string]hello // by remote address, while the handshake runs
	n       atomic.Int64     // len(pending), read without mu
}

// hello is what a ClientHello asked for.
type hello struct {
	sni     string
	localIP net.IP
	miss    *certs.NotCoveredError // nil: covered
}

// NewCoverage returns the coverage check of the listener whose counters
// and log are given: current is the bundle being served, names (may be
// nil) records the names of successful handshakes, maxPending bounds the
// hellos held (0: DefaultMaxPendingHellos).
func NewCoverage(current func() *certs.Bundle, names *certs.NameLog, counters *Counters, log *slog.Logger, maxPending int) *Coverage {
	if maxPending <= 0 {
		maxPending = DefaultMaxPendingHellos
	}
	return &Coverage{current: current, names: names, counters: counters, log: log, max: maxPending, pending: map[string]hello{}}
}

// Config returns a copy of inner whose GetConfigForClient notes each
// ClientHello first (see Coverage), then asks inner's.
func (c *Coverage) Config(inner *tls.Config) *tls.Config {
	if c == nil {
		return inner
	}
	out := inner.Clone()
	next := inner.GetConfigForClient
	out.GetConfigForClient = func(h *tls.ClientHelloInfo) (*tls.Config, error) {
		c.note(h)
		if next == nil {
			return nil, nil
		}
		return next(h)
	}
	return out
}

// note remembers what h asked for until the handshake ends. With too many
// handshakes in progress an uncovered hello is recorded at once.
func (c *Coverage) note(h *tls.ClientHelloInfo) {
	ip := certs.HelloLocalIP(h)
	e := hello{sni: h.ServerName, localIP: ip}
	if err := c.current().CheckCoverage(h.ServerName, ip); err != nil {
		e.miss = err.(*certs.NotCoveredError)
	}
	remote := h.Conn.RemoteAddr().String()
	c.mu.Lock()
	full := len(c.pending) >= c.max
	if !full {
		c.pending[remote] = e
		c.n.Store(int64(len(c.pending)))
	}
	c.mu.Unlock()
	if full && e.miss != nil {
		f := notCovered(Failure{Remote: remote, ServerName: e.sni, Stage: "tls"}, e.miss)
		f.Message += " (recorded at the ClientHello: more than " + strconv.Itoa(c.max) + " handshakes in progress)"
		c.counters.fail(c.log, f)
	}
}

// take returns and forgets the hello of remote.
func (c *Coverage) take(remote string) (hello, bool) {
	if c == nil || c.n.Load() == 0 {
		return hello{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.pending[remote]
	if ok {
		delete(c.pending, remote)
		c.n.Store(int64(len(c.pending)))
	}
	return e, ok
}

// failed ends a failed handshake of f.Remote: f gets the SNI and, when the
// certificate did not cover the name, becomes a name_not_covered failure
// whose message keeps the handshake's own error as detail.
func (c *Coverage) failed(f *Failure) {
	e, ok := c.take(f.Remote)
	if !ok {
		return
	}
	if f.ServerName == "" {
		f.ServerName = e.sni
	}
	if e.miss != nil {
		*f = notCovered(*f, e.miss)
	}
}

// succeeded ends a successful TLS handshake of remote: it records the name
// in the NameLog and returns why the certificate did not cover it, or nil.
// The caller records the miss (see notCovered) with what happens next.
func (c *Coverage) succeeded(remote string) *certs.NotCoveredError {
	e, ok := c.take(remote)
	if !ok {
		return nil
	}
	if c.names != nil {
		c.names.RecordHandshake(e.sni, e.localIP, time.Now())
	}
	return e.miss
}

// notCovered turns f into the name_not_covered failure of miss; f's own
// message, if any, follows as what happened next.
func notCovered(f Failure, miss *certs.NotCoveredError) Failure {
	msg := miss.Error()
	if f.Message != "" {
		msg += "; the handshake then failed: " + f.Message
	}
	f.Reason, f.Message = NameNotCovered, msg
	f.Name, f.CertificateSANs = miss.Name, miss.SANs
	if f.ServerName == "" && miss.SNI {
		f.ServerName = miss.Name
	}
	if f.Stage == "" {
		f.Stage = "tls"
	}
	return f
}

// connState is the app listener's http.Server.ConnState: the first state
// a connection reaches after its TLS handshake ends it for the Coverage
// (failed handshakes end in the error log first).
func (a *App) connState(conn net.Conn, st http.ConnState) {
	if st == http.StateNew || a.Coverage == nil || a.Coverage.n.Load() == 0 {
		return
	}
	tc, ok := conn.(*tls.Conn)
	if !ok {
		return
	}
	remote := conn.RemoteAddr().String()
	if tc.ConnectionState().HandshakeComplete {
		// The request (if any) comes next: a refusal of it is its own failure.
		if miss := a.Coverage.succeeded(remote); miss != nil {
			a.Counters.fail(a.Log, notCovered(Failure{Remote: remote, Stage: "tls"}, miss))
		}
		return
	}
	if st == http.StateClosed {
		a.Coverage.take(remote) // never handshook: nothing to record
	}
}
