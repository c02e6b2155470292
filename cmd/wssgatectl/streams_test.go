package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/wssgate/wssgate/admin"
)

// startCtl runs wssgatectl in the background; the returned function waits for its result.
func startCtl(t *testing.T, ctx context.Context, args ...string) func() result {
	t.Helper()
	done := make(chan result, 1)
	go func() { done <- runCtlCtx(ctx, args...) }()
	return func() result {
		t.Helper()
		select {
		case r := <-done:
			return r
		case <-time.After(10 * time.Second):
			t.Fatal("wssgatectl did not return within 10s")
			return result{}
		}
	}
}

func TestSubscribe(t *testing.T) {
	tests := []struct {
		name  string
		json  bool
		check func(t *testing.T, lines []string)
	}{
		{"human", false, func(t *testing.T, lines []string) {
			for i, want := range []string{"  devices/42/up  {\"t\":21.5}", "  devices/7/up  binary(3) AAEC"} {
				if !strings.HasSuffix(lines[i], want) {
					t.Errorf("line %d: got %q, want a timestamp then %q", i, lines[i], want)
				}
				if _, err := time.Parse(streamLayout, strings.Fields(lines[i])[0]); err != nil {
					t.Errorf("line %d: timestamp: %v", i, err)
				}
			}
		}},
		{"json", true, func(t *testing.T, lines []string) {
			var m0, m1 map[string]any
			if err := json.Unmarshal([]byte(lines[0]), &m0); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(lines[1]), &m1); err != nil {
				t.Fatal(err)
			}
			if m0["channel"] != "devices/42/up" || m0["text"] != `{"t":21.5}` || m0["time"] == nil {
				t.Errorf("line 0: got %v", m0)
			}
			if m1["channel"] != "devices/7/up" || m1["binary"] != "AAEC" {
				t.Errorf("line 1: got %v", m1)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := startEnv(t, admin.Config{})
			bin := writeFile(t, t.TempDir(), "up.bin", []byte{0, 1, 2})
			args := []string{"--addr", e.addr, "subscribe", "devices/+/up", "--count", "2"}
			if tt.json {
				args = append(args, "--json")
			}
			wait := startCtl(t, context.Background(), args...)
			waitFor(t, "the subscription", func() bool { return e.hub.SubCount() == 1 })
			runCtl(t, "--addr", e.addr, "publish", "devices/42/down", "--text", "not matching").want(t, 0)
			runCtl(t, "--addr", e.addr, "publish", "devices/42/up", "--text", `{"t":21.5}`).want(t, 0)
			runCtl(t, "--addr", e.addr, "publish", "devices/7/up", "--file", bin, "--binary").want(t, 0)
			r := wait().want(t, 0)
			lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
			if len(lines) != 2 {
				t.Fatalf("got %d lines, want 2:\n%s", len(lines), r.stdout)
			}
			tt.check(t, lines)
			waitFor(t, "the subscription to end", func() bool { return e.hub.SubCount() == 0 })
		})
	}
}

func TestWatch(t *testing.T) {
	e := startEnv(t, admin.Config{})
	wait := startCtl(t, context.Background(), "--addr", e.addr, "watch", "--count", "2")
	waitFor(t, "the watch", func() bool { return e.sessions.WatcherCount() == 1 })
	seed(e) // two connects: s-app, s-dev
	r := wait().want(t, 0)
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2:\n%s", len(lines), r.stdout)
	}
	if f := strings.Fields(lines[0]); len(f) < 4 || f[1] != "connected" || f[2] != "s-app" || f[3] != "listener=app" {
		t.Errorf("line 0: got %q, want time, connected, s-app, listener=app", lines[0])
	}

	waitFor(t, "the first watch to end", func() bool { return e.sessions.WatcherCount() == 0 })

	// A filtered JSON watch sees the disconnect with its code and reason.
	wait = startCtl(t, context.Background(), "--addr", e.addr, "--json", "watch", "--role", "device", "--count", "1")
	waitFor(t, "the watch", func() bool { return e.sessions.WatcherCount() == 1 })
	runCtl(t, "--addr", e.addr, "sessions", "close", "s-app").want(t, 0) // filtered out
	runCtl(t, "--addr", e.addr, "sessions", "close", "s-dev", "--code", "4001", "--reason", "bye").want(t, 0)
	r = wait().want(t, 0)
	var ev struct {
		Type      string `json:"type"`
		CloseCode int    `json:"close_code"`
		Reason    string `json:"reason"`
		Session   struct {
			ID string `json:"id"`
		} `json:"session"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &ev); err != nil {
		t.Fatalf("decode %q: %v", r.stdout, err)
	}
	if ev.Type != "SESSION_EVENT_TYPE_DISCONNECTED" || ev.Session.ID != "s-dev" || ev.CloseCode != 4001 || ev.Reason != "bye" {
		t.Errorf("got %+v, want the disconnect of s-dev with 4001 bye", ev)
	}
}

// TestStreamInterrupt: cancelling the context (what SIGINT does) ends a stream with exit 0.
func TestStreamInterrupt(t *testing.T) {
	e := startEnv(t, admin.Config{})
	for _, args := range [][]string{{"subscribe", "#"}, {"watch"}} {
		t.Run(args[0], func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			wait := startCtl(t, ctx, append([]string{"--addr", e.addr}, args...)...)
			waitFor(t, "the stream", func() bool { return e.hub.SubCount()+e.sessions.WatcherCount() == 1 })
			cancel()
			r := wait().want(t, 0)
			if r.stdout != "" || r.stderr != "" {
				t.Errorf("got stdout %q stderr %q, want none", r.stdout, r.stderr)
			}
		})
	}
}
