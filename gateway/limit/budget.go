package limit

import (
	"bufio"
	"bytes"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
)

// Budget is a process-wide memory budget in bytes. Callers acquire bytes
// before they allocate (a read buffer growing for a partial message, a
// message queued for a peer) and release them when the memory is dropped.
// A nil *Budget is an unlimited budget that counts nothing.
//
// Budget is lock-free (one atomic compare-and-swap loop) and never
// allocates; it is safe for concurrent use.
type Budget struct {
	total   int64
	inUse   atomic.Int64
	refused atomic.Uint64
}

// NewBudget returns a budget of total bytes. total <= 0 means unlimited:
// every TryAcquire succeeds, and InUse still counts.
func NewBudget(total int64) *Budget {
	return &Budget{total: total}
}

// TryAcquire takes n bytes from the budget if they fit and reports whether
// it did. A refusal is counted (Refused). n <= 0 always succeeds and takes
// nothing.
func (b *Budget) TryAcquire(n int64) bool {
	if b == nil || n <= 0 {
		return true
	}
	if b.total <= 0 {
		b.inUse.Add(n)
		return true
	}
	for {
		cur := b.inUse.Load()
		if cur > b.total-n { // cur+n > total, without overflow
			b.refused.Add(1)
			return false
		}
		if b.inUse.CompareAndSwap(cur, cur+n) {
			return true
		}
	}
}

// Release gives back n bytes taken with TryAcquire. Releasing more than was
// acquired is a caller bug; the count is kept from going below zero.
func (b *Budget) Release(n int64) {
	if b == nil || n <= 0 {
		return
	}
	if b.inUse.Add(-n) < 0 {
		b.inUse.Store(0)
	}
}

// InUse returns the bytes acquired and not yet released.
func (b *Budget) InUse() int64 {
	if b == nil {
		return 0
	}
	return b.inUse.Load()
}

// Total returns the budget's size in bytes; 0 means unlimited.
func (b *Budget) Total() int64 {
	if b == nil || b.total < 0 {
		return 0
	}
	return b.total
}

// Refused returns how many TryAcquire calls were refused.
func (b *Budget) Refused() uint64 {
	if b == nil {
		return 0
	}
	return b.refused.Load()
}

// Bounds and fractions of DefaultBudget's rule.
const (
	MinDefaultBudget  = 64 << 20  // 64 MiB
	MaxDefaultBudget  = 4 << 30   // 4 GiB
	FallbackBudget    = 256 << 20 // when no memory size is known
	memLimitPercent   = 50        // of GOMEMLIMIT
	machineMemPercent = 25        // of the cgroup limit or MemTotal
)

// MemorySources are the inputs of DefaultBudget's rule. Each reports a size
// in bytes and whether it is known; a nil function is an unknown source.
type MemorySources struct {
	// GoMemLimit is the runtime's soft memory limit (GOMEMLIMIT), known
	// when set.
	GoMemLimit func() (int64, bool)
	// CgroupLimit is the memory limit of the process's cgroup, known when
	// one is set.
	CgroupLimit func() (int64, bool)
	// MemTotal is the machine's memory (MemTotal of /proc/meminfo).
	MemTotal func() (int64, bool)
}

// SystemMemorySources reads the running process's sources: the runtime's
// memory limit, /sys/fs/cgroup/memory.max (cgroup v2; cgroup v1's
// memory/memory.limit_in_bytes as a fallback) and /proc/meminfo.
func SystemMemorySources() MemorySources {
	return MemorySources{
		GoMemLimit: func() (int64, bool) {
			l := debug.SetMemoryLimit(-1) // reads without changing
			return l, l > 0 && l < math.MaxInt64
		},
		CgroupLimit: func() (int64, bool) {
			if b, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
				return ParseCgroupLimit(b)
			}
			b, err := os.ReadFile("/sys/fs/cgroup/memory/memory.limit_in_bytes")
			if err != nil {
				return 0, false
			}
			return ParseCgroupLimit(b)
		},
		MemTotal: func() (int64, bool) {
			b, err := os.ReadFile("/proc/meminfo")
			if err != nil {
				return 0, false
			}
			return ParseMemTotal(b)
		},
	}
}

// DefaultBudget is the memory budget used when limits.memory_budget is not
// set, computed by BudgetFor from SystemMemorySources.
func DefaultBudget() int64 { return BudgetFor(SystemMemorySources()) }

// BudgetFor applies the default budget rule to the given sources:
//
//   - GOMEMLIMIT set: 50 % of it (the rest is the runtime's, TLS state,
//     goroutine stacks and garbage);
//   - else 25 % of the smaller of the cgroup memory limit and the
//     machine's MemTotal (whichever are known);
//   - else (nothing known) 256 MiB;
//
// then at least 64 MiB, but never more than half of the memory it was
// computed from, and at most 4 GiB.
func BudgetFor(s MemorySources) int64 {
	mem, pct, ok := int64(0), int64(0), false
	if v, known := call(s.GoMemLimit); known {
		mem, pct, ok = v, memLimitPercent, true
	} else {
		for _, f := range []func() (int64, bool){s.CgroupLimit, s.MemTotal} {
			if v, known := call(f); known && (!ok || v < mem) {
				mem, pct, ok = v, machineMemPercent, true
			}
		}
	}
	if !ok {
		return FallbackBudget
	}
	b := max(mem/100*pct+mem%100*pct/100, MinDefaultBudget) // pct % of mem, no overflow
	return min(b, mem/2, MaxDefaultBudget)
}

func call(f func() (int64, bool)) (int64, bool) {
	if f == nil {
		return 0, false
	}
	v, ok := f()
	return v, ok && v > 0
}

// ParseCgroupLimit reads a cgroup memory limit file: a number of bytes, or
// "max" (cgroup v2) or a value of 2^62 or more (cgroup v1's "unlimited"),
// both reported as unknown.
func ParseCgroupLimit(b []byte) (int64, bool) {
	s := strings.TrimSpace(string(b))
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v <= 0 || v >= 1<<62 {
		return 0, false
	}
	return v, true
}

// ParseMemTotal reads the MemTotal line of /proc/meminfo ("MemTotal:
// 16318412 kB") and returns it in bytes.
func ParseMemTotal(b []byte) (int64, bool) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, false
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || kb <= 0 || kb > math.MaxInt64/1024 {
			return 0, false
		}
		return kb * 1024, true
	}
	return 0, false
}
