// Package memlimit gives the Go runtime a soft memory limit that follows
// what the gateway may hold: its memory budget (partial messages and
// outbound queues, package limit), a fixed headroom, and a fixed cost per
// open connection (TLS state, buffers, goroutine stacks). The garbage
// collector then works harder before the process grows past it, instead of
// letting garbage (closed attackers' buffers, handshake garbage) double
// the heap as GOGC alone allows. The limit is soft: the runtime never
// fails an allocation for it, and it caps the GC's CPU when live memory is
// above it.
//
// Concurrency: Start runs one goroutine, owned by the caller, that
// re-reads the connection count every Interval until stop is called; stop
// waits for it and restores the runtime's limit. Do not use it when the
// operator set GOMEMLIMIT.
package memlimit

import (
	"math"
	"runtime/debug"
	"time"
)

// Defaults of the formula: limit = budget + Headroom + PerConnection ×
// open connections.
const (
	Headroom      = 96 << 20
	PerConnection = 24 << 10 // an idle session measures ~22 KiB (docs/performance.md)
	Interval      = time.Second
)

// Limit is the soft limit for a budget of budget bytes and conns open
// connections.
func Limit(budget, conns int64) int64 {
	if budget <= 0 { // an unlimited budget: no limit either
		return math.MaxInt64
	}
	return budget + Headroom + PerConnection*max(conns, 0)
}

// Start sets the limit now and every Interval from conns() until stop.
func Start(budget int64, conns func() int64) (stop func()) {
	prev := debug.SetMemoryLimit(-1)
	debug.SetMemoryLimit(Limit(budget, conns()))
	done, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		t := time.NewTicker(Interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				debug.SetMemoryLimit(Limit(budget, conns()))
			}
		}
	}()
	return func() {
		close(done)
		<-exited
		debug.SetMemoryLimit(prev)
	}
}
