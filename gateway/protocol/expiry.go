package protocol

import (
	"sync"
	"time"

	"github.com/wssgate/wssgate/gateway/auth"
	"github.com/wssgate/wssgate/gateway/session"
)

// expiry closes a session with 4003 token expired when its credentials
// lapse: one time.AfterFunc per session whose grant expires, stopped when
// the session closes. The zero value never expires.
type expiry struct {
	mu      sync.Mutex // guards the fields below
	exp     time.Time  // the credential's expiry, without leeway; zero: never
	leeway  time.Duration
	t       *time.Timer // nil when exp is zero
	stopped bool
}

// arm starts the timer of g's expiry, if any.
func (e *expiry) arm(s *session.Session, g *auth.Grant) {
	if g.CloseAt().IsZero() {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.exp, e.leeway = g.Expiry, g.Leeway
	e.t = time.AfterFunc(time.Until(g.CloseAt()), func() { s.Close(session.CodeTokenExpired, "token expired") })
}

// extend moves the close to exp plus the leeway. It reports false when the
// session has no expiry, or has expired or closed already.
func (e *expiry) extend(exp time.Time) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.t == nil || e.stopped || !e.t.Stop() {
		return false
	}
	e.exp = exp
	e.t.Reset(time.Until(exp.Add(e.leeway)))
	return true
}

// expires reports whether the session holds credentials that expire.
func (e *expiry) expires() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.t != nil
}

// stop ends the timer for good. Idempotent.
func (e *expiry) stop() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.stopped = true
	if e.t != nil {
		e.t.Stop()
	}
}

// AuthExpiry returns when session s's credentials expire (a JWT's exp or
// the session check's expires_at, as last refreshed), zero if never.
func AuthExpiry(e session.Entry) time.Time {
	s, _ := e.(*session.Session)
	if s == nil {
		return time.Time{}
	}
	if l, ok := s.Handler().(interface{ authExpiry() *expiry }); ok {
		e := l.authExpiry()
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.exp
	}
	return time.Time{}
}
