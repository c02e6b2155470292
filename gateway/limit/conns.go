package limit

import (
	"net/netip"
	"sync"
	"sync/atomic"
)

// Refusal reasons of ConnLimiter.Acquire, as metrics and logs name them.
const (
	ReasonTooManyConnections      = "too_many_connections"
	ReasonTooManyConnectionsPerIP = "too_many_connections_per_ip"
)

// IPv6PrefixBits is the prefix length under which IPv6 clients share one
// per-IP limit.
const IPv6PrefixBits = 64

// ClientKey returns the address that per-IP limits key ip by: the IPv4
// address for IPv4 and IPv4-mapped IPv6, the /64 prefix's first address
// for IPv6, without zone.
func ClientKey(ip netip.Addr) netip.Addr {
	ip = ip.Unmap()
	if ip.Is6() {
		p, err := ip.WithZone("").Prefix(IPv6PrefixBits)
		if err == nil {
			return p.Addr()
		}
	}
	return ip
}

// ConnLimiter caps open connections of one listener: at most Max in all
// and at most PerIP from one client (ClientKey). Zero disables a cap. The
// per-IP table holds one entry per client with a connection open and
// removes it when its count drops to zero, so its size is bounded by the
// open connections. Safe for concurrent use.
type ConnLimiter struct {
	max, perIP int

	mu    sync.Mutex         // guards open and byIP
	open  int                // connections held now
	byIP  map[netip.Addr]int // connections held now per client, > 0
	total atomic.Int64       // mirror of open for lock-free reads
}

// NewConnLimiter returns a limiter of max connections in all and perIP per
// client; zero (or less) disables that cap.
func NewConnLimiter(max, perIP int) *ConnLimiter {
	return &ConnLimiter{max: max, perIP: perIP, byIP: make(map[netip.Addr]int)}
}

// Acquire takes one connection slot for a client at ip. If ok, release
// must be called exactly once when the connection closes (later calls do
// nothing). If not ok, reason is ReasonTooManyConnections or
// ReasonTooManyConnectionsPerIP and nothing was taken.
func (l *ConnLimiter) Acquire(ip netip.Addr) (release func(), reason string, ok bool) {
	key := ClientKey(ip)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.max > 0 && l.open >= l.max {
		return nil, ReasonTooManyConnections, false
	}
	if l.perIP > 0 {
		if l.byIP[key] >= l.perIP {
			return nil, ReasonTooManyConnectionsPerIP, false
		}
		l.byIP[key]++
	}
	l.open++
	l.total.Store(int64(l.open))
	var once atomic.Bool
	return func() {
		if once.CompareAndSwap(false, true) {
			l.release(key)
		}
	}, "", true
}

func (l *ConnLimiter) release(key netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	l.total.Store(int64(l.open))
	if l.perIP > 0 {
		if n := l.byIP[key] - 1; n > 0 {
			l.byIP[key] = n
		} else {
			delete(l.byIP, key)
		}
	}
}

// Open returns the connections held now.
func (l *ConnLimiter) Open() int { return int(l.total.Load()) }

// Clients returns the number of clients with a connection counted per IP
// (0 when there is no per-IP cap).
func (l *ConnLimiter) Clients() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.byIP)
}

// Max returns the cap on all connections (0: none).
func (l *ConnLimiter) Max() int { return l.max }

// PerIP returns the per-client cap (0: none).
func (l *ConnLimiter) PerIP() int { return l.perIP }
