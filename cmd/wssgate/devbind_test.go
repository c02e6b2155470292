package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wssgate/wssgate/internal/daemontest"
)

func TestDevModeRefusesNonLoopback(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "dev: true\napp: {address: '0.0.0.0:0'}\ndevice: {address: '127.0.0.1:0'}\nadmin: {address: 'off'}\nops: {address: 'off'}\n")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "serve", "--config", cfg)
	cmd.Env = append(cmd.Environ(), "WSSGATE_STATE_DIR="+dir)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if ctx.Err() != nil || !errors.As(err, &exit) || !strings.Contains(string(out), "app.address") {
		t.Fatalf("dev: true on 0.0.0.0: got %v (context %v), output %q; want a non-zero exit within 5 s naming app.address", err, ctx.Err(), out)
	}
}

// TestDevModeFromFileBindsLoopback runs dev: true without addresses: the
// listeners are on the fixed development ports, which another process may
// hold; "address already in use" on 127.0.0.1 proves the bind address too.
func TestDevModeFromFileBindsLoopback(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "dev: true\nadmin: {address: 'off'}\nops: {address: 'off'}\n")
	cmd := exec.Command(bin, "serve", "--log-format", "json", "--config", cfg)
	cmd.Env = append(cmd.Environ(), "WSSGATE_STATE_DIR="+dir)
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM) // only the process this test started
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		s := out.String()
		switch {
		case strings.Contains(s, `"msg":"wssgate serving"`):
			var l daemontest.Line
			for line := range strings.SplitSeq(s, "\n") {
				if strings.Contains(line, `"msg":"wssgate serving"`) {
					if err := json.Unmarshal([]byte(line), &l); err != nil {
						t.Fatal(err)
					}
				}
			}
			if l.Str("app") != "https://127.0.0.1:8443/" || !strings.HasPrefix(l.Str("device_ws"), "wss://127.0.0.1:9443/") {
				t.Fatalf("dev: true without addresses serves app %s, devices %s; want 127.0.0.1:8443 and :9443", l.Str("app"), l.Str("device_ws"))
			}
			return
		case strings.Contains(s, "address already in use"):
			if !strings.Contains(s, "127.0.0.1:8443") && !strings.Contains(s, "127.0.0.1:9443") {
				t.Fatalf("bind failed, but not on loopback: %s", s)
			}
			t.Logf("a development port is taken by another process; the bind address was loopback: %s", s)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no serving line within 20 s: %s", out.String())
}

// lockedBuffer is a bytes.Buffer safe for the process's writes and the
// test's reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
