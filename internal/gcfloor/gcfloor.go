// Package gcfloor keeps the garbage collector's heap goal at or above a
// floor. Go's own floor is 4 MiB (at GOGC=100): a gateway with a small live
// heap (a few MiB) that accepts a storm of TLS handshakes, each allocating
// ~60 KiB, then collects every few dozen handshakes and spends several
// percent of its CPU marking the same live heap again and again. While the
// live heap is below half the floor, GOGC is raised so that the next goal is
// the floor; above it, GOGC is left at 100. A memory limit (GOMEMLIMIT)
// still bounds the heap either way.
package gcfloor

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// DefaultFloor is the heap goal wssgate keeps at least.
const DefaultFloor = 32 << 20

const liveMetric = "/gc/heap/live:bytes"

// Start adjusts GOGC after every collection until stop is called; stop
// restores GOGC to 100. Do not call it when the operator set GOGC.
func Start(floor uint64) (stop func()) {
	t := &tuner{floor: floor, sample: []metrics.Sample{{Name: liveMetric}}}
	t.arm()
	return t.stop
}

type tuner struct {
	floor   uint64
	mu      sync.Mutex // guards sample and stopped
	sample  []metrics.Sample
	stopped bool
}

// sentinel is garbage as soon as it is made: its cleanup runs after the
// next collection, re-arms and adjusts.
type sentinel struct{ _ [64]byte }

func (t *tuner) arm() {
	runtime.AddCleanup(new(sentinel), func(t *tuner) {
		if t.adjust() {
			t.arm()
		}
	}, t)
}

// adjust sets GOGC from the live heap; it reports false once stopped.
func (t *tuner) adjust() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return false
	}
	metrics.Read(t.sample)
	debug.SetGCPercent(Percent(t.sample[0].Value.Uint64(), t.floor))
	return true
}

func (t *tuner) stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stopped = true
	debug.SetGCPercent(100)
}

// Percent is the GOGC that puts the next heap goal at floor for a live
// heap of live bytes, and never below 100.
func Percent(live, floor uint64) int {
	if live == 0 || live >= floor/2 {
		return 100
	}
	return int(floor*100/live) - 100
}
