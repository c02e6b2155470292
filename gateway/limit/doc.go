// Package limit holds the gateway's defences against hostile load, as small
// building blocks that listeners and sessions call:
//
//   - Budget: one process-wide memory budget in bytes that read buffers of
//     partial messages and outbound queues draw from (DefaultBudget sizes it
//     from GOMEMLIMIT, the cgroup or the machine).
//   - FileLimit and DefaultMaxConnections: how many connections the
//     process's RLIMIT_NOFILE allows, so that the gateway refuses cleanly
//     before accept ever fails with EMFILE.
//   - ConnLimiter: a cap on open connections, globally and per client IP.
//   - RateLimiter: a per-IP token bucket for handshakes, in a bounded table.
//   - SessionRate: a per-session messages and bytes per second bucket.
//   - Flapping: an identity replaced too often a minute is held off.
//
// Concurrency contract: this package starts no goroutines and owns none.
// Budget, ConnLimiter, RateLimiter and Flapping are safe for concurrent use
// (Budget is lock-free; the others guard their tables with one mutex each).
// SessionRate is not: it belongs to one session's reader goroutine.
// Everything takes "now" from its caller where time matters, so tests drive
// the clock; nothing here sleeps.
//
// Client IPs are keyed by address, except that IPv6 addresses are keyed by
// their /64 prefix (IPv6PrefixBits): one subscriber usually holds a whole
// /64, so per-address limits would be void for IPv6. IPv4-mapped IPv6
// addresses count as their IPv4 address.
package limit
