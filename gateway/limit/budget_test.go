package limit

import (
	"math"
	"runtime/debug"
	"sync"
	"testing"
)

func TestBudgetAcquireRelease(t *testing.T) {
	b := NewBudget(100)
	steps := []struct {
		name    string
		acquire int64 // > 0: TryAcquire, < 0: Release
		wantOK  bool
		inUse   int64
	}{
		{"fits", 60, true, 60},
		{"exactly fills", 40, true, 100},
		{"one byte over", 1, false, 100},
		{"release some", -30, true, 70},
		{"too big after release", 31, false, 70},
		{"fits after release", 30, true, 100},
		{"zero always fits", 0, true, 100},
		{"release all", -100, true, 0},
		{"huge refused without overflow", math.MaxInt64, false, 0},
	}
	for _, s := range steps {
		ok := true
		if s.acquire >= 0 {
			ok = b.TryAcquire(s.acquire)
		} else {
			b.Release(-s.acquire)
		}
		if ok != s.wantOK || b.InUse() != s.inUse {
			t.Fatalf("%s: got ok=%v in use %d, want ok=%v in use %d", s.name, ok, b.InUse(), s.wantOK, s.inUse)
		}
	}
	if got := b.Refused(); got != 3 {
		t.Errorf("refused: got %d, want 3", got)
	}
	if b.Total() != 100 {
		t.Errorf("total: got %d, want 100", b.Total())
	}
}

func TestBudgetNilAndUnlimited(t *testing.T) {
	var nilB *Budget
	if !nilB.TryAcquire(1<<40) || nilB.InUse() != 0 || nilB.Total() != 0 || nilB.Refused() != 0 {
		t.Error("nil budget: want unlimited and counting nothing")
	}
	nilB.Release(5)
	u := NewBudget(0)
	if !u.TryAcquire(1<<40) || u.InUse() != 1<<40 {
		t.Errorf("unlimited: got in use %d, want %d", u.InUse(), int64(1<<40))
	}
	u.Release(1 << 41) // more than acquired: clamped
	if u.InUse() != 0 {
		t.Errorf("over-release: got in use %d, want 0", u.InUse())
	}
}

func TestBudgetConcurrentNeverExceeds(t *testing.T) {
	const total, workers, rounds = 1000, 8, 2000
	b := NewBudget(total)
	var wg sync.WaitGroup
	var mu sync.Mutex
	maxSeen := int64(0)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := int64(w%5*50 + 30)
			for range rounds {
				if !b.TryAcquire(n) {
					continue
				}
				if u := b.InUse(); u > total {
					mu.Lock()
					maxSeen = max(maxSeen, u)
					mu.Unlock()
				}
				b.Release(n)
			}
		}()
	}
	wg.Wait()
	if maxSeen > 0 {
		t.Fatalf("in use reached %d, over the total %d", maxSeen, total)
	}
	if b.InUse() != 0 {
		t.Fatalf("after all releases: in use %d, want 0", b.InUse())
	}
}

func TestBudgetNoAllocs(t *testing.T) {
	b := NewBudget(1 << 20)
	if n := testing.AllocsPerRun(1000, func() {
		if b.TryAcquire(512) {
			b.Release(512)
		}
	}); n != 0 {
		t.Errorf("got %v allocations per acquire and release, want 0", n)
	}
}

func known(v int64) func() (int64, bool) { return func() (int64, bool) { return v, true } }
func unknown() (int64, bool)             { return 0, false }

func TestBudgetFor(t *testing.T) {
	const mib, gib = int64(1 << 20), int64(1 << 30)
	tests := []struct {
		name string
		src  MemorySources
		want int64
	}{
		{"nothing known", MemorySources{}, FallbackBudget},
		{"all unknown", MemorySources{GoMemLimit: unknown, CgroupLimit: unknown, MemTotal: unknown}, FallbackBudget},
		{"GOMEMLIMIT wins", MemorySources{GoMemLimit: known(2 * gib), CgroupLimit: known(8 * gib), MemTotal: known(64 * gib)}, 1 * gib},
		{"cgroup under machine", MemorySources{CgroupLimit: known(2 * gib), MemTotal: known(64 * gib)}, 512 * mib},
		{"machine under cgroup", MemorySources{CgroupLimit: known(64 * gib), MemTotal: known(4 * gib)}, 1 * gib},
		{"machine only", MemorySources{MemTotal: known(16 * gib)}, 4 * gib},
		{"capped at 4 GiB", MemorySources{MemTotal: known(256 * gib)}, MaxDefaultBudget},
		{"GOMEMLIMIT capped", MemorySources{GoMemLimit: known(64 * gib)}, MaxDefaultBudget},
		{"floor of 64 MiB", MemorySources{MemTotal: known(200 * mib)}, 64 * mib},
		{"floor never above half", MemorySources{CgroupLimit: known(100 * mib)}, 50 * mib},
		{"small GOMEMLIMIT: half", MemorySources{GoMemLimit: known(96 * mib), MemTotal: known(64 * gib)}, 48 * mib},
		{"zero is unknown", MemorySources{GoMemLimit: known(0), MemTotal: known(8 * gib)}, 2 * gib},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := BudgetFor(tt.src); got != tt.want {
				t.Fatalf("got %d MiB, want %d MiB", got/mib, tt.want/mib)
			}
		})
	}
}

func TestParseCgroupLimit(t *testing.T) {
	tests := []struct {
		in     string
		want   int64
		wantOK bool
	}{
		{"max\n", 0, false},
		{"536870912\n", 512 << 20, true},
		{"9223372036854771712\n", 0, false}, // cgroup v1 "unlimited"
		{"", 0, false},
		{"-1", 0, false},
		{"12abc", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseCgroupLimit([]byte(tt.in))
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("ParseCgroupLimit(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestParseMemTotal(t *testing.T) {
	tests := []struct {
		in     string
		want   int64
		wantOK bool
	}{
		{"MemTotal:       16318412 kB\nMemFree:  1 kB\n", 16318412 * 1024, true},
		{"MemFree: 1 kB\nMemTotal: 2048 kB\n", 2 << 20, true},
		{"MemTotal: 2048 MB\n", 0, false},
		{"MemTotal: lots kB\n", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseMemTotal([]byte(tt.in))
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("ParseMemTotal(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestSystemMemorySources(t *testing.T) {
	s := SystemMemorySources()
	if v, ok := s.MemTotal(); !ok || v < 64<<20 {
		t.Errorf("MemTotal: got %d, %v; want a known size of at least 64 MiB on Linux", v, ok)
	}
	old := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(old) })
	debug.SetMemoryLimit(math.MaxInt64)
	if _, ok := s.GoMemLimit(); ok {
		t.Error("GoMemLimit known with no limit set")
	}
	debug.SetMemoryLimit(800 << 20)
	if v, ok := s.GoMemLimit(); !ok || v != 800<<20 {
		t.Errorf("GoMemLimit: got %d, %v; want %d, true", v, ok, 800<<20)
	}
	if got := DefaultBudget(); got != 400<<20 {
		t.Errorf("DefaultBudget with GOMEMLIMIT 800 MiB: got %d, want %d", got, 400<<20)
	}
}
