package gcfloor

import (
	"runtime"
	"runtime/metrics"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		live, roots, floor uint64
		want               int
	}{
		{2 * mib, 0, 32 * mib, 800},        // Go's minimum 4 MiB × 8 = 32 MiB; 2 + 2 × 8 is less
		{2 * mib, 2 * mib, 48 * mib, 1150}, // stacks count: 2 + 4 × 11.5 = 48 MiB
		{1 * mib, 35 * mib, 32 * mib, 100}, // thousands of goroutines: Go's own goal is above the floor
		{8 * mib, 0, 32 * mib, 300},        // 8 + 8 × 3
		{8 * mib, 4 * mib, 32 * mib, 200},  // 8 + 12 × 2
		{16 * mib, 0, 32 * mib, 100},       // Go's default reaches the floor
		{200 * mib, 0, 32 * mib, 100},      // a large live heap: untouched
		{0, 0, 32 * mib, 100},              // before the first collection
	}
	for _, tt := range tests {
		if got := Percent(tt.live, tt.roots, tt.floor); got != tt.want {
			t.Errorf("Percent(%d, %d, %d) = %d, want %d", tt.live, tt.roots, tt.floor, got, tt.want)
		}
	}
}

func TestStartRaisesTheGoalAndStopRestoresIt(t *testing.T) {
	const floor = 256 << 20 // far above this test binary's live heap
	read := func() (gogc, goal uint64) {
		s := []metrics.Sample{{Name: "/gc/gogc:percent"}, {Name: "/gc/heap/goal:bytes"}}
		metrics.Read(s)
		return s[0].Value.Uint64(), s[1].Value.Uint64()
	}
	stop := Start(floor)
	raised := false
	for range 200 { // the cleanup runs on its own goroutine after a collection
		runtime.GC()
		if gogc, goal := read(); gogc > 100 && goal >= floor*9/10 {
			raised = true
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !raised {
		gogc, goal := read()
		t.Fatalf("after collections: GOGC %d, heap goal %d; want GOGC > 100 and a goal near %d", gogc, goal, floor)
	}
	stop()
	runtime.GC()
	time.Sleep(20 * time.Millisecond)
	if gogc, _ := read(); gogc != 100 {
		t.Fatalf("after stop: GOGC %d, want 100", gogc)
	}
}
