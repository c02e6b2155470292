package main

import (
	"bytes"
	"cmp"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTick is USER_HZ, the unit of CPU times in /proc (100 on Linux).
const clockTick = 10 * time.Millisecond

// procSample is one reading of a process: CPU time (user + system, all
// threads) and resident set size.
type procSample struct {
	cpu    time.Duration
	rssKiB int64
}

// readProc reads /proc/PID/stat and /proc/PID/status.
func readProc(pid int) (procSample, error) {
	var s procSample
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, fmt.Errorf("read process stat: %w", err)
	}
	// Fields after the command name "(...)": state is field 3, utime 14, stime 15.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return s, fmt.Errorf("parse /proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return s, fmt.Errorf("parse /proc/%d/stat: %d fields", pid, len(f))
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return s, fmt.Errorf("parse /proc/%d/stat: bad utime/stime %q %q", pid, f[11], f[12])
	}
	s.cpu = time.Duration(ut+st) * clockTick
	b, err = os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, fmt.Errorf("read process status: %w", err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			s.rssKiB, _ = strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		}
	}
	return s, nil
}

// cpuTimes are the busy and total times of each CPU from /proc/stat, in ticks.
type cpuTimes struct {
	busy, total []int64
}

// readCPUs reads the per-CPU lines of /proc/stat. Busy is everything but idle
// and iowait (interrupts and softirq included).
func readCPUs() (cpuTimes, error) {
	var c cpuTimes
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return c, fmt.Errorf("read /proc/stat: %w", err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 || !strings.HasPrefix(f[0], "cpu") || f[0] == "cpu" {
			continue
		}
		var total, idle int64
		for j, v := range f[1:] {
			n, _ := strconv.ParseInt(v, 10, 64)
			if j == 8 || j == 9 { // guest time is already in user
				continue
			}
			total += n
			if j == 3 || j == 4 {
				idle += n
			}
		}
		c.busy = append(c.busy, total-idle)
		c.total = append(c.total, total)
	}
	return c, nil
}

// meter measures a window of a run: wall time, the gateway's CPU and RSS (when
// pid > 0), this process's CPU and how busy each CPU was.
type meter struct {
	pid          int
	more         []int // --more-pids: their CPU time is added to the server's
	t0, t1       time.Time
	srv0, srv1   procSample
	self0, self1 procSample
	cpus0, cpus1 cpuTimes
	srvErr       error
	stopped      bool
}

func startMeter(pid int, more ...int) *meter {
	m := &meter{pid: pid, more: more}
	m.cpus0, _ = readCPUs()
	m.self0, _ = readProc(os.Getpid())
	if pid > 0 {
		m.srv0, m.srvErr = m.readServer()
	}
	m.t0 = time.Now()
	return m
}

// stop ends the window; later calls do nothing.
func (m *meter) stop() {
	if m.stopped {
		return
	}
	m.stopped = true
	m.t1 = time.Now()
	m.cpus1, _ = readCPUs()
	m.self1, _ = readProc(os.Getpid())
	if m.pid > 0 && m.srvErr == nil {
		m.srv1, m.srvErr = m.readServer()
	}
}

func (m *meter) wall() time.Duration { return m.t1.Sub(m.t0) }

// serverCPU is the gateway's CPU time in the window (0 without --pid).
func (m *meter) serverCPU() time.Duration {
	if m.pid <= 0 || m.srvErr != nil {
		return 0
	}
	return m.srv1.cpu - m.srv0.cpu
}

// add writes the window's CPU figures to r; ops operations named op ("delivery",
// "handshake", ...) give the per-operation fields.
func (m *meter) add(r *result, ops int64, op string) {
	wall := m.wall().Seconds()
	if wall <= 0 {
		wall = 1e-9
	}
	self := (m.self1.cpu - m.self0.cpu).Seconds()
	r.float("client_cpu_pct", 100*self/wall, 1)
	if ops > 0 {
		r.float("client_cpu_us_per_"+op, 1e6*self/float64(ops), 2)
	}
	srv := m.serverCPU().Seconds()
	if m.pid > 0 && m.srvErr == nil {
		r.float("server_cpu_pct", 100*srv/wall, 1)
		if ops > 0 {
			r.float("server_cpu_us_per_"+op, 1e6*srv/float64(ops), 2)
		}
		r.int("server_rss_kib", m.srv1.rssKiB)
	}
	if len(m.cpus0.busy) == len(m.cpus1.busy) && len(m.cpus1.busy) <= 8 {
		var busyAll float64
		for i := range m.cpus1.busy {
			t := float64(m.cpus1.total[i] - m.cpus0.total[i])
			b := float64(m.cpus1.busy[i] - m.cpus0.busy[i])
			busyAll += b * clockTick.Seconds()
			if t > 0 {
				r.float(fmt.Sprintf("cpu%d_busy_pct", i), 100*b/t, 1)
			}
		}
		// Everything not charged to the gateway or to us: other processes,
		// kernel threads and interrupts (loopback softirq among them).
		r.float("others_cpu_pct", 100*max(busyAll-self-srv, 0)/wall, 1)
	}
}

// readServer reads --pid, with the CPU time of --more-pids added (RSS stays --pid's).
func (m *meter) readServer() (procSample, error) {
	s, err := readProc(m.pid)
	for _, p := range m.more {
		o, err2 := readProc(p)
		s.cpu += o.cpu
		err = cmp.Or(err, err2)
	}
	return s, err
}

// parsePIDs parses a comma-separated list of process ids.
func parsePIDs(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("bad process id %q", f)
		}
		out = append(out, n)
	}
	return out, nil
}
