package socketio

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// e2eDir holds client.js and the pinned socket.io-client ("npm ci" there).
const e2eDir = "../../../e2e/socketio"

// TestNodeSocketIOClient runs the real npm socket.io-client 4.8.x with its
// defaults (polling, then the upgrade), websocket only and polling only.
func TestNodeSocketIOClient(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not found: install Node.js 18+ to run the socket.io-client test")
	}
	if _, err := os.Stat(filepath.Join(e2eDir, "node_modules", "socket.io-client", "package.json")); err != nil {
		t.Skipf("socket.io-client not installed: run \"npm ci\" in e2e/socketio (%v)", err)
	}
	for _, tc := range []struct {
		transports  string
		first, last string
		upgrades    uint64
	}{
		{"default", "polling", "websocket", 1},
		{"websocket", "websocket", "websocket", 0},
		{"polling", "polling", "polling", 0},
	} {
		t.Run(tc.transports, func(t *testing.T) {
			ts := startServer(t, Config{Authenticate: func(_ *httpRequest, auth jsonRaw) (string, any, error) {
				id, err := authToken(auth)
				return id, nil, err
			}})
			caFile := filepath.Join(t.TempDir(), "ca.pem")
			if err := os.WriteFile(caFile, ts.pem, 0o600); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, node, filepath.Join(e2eDir, "client.js"),
				"--url", ts.hs.URL, "--ca", caFile, "--transports", tc.transports, "--timeout-ms", "20000")
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("node client.js: %v\nstdout: %s\nstderr: %s", err, out, stderr.String())
			}
			var res struct {
				OK          bool
				First, Last string
			}
			if err := json.Unmarshal(out, &res); err != nil || !res.OK {
				t.Fatalf("client result %q: %v", out, err)
			}
			if res.First != tc.first || res.Last != tc.last {
				t.Fatalf("got transports %s → %s, want %s → %s", res.First, res.Last, tc.first, tc.last)
			}
			if got := ts.h.waitClose(t); got != "client namespace disconnect" {
				t.Fatalf("got close reason %q, want client namespace disconnect", got)
			}
			if st := ts.srv.Stats(); st.Upgrades != tc.upgrades || st.Handshakes != 1 {
				t.Fatalf("got %+v, want %d upgrades and 1 handshake", st, tc.upgrades)
			}
			if id := ts.h.socket(t, 0).Identity(); id != "alice" {
				t.Fatalf("got identity %q, want alice", id)
			}
		})
	}
}

// TestNodeShutdownIsTransportClose checks that Shutdown closes the
// transport without a Socket.IO DISCONNECT: the real client reports
// "transport close" (and would reconnect), not "io server disconnect".
func TestNodeShutdownIsTransportClose(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not found: install Node.js 18+ to run the socket.io-client test")
	}
	if _, err := os.Stat(filepath.Join(e2eDir, "node_modules", "socket.io-client", "package.json")); err != nil {
		t.Skipf("socket.io-client not installed: run \"npm ci\" in e2e/socketio (%v)", err)
	}
	for _, transports := range []string{"websocket", "polling"} {
		t.Run(transports, func(t *testing.T) {
			ts := startServer(t, Config{})
			caFile := filepath.Join(t.TempDir(), "ca.pem")
			if err := os.WriteFile(caFile, ts.pem, 0o600); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, node, filepath.Join(e2eDir, "client.js"),
				"--url", ts.hs.URL, "--ca", caFile, "--transports", transports, "--wait-close")
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			rd := bufio.NewReader(stdout)
			if line, err := rd.ReadString('\n'); err != nil || line != "connected\n" {
				_ = cmd.Wait()
				t.Fatalf("got %q %v, want connected", line, err)
			}
			sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer scancel()
			if err := ts.srv.Shutdown(sctx); err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
			line, _ := rd.ReadString('\n')
			if err := cmd.Wait(); err != nil {
				t.Fatalf("node: %v, output %q", err, line)
			}
			if !strings.Contains(line, `"reason":"transport close"`) {
				t.Fatalf("got %q, want reason transport close", line)
			}
		})
	}
}
