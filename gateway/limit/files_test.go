package limit

import (
	"bufio"
	"math"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func TestMaxConnectionsFor(t *testing.T) {
	tests := []struct {
		name      string
		soft      uint64
		listeners int
		want      int
	}{
		{"1024, one listener", 1024, 1, 1024 - 256 - 51},
		{"1024, two listeners", 1024, 2, (1024 - 256 - 51) / 2},
		{"65536, two listeners", 65536, 2, (65536 - 256 - 3276) / 2},
		{"1M, three listeners", 1 << 20, 3, ((1 << 20) - 256 - 52428) / 3},
		{"unlimited", math.MaxUint64, 1, (1 << 20) - 256 - 52428},
		{"below the reserve", 200, 2, 1},
		{"zero listeners counts as one", 1024, 0, 1024 - 256 - 51},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MaxConnectionsFor(tt.soft, tt.listeners); got != tt.want {
				t.Fatalf("got %d, want %d", got, tt.want)
			}
		})
	}
}

// procMaxOpenFiles reads the soft "Max open files" of /proc/self/limits.
func procMaxOpenFiles(t *testing.T) uint64 {
	t.Helper()
	f, err := os.Open("/proc/self/limits")
	if err != nil {
		t.Skipf("no /proc/self/limits: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "Max open files"); ok {
			soft := strings.Fields(rest)[0]
			if soft == "unlimited" {
				return math.MaxUint64
			}
			n, err := strconv.ParseUint(soft, 10, 64)
			if err != nil {
				t.Fatalf("parse %q: %v", soft, err)
			}
			return n
		}
	}
	t.Fatal("no Max open files line")
	return 0
}

func TestFileLimitFollowsTheProcess(t *testing.T) {
	soft, hard, err := FileLimit()
	if err != nil {
		t.Fatal(err)
	}
	if want := procMaxOpenFiles(t); soft != want || soft > hard {
		t.Fatalf("got soft %d hard %d, want soft %d (from /proc/self/limits) <= hard", soft, hard, want)
	}
	// Lower the soft limit (always permitted) and restore it afterwards.
	var orig syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &orig); err != nil {
		t.Fatal(err)
	}
	if orig.Cur < 512 {
		t.Skipf("soft limit %d already below 512", orig.Cur)
	}
	t.Cleanup(func() {
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &orig); err != nil {
			t.Errorf("restore RLIMIT_NOFILE: %v", err)
		}
	})
	low := syscall.Rlimit{Cur: 512, Max: orig.Max}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	if got, want := DefaultMaxConnections(2), (512-256-25)/2; got != want {
		t.Fatalf("DefaultMaxConnections(2) at soft 512: got %d, want %d", got, want)
	}
}
