package limit

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
)

func TestClientKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"192.0.2.7", "192.0.2.7"},
		{"::ffff:192.0.2.7", "192.0.2.7"},
		{"2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::"},
		{"fe80::1%eth0", "fe80::"},
		{"::1", "::"},
	}
	for _, tt := range tests {
		if got := ClientKey(netip.MustParseAddr(tt.in)).String(); got != tt.want {
			t.Errorf("ClientKey(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestConnLimiter(t *testing.T) {
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	a6, a6b := netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2:3")
	l := NewConnLimiter(4, 2)
	var held []func()
	steps := []struct {
		name       string
		ip         netip.Addr
		wantReason string
	}{
		{"a first", a, ""},
		{"a second", a, ""},
		{"a third: per ip", a, ReasonTooManyConnectionsPerIP},
		{"mapped a is a", netip.MustParseAddr("::ffff:192.0.2.1"), ReasonTooManyConnectionsPerIP},
		{"b first", b, ""},
		{"v6 first", a6, ""},
		{"fifth: global", b, ReasonTooManyConnections},
	}
	for _, s := range steps {
		release, reason, ok := l.Acquire(s.ip)
		if ok != (s.wantReason == "") || reason != s.wantReason {
			t.Fatalf("%s: got ok=%v reason %q, want reason %q", s.name, ok, reason, s.wantReason)
		}
		if ok {
			held = append(held, release)
		}
	}
	if l.Open() != 4 || l.Clients() != 3 {
		t.Fatalf("got open %d clients %d, want 4 and 3", l.Open(), l.Clients())
	}
	held[3]() // v6 leaves
	held[3]() // twice: no effect
	if l.Open() != 3 || l.Clients() != 2 {
		t.Fatalf("after release: got open %d clients %d, want 3 and 2", l.Open(), l.Clients())
	}
	release, _, ok := l.Acquire(a6b) // same /64 as a6
	if !ok {
		t.Fatal("same /64 after release refused")
	}
	if _, reason, _ := l.Acquire(a6); reason != ReasonTooManyConnections {
		t.Fatalf("got %q, want global refusal first", reason)
	}
	release()
	for _, r := range held[:3] {
		r()
	}
	if l.Open() != 0 || l.Clients() != 0 {
		t.Fatalf("all released: got open %d clients %d, want 0 and 0 (entries removed at zero)", l.Open(), l.Clients())
	}
}

func TestConnLimiterPerIPOnlyAndNone(t *testing.T) {
	ip := netip.MustParseAddr("192.0.2.9")
	none := NewConnLimiter(0, 0)
	for range 1000 {
		if _, _, ok := none.Acquire(ip); !ok {
			t.Fatal("no caps: refused")
		}
	}
	if none.Clients() != 0 {
		t.Errorf("no per-ip cap: got %d clients tracked, want 0", none.Clients())
	}
	perIP := NewConnLimiter(0, 1)
	if _, _, ok := perIP.Acquire(ip); !ok {
		t.Fatal("first refused")
	}
	if _, reason, _ := perIP.Acquire(ip); reason != ReasonTooManyConnectionsPerIP {
		t.Fatalf("got %q, want per-ip refusal", reason)
	}
}

func TestConnLimiterConcurrent(t *testing.T) {
	const max = 10
	l := NewConnLimiter(max, 3)
	var inside, over atomic.Int64
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ip := netip.AddrFrom4([4]byte{10, 0, 0, byte(w % 4)})
			for range 2000 {
				release, _, ok := l.Acquire(ip)
				if !ok {
					continue
				}
				if inside.Add(1) > max {
					over.Add(1)
				}
				inside.Add(-1)
				release()
			}
		}()
	}
	wg.Wait()
	if over.Load() > 0 || l.Open() != 0 || l.Clients() != 0 {
		t.Fatalf("got %d over the cap, open %d, clients %d; want 0, 0, 0", over.Load(), l.Open(), l.Clients())
	}
}
