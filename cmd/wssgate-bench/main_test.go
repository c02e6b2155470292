package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseAddrList(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
		wantErr  bool
	}{
		{name: "empty", in: "", want: nil},
		{name: "one", in: "127.0.0.2", want: []string{"127.0.0.2"}},
		{name: "range", in: "127.0.0.2-127.0.0.4", want: []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"}},
		{name: "range across octet", in: "127.0.0.255-127.0.1.1", want: []string{"127.0.0.255", "127.0.1.0", "127.0.1.1"}},
		{name: "list", in: "127.0.0.2, 127.0.1.1-127.0.1.2", want: []string{"127.0.0.2", "127.0.1.1", "127.0.1.2"}},
		{name: "ipv6", in: "::1", want: []string{"::1"}},
		{name: "reversed", in: "127.0.0.4-127.0.0.2", wantErr: true},
		{name: "mixed families", in: "127.0.0.1-::1", wantErr: true},
		{name: "garbage", in: "127.0.0.x", wantErr: true},
		{name: "too many", in: "10.0.0.0-10.1.0.0", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseAddrList(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("got error %v, want error %v", err, tt.wantErr)
			}
			var gotS []string
			for _, a := range got {
				gotS = append(gotS, a.String())
			}
			if strings.Join(gotS, ",") != strings.Join(tt.want, ",") {
				t.Errorf("got %v, want %v", gotS, tt.want)
			}
		})
	}
}

func TestSourcePoolRoundRobin(t *testing.T) {
	addrs, err := parseAddrList("127.0.0.2-127.0.0.3")
	if err != nil {
		t.Fatal(err)
	}
	p := newSourcePool(addrs)
	var got []string
	for range 5 {
		got = append(got, p.pick().IP.String())
	}
	if want := "127.0.0.2 127.0.0.3 127.0.0.2 127.0.0.3 127.0.0.2"; strings.Join(got, " ") != want {
		t.Errorf("got %v, want %s", got, want)
	}
	if a := newSourcePool(nil).pick(); a != nil {
		t.Errorf("empty pool: got %v, want nil", a)
	}
}

func TestCheckLoopback(t *testing.T) {
	tests := []struct {
		host string
		ok   bool
	}{
		{"127.0.0.1", true}, {"127.8.9.10", true}, {"localhost", true}, {"::1", true}, {"[::1]", true},
		{"10.0.0.1", false}, {"192.168.1.1", false}, {"example.com", false}, {"0.0.0.0", false},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			err := checkLoopback(tt.host)
			if (err == nil) != tt.ok {
				t.Errorf("got %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, errNotLoopback) {
				t.Errorf("got %v, want errNotLoopback", err)
			}
		})
	}
}

