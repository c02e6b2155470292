package gcfloor

import (
	"runtime"
	"runtime/metrics"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	tests := []struct {
		live, floor uint64
		want        int
	}{
		{2 << 20, 32 << 20, 1500},  // goal 2 MiB × 16 = 32 MiB
		{8 << 20, 32 << 20, 300},   // 8 MiB × 4
		{16 << 20, 32 << 20, 100},  // half the floor: Go's default already reaches it
		{200 << 20, 32 << 20, 100}, // a large live heap: untouched
		{0, 32 << 20, 100},         // before the first collection
		{1 << 20, 1 << 20, 100},    // floor below the live heap
		{3 << 20, 32 << 20, 966},   // rounded down
	}
	for _, tt := range tests {
		if got := Percent(tt.live, tt.floor); got != tt.want {
			t.Errorf("Percent(%d, %d) = %d, want %d", tt.live, tt.floor, got, tt.want)
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
