package daemontest

import (
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startTimeout bounds how long Start waits for "wssgate serving".
const startTimeout = 20 * time.Second

// Daemon is a running "wssgate serve" process started by Start.
type Daemon struct {
	// App and Device are the host:port the app and device listeners bound.
	App, Device string
	// Admin is the admin API's address (host:port, or the socket path), ""
	// when it is off. Ops is the ops HTTP host:port, "" when off.
	Admin, Ops string
	// Dir is the directory of the config file Start wrote ("" for StartArgs).
	Dir string
	// Serving is the "wssgate serving" log line (app, app_ws, device_ws,
	// admin, ops, certificate, fingerprint, generation).
	Serving Line

	cmd  *exec.Cmd
	logs *logRecorder
	done chan struct{} // closed when the process has exited
	err  error         // cmd.Wait's result, set before done is closed
}

// Start writes configYAML to wssgate.yaml in a new temporary directory (Dir;
// relative paths in the config are relative to it) and runs
// "bin serve --log-format json --config wssgate.yaml" with env added to the
// test's environment, like StartArgs.
func Start(t testing.TB, bin, configYAML string, env ...string) *Daemon {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "wssgate.yaml")
	if err := os.WriteFile(cfg, []byte(configYAML), 0o600); err != nil {
		t.Fatalf("daemontest: write config: %v", err)
	}
	d := StartArgs(t, bin, env, "--config", cfg)
	d.Dir = dir
	return d
}

// StartArgs runs "bin serve --log-format json args..." with env added to the
// test's environment and waits until it logs "wssgate serving" (failing t if
// it exits first or takes longer than 20 s). The process is killed when the
// test ends if it is still running; if the test failed, its log is printed.
func StartArgs(t testing.TB, bin string, env []string, args ...string) *Daemon {
	t.Helper()
	d := &Daemon{logs: newLogRecorder(), done: make(chan struct{})}
	d.cmd = exec.Command(bin, append([]string{"serve", "--log-format", "json"}, args...)...)
	d.cmd.Env = append(os.Environ(), env...)
	d.cmd.Stdout = d.logs
	d.cmd.Stderr = d.logs
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("daemontest: start %s: %v", bin, err)
	}
	go func() {
		d.err = d.cmd.Wait()
		close(d.done)
	}()
	t.Cleanup(func() {
		select {
		case <-d.done:
		default:
			_ = d.cmd.Process.Kill() // only the process this test started
			<-d.done
		}
		if t.Failed() {
			t.Logf("wssgate (pid %d) log:\n%s", d.cmd.Process.Pid, strings.Join(d.Logs(), "\n"))
		}
	})
	line, err := d.waitLine(startTimeout, func(l Line) bool { return l.Str("msg") == "wssgate serving" })
	if err != nil {
		t.Fatalf("daemontest: %v", err)
	}
	if err := d.setAddrs(line); err != nil {
		t.Fatalf("daemontest: %v", err)
	}
	return d
}

// setAddrs fills the address fields from the "wssgate serving" line.
func (d *Daemon) setAddrs(l Line) error {
	d.Serving = l
	for _, f := range []struct {
		key string
		dst *string
	}{{"app", &d.App}, {"device_ws", &d.Device}} {
		u, err := url.Parse(l.Str(f.key))
		if err != nil || u.Host == "" {
			return fmt.Errorf("parse %s %q of the serving line: want a URL with a host", f.key, l.Str(f.key))
		}
		*f.dst = u.Host
	}
	for key, dst := range map[string]*string{"admin": &d.Admin, "ops": &d.Ops} {
		if v := l.Str(key); v != "off" {
			*dst = v
		}
	}
	return nil
}

// Logs returns every line the process has written so far (stdout and stderr).
func (d *Daemon) Logs() []string {
	lines, _ := d.logs.snapshot()
	return lines
}

// WaitLog waits up to within for a log line (any, from the start) for which
// match is true and returns it; it fails t on timeout or if the process exits
// without such a line.
func (d *Daemon) WaitLog(t testing.TB, within time.Duration, match func(Line) bool) Line {
	t.Helper()
	l, err := d.waitLine(within, match)
	if err != nil {
		t.Fatalf("daemontest: %v", err)
	}
	return l
}

func (d *Daemon) waitLine(within time.Duration, match func(Line) bool) (Line, error) {
	timeout := time.NewTimer(within)
	defer timeout.Stop()
	seen := 0
	for {
		lines, changed := d.logs.snapshot()
		for ; seen < len(lines); seen++ {
			if l := parseLine(lines[seen]); match(l) {
				return l, nil
			}
		}
		select {
		case <-changed:
		case <-d.done:
			// The writers are drained before Wait returns: one last look.
			if lines, _ := d.logs.snapshot(); len(lines) > seen {
				continue
			}
			return nil, fmt.Errorf("wait for log line: wssgate exited (%v) without one", d.err)
		case <-timeout.C:
			return nil, fmt.Errorf("wait for log line: none within %s", within)
		}
	}
}

// Signal sends sig to the process.
func (d *Daemon) Signal(t testing.TB, sig os.Signal) {
	t.Helper()
	if err := d.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("daemontest: signal %v: %v", sig, err)
	}
}

// Wait waits up to within for the process to exit and returns cmd.Wait's
// error (nil: exit status 0); it fails t on timeout.
func (d *Daemon) Wait(t testing.TB, within time.Duration) error {
	t.Helper()
	select {
	case <-d.done:
		return d.err
	case <-time.After(within):
		t.Fatalf("daemontest: wssgate did not exit within %s", within)
		return nil
	}
}

// Stop sends SIGTERM and waits up to within for exit status 0, failing t
// otherwise.
func (d *Daemon) Stop(t testing.TB, within time.Duration) {
	t.Helper()
	d.Signal(t, syscall.SIGTERM)
	if err := d.Wait(t, within); err != nil {
		t.Fatalf("daemontest: wssgate exit: %v, want status 0", err)
	}
}

// Exited reports whether the process has exited.
func (d *Daemon) Exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}