func TestOptionsRefuseRemote(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr error
	}{
		{"remote app", []string{"fanout", "--app-url", "wss://192.0.2.1:8443/ws"}, errNotLoopback},
		{"remote device", []string{"idle", "--device-url", "wss://example.com:9443/device"}, errNotLoopback},
		{"remote admin", []string{"reload", "--admin", "192.0.2.1:9090"}, errNotLoopback},
		{"allowed", []string{"fanout", "--app-url", "wss://192.0.2.1:8443/ws", "--allow-remote"}, nil},
		{"unknown scenario", []string{"soak"}, errUsage},
		{"no window nor rate", []string{"fanout", "--window", "0"}, errUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseOptions(tt.args, &bytes.Buffer{})
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Errorf("got %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestEnsureFilesRefuses(t *testing.T) {
	err := ensureFiles(1 << 30)
	if !errors.Is(err, errTooManyConns) {
		t.Fatalf("got %v, want errTooManyConns", err)
	}
	if !strings.Contains(err.Error(), "connections per process") {
		t.Errorf("got %q, want it to say how many connections fit", err)
	}
	if err := ensureFiles(10); err != nil {
		t.Errorf("10 connections: got %v, want nil", err)
	}
}

func TestResultLine(t *testing.T) {
	r := &result{}
	r.str("scenario", "fanout")
	r.int("subs", 1000)
	r.float("deliveries_per_s", 301234.56, 0)
	r.float("server_cpu_us_per_delivery", 0.912, 2)
	r.str("target", "a b=c")
	r.str("empty", "")
	want := "RESULT scenario=fanout subs=1000 deliveries_per_s=301235 server_cpu_us_per_delivery=0.91 target=a_b_c empty=-"
	if got := r.String(); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	m, ok := parseResult(r.String())
	if !ok || m["subs"] != "1000" || m["target"] != "a_b_c" || len(m) != 6 {
		t.Errorf("parse back: got %v, %v", m, ok)
	}
	if v, ok := r.get("subs"); !ok || v != "1000" {
		t.Errorf("get subs: got %q %v, want 1000 true", v, ok)
	}
}

func TestLatencyHistogram(t *testing.T) {
	l := newLatency(4)
	for i := range 1000 {
		l.record(i, int64(i+1)) // 1..1000 µs over every shard
	}
	l.record(0, -5)    // clamped to the minimum
	l.record(1, 1<<40) // clamped to the maximum
	h := l.merged()
	tests := []struct {
		name string
		got  int64
		want int64
	}{
		{"count", h.TotalCount(), 1002},
		{"p50", h.ValueAtQuantile(50), 500},
		{"p99", h.ValueAtQuantile(99), 991},
		{"max", h.Max(), histMaxUS},
		{"min", h.Min(), histMinUS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// 3 significant digits: within 0.1 %.
			if d := tt.got - tt.want; d < -tt.want/1000-1 || d > tt.want/1000+1 {
				t.Errorf("got %d, want %d", tt.got, tt.want)
			}
		})
	}
	r := &result{}
	addLatency(r, "connect_", h)
	if v, _ := r.get("connect_samples"); v != "1002" {
		t.Errorf("connect_samples: got %q, want 1002", v)
	}
}

func TestPayload(t *testing.T) {
	tests := []struct {
		name      string
		seq, ts   int64
		size      int
		wantLen   int
		wrapInEnv bool
	}{
		{name: "64 bytes", seq: 7, ts: 1_700_000_000_123_456_789, size: 64, wantLen: 64},
		{name: "numbers longer than size", seq: 123456789, ts: 1_700_000_000_123_456_789, size: 32, wantLen: 37},
		{name: "inside an app envelope", seq: 42, ts: 99, size: 64, wantLen: 64, wrapInEnv: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := appendPayload(nil, tt.seq, tt.ts, tt.size)
			if len(p) != tt.wantLen {
				t.Errorf("len: got %d, want %d", len(p), tt.wantLen)
			}
			if tt.wrapInEnv {
				p = []byte(`{"type":"message","channel":"devices/bench-0/up","data":"` + string(p) + `"}`)
			}
			seq, ts, ok := parsePayload(p)
			if !ok || seq != tt.seq || ts != tt.ts {
				t.Errorf("parse: got %d %d %v, want %d %d true", seq, ts, ok, tt.seq, tt.ts)
			}
		})
	}
	if _, _, ok := parsePayload([]byte(`{"type":"ack","id":1}`)); ok {
		t.Error("an ack parsed as a payload")
	}
	if typ, ok := envelopeType([]byte(`{"type":"error","id":3}`)); !ok || typ != "error" {
		t.Errorf("envelopeType: got %q %v, want error true", typ, ok)
	}
}

func TestReadProcSelf(t *testing.T) {
	s, err := readProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if s.rssKiB <= 0 {
		t.Errorf("rss: got %d KiB, want > 0", s.rssKiB)
	}
	c, err := readCPUs()
	if err != nil || len(c.busy) == 0 {
		t.Errorf("readCPUs: got %d CPUs, %v", len(c.busy), err)
	}
}

// gateway is a wssgate process started from a fresh build, in development mode
// on ephemeral loopback ports.
type gateway struct {
	app, device, admin, ca string
	pid                    int
}

