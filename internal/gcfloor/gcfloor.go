// Package gcfloor keeps the garbage collector's heap goal at or above a
// floor. Go's own floor is 4 MiB (at GOGC=100): a gateway with a small live
// heap (a few MiB) that accepts a storm of TLS handshakes, each allocating
// ~60 KiB, then collects every few dozen handshakes and spends several
// percent of its CPU marking the same live heap again and again. While Go's
// goal at GOGC=100 would be below the floor, GOGC is raised so that the next
// goal is the floor; above it, GOGC is left at 100. Go's goal is
// live + (live + stacks + globals) × GOGC/100, so goroutine stacks count:
// thousands of idle sessions with a small heap do not multiply into a huge
// goal. A memory limit (GOMEMLIMIT) still bounds the heap.
package gcfloor

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// DefaultFloor is the heap goal wssgate keeps at least.
const DefaultFloor = 32 << 20

// Start adjusts GOGC after every collection until stop is called; stop
// restores GOGC to 100. Do not call it when the operator set GOGC.
func Start(floor uint64) (stop func()) {
	t := &tuner{floor: floor, sample: []metrics.Sample{
		{Name: "/gc/heap/live:bytes"}, {Name: "/gc/scan/stack:bytes"}, {Name: "/gc/scan/globals:bytes"},
	}}
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
	live := t.sample[0].Value.Uint64()
	roots := t.sample[1].Value.Uint64() + t.sample[2].Value.Uint64()
	debug.SetGCPercent(Percent(live, roots, t.floor))
	return true
}

func (t *tuner) stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stopped = true
	debug.SetGCPercent(100)
}

// goMinimum is Go's minimum heap goal at GOGC=100; it scales with GOGC.
const goMinimum = 4 << 20

// Percent is the GOGC that puts the next heap goal at floor, given the live
// heap and the stack and global bytes the collector scans, and never below
// 100. Go's goal is the larger of live + (live + roots) × GOGC/100 and
// 4 MiB × GOGC/100, so GOGC stops at floor / 4 MiB × 100, where the second
// term alone is the floor.
func Percent(live, roots, floor uint64) int {
	scan := live + roots
	if live == 0 || live+scan >= floor {
		return 100
	}
	return int(max(100, min((floor-live)*100/scan, floor*100/goMinimum)))
}
