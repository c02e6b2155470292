package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/wssgate/wssgate/internal/daemontest"
)

// socketIODir holds gateway.js; "npm ci" there installs socket.io-client.
const socketIODir = "socketio"

// findSocketIONode returns node after checking e2e/socketio's npm ci.
func findSocketIONode(t *testing.T) string {
	t.Helper()
	node := findTool(t, "install Node.js (apt-get install -y nodejs npm)", "node", "nodejs")
	if _, err := os.Stat(filepath.Join(socketIODir, "node_modules", "socket.io-client", "package.json")); err != nil {
		t.Fatalf("e2e: npm package socket.io-client not installed in e2e/socketio: run \"npm ci\" there (.ci/e2e-deps.sh does it): %v", err)
	}
	return node
}

// freePort returns a loopback port free right now, so that a restarted
// gateway binds the same address.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// sioStep is one line gateway.js prints.
type sioStep struct {
	Step, Transport, Channel, Hex, Reason, Error string
	N, Reached, BinaryReached                    int
	Data                                         json.RawMessage
}

// TestSocketIOClient runs the real socket.io-client 4.8.4 against the real
// daemon with the default transports (polling, then the upgrade),
// WebSocket only and polling only: it subscribes with an ack, receives a
// device's text and binary telemetry, publishes a command (JSON and
// binary) the device receives with reached 1, and after a restart of the
// gateway reconnects by itself and subscribes again.
func TestSocketIOClient(t *testing.T) {
	needE2E(t)
	node := findSocketIONode(t)
	bin := daemontest.Binary(t)
	for _, mode := range []string{"default", "websocket", "polling"} {
		t.Run(mode, func(t *testing.T) { runSocketIOClient(t, node, bin, mode) })
	}
}

func runSocketIOClient(t *testing.T, node, bin, mode string) {
	p := newPKI(t)
	cfg := gatewayConfig{dev: true, app: freePort(t), device: freePort(t)}.yaml(p)
	d := daemontest.Start(t, bin, cfg)
	cmd := exec.Command(node, filepath.Join(socketIODir, "gateway.js"), "--url", localURL(t, "https", d.App, ""), "--transports", mode)
	cmd.Env = append(os.Environ(), "NODE_EXTRA_CA_CERTS="+p.caFile)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start node: %v", err)
	}
	exited := make(chan error, 1)
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	steps := make(chan sioStep, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var s sioStep
			if json.Unmarshal(sc.Bytes(), &s) == nil {
				steps <- s
			}
		}
		close(steps)
		exited <- cmd.Wait()
	}()
	next := func(want string) sioStep {
		t.Helper()
		timeout := time.After(3 * ioTimeout)
		for {
			select {
			case s, ok := <-steps:
				if !ok {
					t.Fatalf("gateway.js exited before %q; stderr: %s", want, stderr.String())
				}
				if s.Step == "error" {
					t.Fatalf("gateway.js: %s", s.Error)
				}
				if s.Step == want {
					return s
				}
				t.Logf("gateway.js: %+v", s)
			case <-timeout:
				t.Fatalf("no %q from gateway.js within %s", want, 3*ioTimeout)
			}
		}
	}
	if s := next("subscribed"); s.N != 1 || (mode != "default" && s.Transport != mode) {
		t.Fatalf("first subscribe: %+v (mode %s)", s, mode)
	}
	dev := dialWS(t, p.tls, localURL(t, "wss", d.Device, "/device?device_id=e2e-1"), nil)
	waitFor(t, "device session", func() bool {
		return strings.Contains(strings.Join(d.Logs(), "\n"), "e2e-1")
	})
	if err := wsutil.WriteClientText(dev, []byte(`{"t":21.5}`)); err != nil {
		t.Fatal(err)
	}
	if s := next("text"); s.Channel != "devices/e2e-1/up" || string(s.Data) != `{"t":21.5}` {
		t.Fatalf("text telemetry: %+v", s)
	}
	if err := wsutil.WriteClientBinary(dev, []byte{0, 1, 255}); err != nil {
		t.Fatal(err)
	}
	if s := next("binary"); s.Hex != "0001ff" {
		t.Fatalf("binary telemetry: %+v", s)
	}
	// The default client starts on polling and upgrades at once.
	want := map[string]string{"default": "websocket", "websocket": "websocket", "polling": "polling"}[mode]
	if s := next("published"); s.Reached != 1 || s.BinaryReached != 1 || s.Transport != want {
		t.Fatalf("publish: %+v, want reached 1 twice on %s", s, want)
	}
	if got, op := readDevice(t, dev); got != `{"led":"on"}` || op != ws.OpText {
		t.Fatalf("device command: %q %v", got, op)
	}
	if got, op := readDevice(t, dev); got != "\x07\x08\x09" || op != ws.OpBinary {
		t.Fatalf("device binary command: %q %v", got, op)
	}
	d.Stop(t, ioTimeout)
	if s := next("disconnect"); s.Reason != "transport close" && s.Reason != "transport error" {
		t.Fatalf("disconnect reason %q, want a transport close (never io server disconnect)", s.Reason)
	}
	d2 := daemontest.Start(t, bin, cfg)
	if s := next("subscribed"); s.N != 2 {
		t.Fatalf("re-subscribe: %+v", s)
	}
	dev2 := dialWS(t, p.tls, localURL(t, "wss", d2.Device, "/device?device_id=e2e-1"), nil)
	time.Sleep(100 * time.Millisecond) // the device session registers
	if err := wsutil.WriteClientText(dev2, []byte(`"after restart"`)); err != nil {
		t.Fatal(err)
	}
	if s := next("text2"); string(s.Data) != `"after restart"` {
		t.Fatalf("after restart: %+v", s)
	}
}
