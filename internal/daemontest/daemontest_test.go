package daemontest_test

import (
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/wssgate/wssgate/internal/daemontest"
)

func TestMain(m *testing.M) { daemontest.Main(m) }

func TestStartAndStop(t *testing.T) {
	bin := daemontest.Binary(t)
	if again := daemontest.Binary(t); again != bin {
		t.Fatalf("second Binary: got %s, want the first build %s", again, bin)
	}
	state := filepath.Join(t.TempDir(), "state")
	d := daemontest.Start(t, bin, "dev: true\nshutdown_grace: 2s\napp: {address: '127.0.0.1:0'}\n"+
		"device: {address: '127.0.0.1:0'}\nadmin: {address: 'off'}\nops: {address: '127.0.0.1:0'}\n",
		"WSSGATE_STATE_DIR="+state)

	for name, addr := range map[string]string{"App": d.App, "Device": d.Device, "Ops": d.Ops} {
		if _, port, err := net.SplitHostPort(addr); err != nil || port == "0" {
			t.Errorf("%s: got %q, want a bound host:port", name, addr)
		}
	}
	if d.Admin != "" {
		t.Errorf("Admin: got %q, want \"\" (off)", d.Admin)
	}
	if d.Dir == "" || d.Serving.Str("certificate") == "" {
		t.Errorf("Dir %q, serving line %v: want both set", d.Dir, d.Serving)
	}
	resp, err := http.Get("http://" + d.Ops + "/healthz")
	if err != nil {
		t.Fatalf("ops: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz: got %d, want 200", resp.StatusCode)
	}

	d.Stop(t, 10*time.Second)
	if !d.Exited() {
		t.Fatal("Exited: got false after Stop, want true")
	}
	l := d.WaitLog(t, time.Second, func(l daemontest.Line) bool { return l.Str("msg") == "stopped" })
	if l.Str("level") != "INFO" {
		t.Errorf("stopped line: got %v, want level INFO", l)
	}
	if len(d.Logs()) < 2 {
		t.Errorf("Logs: got %q, want the serving and stopped lines at least", d.Logs())
	}
}
