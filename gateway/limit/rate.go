package limit

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultMaxIPs bounds a RateLimiter's table when none is given.
const DefaultMaxIPs = 65536

// RateLimiter is a token bucket per client (ClientKey) for handshakes:
// rate tokens a second, up to burst, one token per Allow. Its table holds
// at most maxIPs clients; a new client beyond that evicts the least
// recently seen one (whose next handshake then starts from a full bucket:
// an attacker rotating over more addresses than the table holds is bounded
// by the connection limits, not by this). After the table has grown, Allow
// does not allocate. Safe for concurrent use.
type RateLimiter struct {
	perNano float64 // tokens per nanosecond
	burst   float64
	maxIPs  int

	mu      sync.Mutex // guards index, entries, head and tail
	index   map[netip.Addr]int32
	entries []bucket
	head    int32 // most recently seen, -1 if none
	tail    int32 // least recently seen, -1 if none
	refused atomic.Uint64
}

// bucket is one client's tokens and its place in the recency list.
type bucket struct {
	key        netip.Addr
	tokens     float64
	last       int64 // UnixNano of the last refill
	prev, next int32 // towards head, towards tail; -1 at the ends
}

// NewRateLimiter returns a limiter of perSecond handshakes a second with
// bursts of burst (at least 1) per client, tracking at most maxIPs clients
// (<= 0: DefaultMaxIPs). perSecond <= 0 returns a limiter that allows
// everything.
func NewRateLimiter(perSecond float64, burst, maxIPs int) *RateLimiter {
	if maxIPs <= 0 {
		maxIPs = DefaultMaxIPs
	}
	return &RateLimiter{
		perNano: perSecond / 1e9,
		burst:   float64(max(burst, 1)),
		maxIPs:  maxIPs,
		index:   make(map[netip.Addr]int32),
		head:    -1,
		tail:    -1,
	}
}

// Allow takes a token of ip's bucket at now and reports whether there was
// one. Refusals are counted (Refused).
func (l *RateLimiter) Allow(ip netip.Addr, now time.Time) bool {
	if l == nil || l.perNano <= 0 {
		return true
	}
	key, t := ClientKey(ip), now.UnixNano()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.lookup(key, t)
	if d := t - b.last; d > 0 {
		b.tokens = min(l.burst, b.tokens+float64(d)*l.perNano)
		b.last = t
	}
	if b.tokens < 1 {
		l.refused.Add(1)
		return false
	}
	b.tokens--
	return true
}

// lookup returns key's bucket, made (full) or recycled if new, moved to
// the head of the recency list.
func (l *RateLimiter) lookup(key netip.Addr, t int64) *bucket {
	i, ok := l.index[key]
	switch {
	case ok:
		l.unlink(i)
	case len(l.entries) < l.maxIPs:
		i = int32(len(l.entries))
		l.entries = append(l.entries, bucket{})
	default:
		i = l.tail
		l.unlink(i)
		delete(l.index, l.entries[i].key)
	}
	if !ok {
		l.entries[i] = bucket{key: key, tokens: l.burst, last: t}
		l.index[key] = i
	}
	l.pushFront(i)
	return &l.entries[i]
}

func (l *RateLimiter) unlink(i int32) {
	e := &l.entries[i]
	if e.prev >= 0 {
		l.entries[e.prev].next = e.next
	} else {
		l.head = e.next
	}
	if e.next >= 0 {
		l.entries[e.next].prev = e.prev
	} else {
		l.tail = e.prev
	}
	e.prev, e.next = -1, -1
}

func (l *RateLimiter) pushFront(i int32) {
	e := &l.entries[i]
	e.prev, e.next = -1, l.head
	if l.head >= 0 {
		l.entries[l.head].prev = i
	}
	l.head = i
	if l.tail < 0 {
		l.tail = i
	}
}

// Len returns the number of clients tracked now (at most maxIPs).
func (l *RateLimiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.index)
}

// Refused returns how many Allow calls were refused.
func (l *RateLimiter) Refused() uint64 {
	if l == nil {
		return 0
	}
	return l.refused.Load()
}

// SessionRate limits one session's inbound messages and bytes per second
// with two token buckets, each holding one second's worth. A message is
// allowed while a message token is left and the byte bucket is not in
// debt; its bytes are then taken even if that puts the bucket in debt, so
// that a message larger than BytesPerSec can pass (over any period T the
// bytes allowed stay below BytesPerSec × (T + 1 s) plus one message).
// A zero field disables that bucket. The zero value allows everything.
//
// Not safe for concurrent use: it belongs to the session's reader
// goroutine. It never allocates.
type SessionRate struct {
	MsgsPerSec  float64
	BytesPerSec float64

	msgs, bytes float64   // tokens left
	last        time.Time // of the last refill; zero before the first Allow
}

// Allow accounts one message of n bytes received at now and reports
// whether it is within the rates; false means the session goes over and
// should be closed (1008 "rate limit").
func (r *SessionRate) Allow(n int, now time.Time) bool {
	if r.MsgsPerSec <= 0 && r.BytesPerSec <= 0 {
		return true
	}
	msgBurst := max(r.MsgsPerSec, 1)
	if r.last.IsZero() {
		r.msgs, r.bytes, r.last = msgBurst, r.BytesPerSec, now
	} else if d := now.Sub(r.last); d > 0 {
		s := d.Seconds()
		r.msgs = min(msgBurst, r.msgs+s*r.MsgsPerSec)
		r.bytes = min(r.BytesPerSec, r.bytes+s*r.BytesPerSec)
		r.last = now
	}
	if r.MsgsPerSec > 0 && r.msgs < 1 || r.BytesPerSec > 0 && r.bytes < 0 {
		return false
	}
	if r.MsgsPerSec > 0 {
		r.msgs--
	}
	if r.BytesPerSec > 0 {
		r.bytes -= float64(n)
	}
	return true
}
