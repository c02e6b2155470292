package limit

import (
	"fmt"
	"math"
	"syscall"
)

// File-descriptor reserve of DefaultMaxConnections: descriptors kept free
// for everything that is not a client connection (certificate, CRL and
// static files, the file watcher, the admin and ops listeners and their
// clients, NATS, upstream connections of the reverse proxy, logs).
const (
	FileReserve        = 256
	FileReservePercent = 5
	// maxConnectionsUnlimited caps the result when RLIMIT_NOFILE is
	// unlimited (RLIM_INFINITY), so that it still fits an int anywhere.
	maxConnectionsUnlimited = 1 << 20
)

// FileLimit returns the process's RLIMIT_NOFILE. The Go runtime raises the
// soft limit to the hard limit at start (Go 1.19+, Linux), so soft is what
// the process may actually open.
func FileLimit() (soft, hard uint64, err error) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0, 0, fmt.Errorf("get RLIMIT_NOFILE: %w", err)
	}
	return r.Cur, r.Max, nil
}

// DefaultMaxConnections is the default max_connections of each of
// listeners listeners: MaxConnectionsFor the soft RLIMIT_NOFILE. If the
// limit cannot be read it assumes 1024, the usual default.
func DefaultMaxConnections(listeners int) int {
	soft, _, err := FileLimit()
	if err != nil {
		soft = 1024
	}
	return MaxConnectionsFor(soft, listeners)
}

// MaxConnectionsFor splits what a soft file limit allows across listeners:
// (soft − 256 − 5 % of soft) / listeners, at least 1 per listener. An
// unlimited soft limit counts as 2^20 descriptors. Each connection in a
// handshake or a session holds one descriptor; a reverse-proxied
// WebSocket holds two (the lead counts it twice or accounts the second in
// the reserve).
func MaxConnectionsFor(soft uint64, listeners int) int {
	if listeners < 1 {
		listeners = 1
	}
	if soft == math.MaxUint64 || soft > maxConnectionsUnlimited {
		soft = maxConnectionsUnlimited
	}
	reserve := uint64(FileReserve) + soft*FileReservePercent/100
	if soft <= reserve {
		return 1
	}
	return max(int((soft-reserve)/uint64(listeners)), 1)
}
