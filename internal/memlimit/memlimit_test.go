package memlimit

import (
	"math"
	"runtime/debug"
	"sync/atomic"
	"testing"
	"time"
)

func TestLimit(t *testing.T) {
	for _, tt := range []struct {
		budget, conns, want int64
	}{
		{256 << 20, 0, 256<<20 + Headroom},
		{256 << 20, 1000, 256<<20 + Headroom + 1000*PerConnection},
		{256 << 20, -1, 256<<20 + Headroom},
		{0, 1000, math.MaxInt64},
	} {
		if got := Limit(tt.budget, tt.conns); got != tt.want {
			t.Errorf("Limit(%d, %d) = %d, want %d", tt.budget, tt.conns, got, tt.want)
		}
	}
}

// The runtime's limit follows the connection count and is restored by stop.
func TestStartFollowsConnections(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	var conns atomic.Int64
	stop := Start(64<<20, conns.Load)
	if got := debug.SetMemoryLimit(-1); got != Limit(64<<20, 0) {
		t.Fatalf("limit after Start: %d, want %d", got, Limit(64<<20, 0))
	}
	conns.Store(5000)
	deadline := time.Now().Add(5 * Interval)
	for debug.SetMemoryLimit(-1) != Limit(64<<20, 5000) {
		if time.Now().After(deadline) {
			t.Fatalf("limit did not follow 5000 connections: %d", debug.SetMemoryLimit(-1))
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Fatalf("limit after stop: %d, want %d", got, before)
	}
}