func startGateway(t *testing.T) *gateway {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "wssgate")
	if out, err := exec.Command("go", "build", "-o", bin, "../wssgate").CombinedOutput(); err != nil {
		t.Fatalf("go build wssgate: %v\n%s", err, out)
	}
	cfg := filepath.Join(dir, "wssgate.yaml")
	state := filepath.Join(dir, "state")
	yaml := "dev: true\nstate_dir: " + state + "\napp: {address: '127.0.0.1:0'}\ndevice: {address: '127.0.0.1:0'}\n" +
		"admin: {address: '127.0.0.1:0'}\nops: {address: 'off'}\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--config", cfg, "--log-format", "json")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default: // the test reads only the first lines
			}
		}
		_ = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // only the process this test started
		<-done
	})
	timeout := time.After(20 * time.Second)
	for {
		select {
		case line := <-lines:
			var m map[string]any
			if json.Unmarshal([]byte(line), &m) != nil || m["msg"] != "wssgate serving" {
				continue
			}
			app, _ := m["app"].(string)
			dev, _ := m["device_ws"].(string)
			admin, _ := m["admin"].(string)
			return &gateway{
				app:    "wss://" + strings.TrimSuffix(strings.TrimPrefix(app, "https://"), "/") + "/ws",
				device: dev,
				admin:  admin,
				ca:     filepath.Join(state, "dev-ca.pem"),
				pid:    cmd.Process.Pid,
			}
		case <-done:
			t.Fatal("wssgate exited before serving")
		case <-timeout:
			t.Fatal(`wssgate did not log "wssgate serving" within 20 s`)
		}
	}
}

// TestRealRuns drives a real wssgate process with short runs of each
// scenario and checks that nothing went missing.
func TestRealRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a wssgate process")
	}
	g := startGateway(t)
	if _, err := netip.ParseAddrPort(strings.TrimPrefix(g.admin, "tcp://")); err != nil {
		t.Logf("admin address %q: %v", g.admin, err)
	}
	common := []string{"--app-url", g.app, "--device-url", g.device, "--ca", g.ca,
		"--local-ips", "127.0.0.2-127.0.0.5", "--pid", strconv.Itoa(g.pid), "--quiet", "--max-run", "20s"}
	tests := []struct {
		name  string
		args  []string
		zeros []string // fields that must be 0
		pos   []string // fields that must be > 0
	}{
		{"fanout", []string{"fanout", "--apps", "5", "--duration", "1s"},
			[]string{"missing", "dropped", "stalls"}, []string{"delivered", "deliveries_per_s", "server_cpu_us_per_delivery"}},
		{"fanout socketio", []string{"fanout", "--socketio", "--apps", "5", "--duration", "1s"},
			[]string{"missing", "dropped", "stalls"}, []string{"delivered", "deliveries_per_s", "server_cpu_us_per_delivery"}},
		{"fanout at a rate", []string{"fanout", "--apps", "5", "--devices", "2", "--rate", "200", "--duration", "500ms"},
			[]string{"missing", "dropped"}, []string{"delivered"}},
		{"command", []string{"command", "--devices", "3", "--duration", "500ms"},
			[]string{"missing", "errors", "dropped"}, []string{"received"}},
		{"handshake", []string{"handshake", "--concurrency", "4", "--duration", "500ms"},
			[]string{"connect_errors", "close_errors"}, []string{"handshakes"}},
		{"handshake app", []string{"handshake", "--target", "app", "--concurrency", "4", "--duration", "500ms"},
			[]string{"connect_errors"}, []string{"handshakes"}},
		{"idle", []string{"idle", "--devices", "20", "--apps", "20", "--hold", "300ms"},
			[]string{"connect_errors", "dropped"}, []string{"connected", "server_rss_after_kib"}},
		{"reload", []string{"reload", "--admin", g.admin, "--devices", "5", "--concurrency", "2",
			"--before", "300ms", "--duration", "600ms", "--reloads", "2"},
			[]string{"dropped", "reload_errors", "connect_errors"}, []string{"reloads", "handshakes_after"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(append(tt.args, common...), &stdout, &stderr); code != 0 {
				t.Fatalf("exit code: got %d, want 0\n%s", code, stderr.String())
			}
			lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
			if len(lines) != 1 {
				t.Fatalf("stdout: got %d lines, want 1 RESULT line: %q", len(lines), stdout.String())
			}
			m, ok := parseResult(lines[0])
			if !ok || m["scenario"] != tt.args[0] {
				t.Fatalf("got %q, want a RESULT line for %s", lines[0], tt.args[0])
			}
			for _, k := range tt.zeros {
				if m[k] != "0" {
					t.Errorf("%s: got %q, want 0 (%s)", k, m[k], lines[0])
				}
			}
			for _, k := range tt.pos {
				if v, err := strconv.ParseFloat(m[k], 64); err != nil || v <= 0 {
					t.Errorf("%s: got %q, want > 0 (%s)", k, m[k], lines[0])
				}
			}
		})
	}
}
