package limit

import (
	"net/netip"
	"testing"
	"time"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func TestRateLimiterBucket(t *testing.T) {
	l := NewRateLimiter(2, 3, 0) // 2/s, burst 3
	ip := netip.MustParseAddr("192.0.2.1")
	steps := []struct {
		at   time.Duration
		want bool
	}{
		{0, true}, {0, true}, {0, true}, // the burst
		{0, false},                      // empty
		{400 * time.Millisecond, false}, // 0.8 token
		{500 * time.Millisecond, true},  // 1.0 token
		{500 * time.Millisecond, false},
		{10 * time.Second, true}, {10 * time.Second, true}, {10 * time.Second, true}, // refilled to burst, not beyond
		{10 * time.Second, false},
	}
	for i, s := range steps {
		if got := l.Allow(ip, t0.Add(s.at)); got != s.want {
			t.Fatalf("step %d at %s: got %v, want %v", i, s.at, got, s.want)
		}
	}
	if got := l.Refused(); got != 4 {
		t.Errorf("refused: got %d, want 4", got)
	}
	other := netip.MustParseAddr("192.0.2.2")
	if !l.Allow(other, t0.Add(10*time.Second)) {
		t.Error("another client was refused: buckets are per IP")
	}
}

func TestRateLimiterEvictsLeastRecentlySeen(t *testing.T) {
	l := NewRateLimiter(1, 1, 3)
	ip := func(i byte) netip.Addr { return netip.AddrFrom4([4]byte{10, 0, 0, i}) }
	for i := range byte(3) {
		if !l.Allow(ip(i), t0) {
			t.Fatalf("first handshake of %d refused", i)
		}
	}
	// 0 is seen again (refused: its bucket is empty), so 1 is now the oldest.
	if l.Allow(ip(0), t0) {
		t.Fatal("second handshake of 0 allowed")
	}
	if !l.Allow(ip(3), t0) { // evicts 1
		t.Fatal("new client refused")
	}
	if l.Len() != 3 {
		t.Fatalf("got %d tracked, want 3", l.Len())
	}
	if l.Allow(ip(0), t0) || l.Allow(ip(2), t0) || l.Allow(ip(3), t0) {
		t.Fatal("a tracked client's empty bucket was refilled")
	}
	if !l.Allow(ip(1), t0) { // evicted, so it starts anew
		t.Fatal("evicted client refused")
	}
}

func TestRateLimiterBoundedAndAllocationFree(t *testing.T) {
	const maxIPs = 1000
	l := NewRateLimiter(10, 5, maxIPs)
	for i := range 50_000 {
		l.Allow(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), t0)
	}
	if l.Len() != maxIPs {
		t.Fatalf("got %d tracked after 50,000 clients, want %d", l.Len(), maxIPs)
	}
	// Walk the recency list both ways: it must hold every entry once.
	n, prev := 0, int32(-1)
	for i := l.head; i >= 0; i = l.entries[i].next {
		if l.entries[i].prev != prev {
			t.Fatalf("entry %d: prev %d, want %d", i, l.entries[i].prev, prev)
		}
		prev, n = i, n+1
	}
	if n != maxIPs || prev != l.tail {
		t.Fatalf("list: %d entries ending at %d, want %d ending at tail %d", n, prev, maxIPs, l.tail)
	}
	i := 0
	allocs := testing.AllocsPerRun(5000, func() {
		i++ // a new client every call: eviction on every call
		l.Allow(netip.AddrFrom4([4]byte{11, byte(i >> 16), byte(i >> 8), byte(i)}), t0)
	})
	if allocs > 0 {
		t.Errorf("got %v allocations per Allow with eviction, want 0", allocs)
	}
	known := netip.AddrFrom4([4]byte{11, 0, 0, 1})
	if allocs := testing.AllocsPerRun(1000, func() { l.Allow(known, t0) }); allocs > 0 {
		t.Errorf("got %v allocations per Allow of a known client, want 0", allocs)
	}
}

func TestRateLimiterOff(t *testing.T) {
	l := NewRateLimiter(0, 0, 0)
	for range 100 {
		if !l.Allow(netip.MustParseAddr("192.0.2.1"), t0) {
			t.Fatal("rate 0 refused a handshake")
		}
	}
	var nilL *RateLimiter
	if !nilL.Allow(netip.MustParseAddr("192.0.2.1"), t0) {
		t.Fatal("nil limiter refused")
	}
}

func TestSessionRate(t *testing.T) {
	type msg struct {
		at   time.Duration
		n    int
		want bool
	}
	tests := []struct {
		name string
		rate SessionRate
		msgs []msg
	}{
		{"off", SessionRate{}, []msg{{0, 1 << 20, true}, {0, 1 << 20, true}}},
		{"messages: one second of burst", SessionRate{MsgsPerSec: 3}, []msg{
			{0, 1, true}, {0, 1, true}, {0, 1, true}, {0, 1, false},
		}},
		{"messages: refill", SessionRate{MsgsPerSec: 2}, []msg{
			{0, 1, true}, {0, 1, true}, {499 * time.Millisecond, 1, false}, {500 * time.Millisecond, 1, true},
			{500 * time.Millisecond, 1, false},
		}},
		{"half a message a second", SessionRate{MsgsPerSec: 0.5}, []msg{
			{0, 1, true}, {time.Second, 1, false}, {2 * time.Second, 1, true},
		}},
		{"bytes: steady client at the rate passes", SessionRate{BytesPerSec: 1000}, []msg{
			{0, 1000, true}, {time.Second, 1000, true}, {2 * time.Second, 500, true}, {2500 * time.Millisecond, 500, true},
		}},
		{"bytes: over the rate", SessionRate{BytesPerSec: 1000}, []msg{
			{0, 600, true}, {0, 400, true}, {0, 1, true}, {0, 1, false},
		}},
		{"bytes: one message larger than the rate passes, then debt", SessionRate{BytesPerSec: 1000}, []msg{
			{0, 3000, true}, {time.Second, 1, false}, {2 * time.Second, 1, true},
		}},
		{"both", SessionRate{MsgsPerSec: 10, BytesPerSec: 100}, []msg{
			{0, 60, true}, {0, 60, true}, {0, 1, false},
		}},
		{"clock going back is ignored", SessionRate{MsgsPerSec: 1}, []msg{
			{time.Second, 1, true}, {0, 1, false}, {2 * time.Second, 1, true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.rate
			for i, m := range tt.msgs {
				if got := r.Allow(m.n, t0.Add(m.at)); got != m.want {
					t.Fatalf("message %d (%d bytes at %s): got %v, want %v", i, m.n, m.at, got, m.want)
				}
			}
		})
	}
}

func TestSessionRateNoAllocs(t *testing.T) {
	r := SessionRate{MsgsPerSec: 1e9, BytesPerSec: 1e12}
	now := t0
	if n := testing.AllocsPerRun(1000, func() {
		now = now.Add(time.Millisecond)
		r.Allow(100, now)
	}); n != 0 {
		t.Errorf("got %v allocations per Allow, want 0", n)
	}
}
