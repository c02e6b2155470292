package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wssgate/wssgate/gateway/certs/certstest"
	adminv1 "github.com/wssgate/wssgate/gen/wssgate/admin/v1"
	"github.com/wssgate/wssgate/internal/daemontest"
)

// nodeDir holds device.js and its package.json; "npm ci" there installs ws.
const nodeDir = "node"

// nodeRun is one run of e2e/node/device.js.
type nodeRun struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	done           chan struct{} // closed when the process has exited
	err            error         // cmd.Wait's result, set before done is closed
}

// startNodeDevice runs "node device.js args..." with env added to the test's
// environment; the process is killed when t ends if it is still running.
func startNodeDevice(t *testing.T, node string, env []string, args ...string) *nodeRun {
	t.Helper()
	args = append([]string{filepath.Join(nodeDir, "device.js"), "--timeout-ms", "15000"}, args...)
	r := &nodeRun{cmd: exec.Command(node, args...), done: make(chan struct{})}
	r.cmd.Env = append(os.Environ(), env...)
	r.cmd.Stdout, r.cmd.Stderr = &r.stdout, &r.stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("start node: %v", err)
	}
	go func() {
		r.err = r.cmd.Wait()
		close(r.done)
	}()
	t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			_ = r.cmd.Process.Kill() // only the process this test started
			<-r.done
		}
		if t.Failed() {
			t.Logf("node device.js: %v\nstdout:\n%s\nstderr:\n%s", r.err, &r.stdout, &r.stderr)
		}
	})
	return r
}

// wait waits for the exit and returns the exit status.
func (r *nodeRun) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(20 * time.Second):
		t.Fatal("node device.js did not exit within 20 s")
	}
	var ee *exec.ExitError
	switch {
	case r.err == nil:
		return 0
	case errors.As(r.err, &ee):
		return ee.ExitCode()
	}
	t.Fatalf("node device.js: %v", r.err)
	return -1
}

// findNode returns the node binary after checking that "npm ci" installed
// the pinned ws package in e2e/node.
func findNode(t *testing.T) string {
	t.Helper()
	node := findTool(t, "install Node.js (apt-get install -y nodejs npm)", "node", "nodejs")
	if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", "ws", "package.json")); err != nil {
		t.Fatalf("e2e: npm package ws not installed in e2e/node: run \"npm ci\" there (.ci/e2e-deps.sh does it): %v", err)
	}
	return node
}

// TestNodeDevice connects a Node.js device using the npm ws package with a
// client certificate (device.client_auth: require): its text and binary
// telemetry reach an app client, and a command published through the admin
// API reaches it. A certificate from another CA is refused in the TLS
// handshake.
func TestNodeDevice(t *testing.T) {
	needE2E(t)
	node := findNode(t)
	bin := daemontest.Binary(t)
	p := newPKI(t)
	deviceCA := certstest.NewCA(t, "wssgate e2e device CA")
	deviceCert, deviceKey := deviceCA.Issue(t, certstest.LeafOptions{CN: "node-1", Client: true}).Write(t, p.dir, "node-1")
	rogueCA := certstest.NewCA(t, "wssgate e2e rogue CA")
	rogueCert, rogueKey := rogueCA.Issue(t, certstest.LeafOptions{CN: "node-1", Client: true}).Write(t, p.dir, "rogue")
	d := daemontest.Start(t, bin, gatewayConfig{clientCA: deviceCA.WriteCA(t, p.dir), admin: "127.0.0.1:0"}.yaml(p))
	deviceURL := localURL(t, "wss", d.Device, "/device")

	t.Run("telemetry and command", func(t *testing.T) {
		app := subscribeApp(t, p, d.App, "devices/node-1/up")
		dev := startNodeDevice(t, node, nil, "--url", deviceURL, "--ca", p.caFile, "--cert", deviceCert, "--key", deviceKey,
			"--text", `{"t":22.5,"src":"node"}`, "--binary-hex", "00010203ff")

		text := readApp(t, app)
		var data map[string]any
		if err := json.Unmarshal(text.Data, &data); err != nil || text.Type != "message" ||
			text.Channel != "devices/node-1/up" || data["src"] != "node" {
			t.Fatalf("first message: got %+v (data %s), want the text telemetry on devices/node-1/up", text, text.Data)
		}
		binary := readApp(t, app)
		if want := base64.StdEncoding.EncodeToString([]byte{0, 1, 2, 3, 0xff}); binary.DataBase64 != want || binary.Channel != "devices/node-1/up" {
			t.Fatalf("second message: got %+v, want data_base64 %s on devices/node-1/up", binary, want)
		}

		ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
		defer cancel()
		pub, err := adminClient(t, d.Admin).Publish(ctx, &adminv1.PublishRequest{
			Channel: "devices/node-1/down", Payload: &adminv1.PublishRequest_Text{Text: "reboot"}})
		if err != nil || pub.GetReached() != 1 {
			t.Fatalf("admin Publish: got %v %v, want reached 1", pub, err)
		}
		if status := dev.wait(t); status != 0 || !strings.Contains(dev.stdout.String(), "command: reboot\n") {
			t.Fatalf("node device: got status %d stdout %q, want 0 and \"command: reboot\"", status, dev.stdout.String())
		}
	})

	t.Run("certificate from another CA refused", func(t *testing.T) {
		dev := startNodeDevice(t, node, nil, "--url", deviceURL, "--ca", p.caFile, "--cert", rogueCert, "--key", rogueKey)
		if status := dev.wait(t); status != 1 || !strings.HasPrefix(dev.stderr.String(), "tls error:") {
			t.Fatalf("node device with a rogue certificate: got status %d stderr %q, want 1 and a TLS error",
				status, dev.stderr.String())
		}
		t.Logf("node: %s", strings.TrimSpace(dev.stderr.String()))
		// The failure says what the device presented, although it was refused.
		d.WaitLog(t, ioTimeout, func(l daemontest.Line) bool {
			return l.Str("msg") == "handshake failed" && l.Str("reason") == "bad_client_certificate" &&
				l.Str("client_certificate_subject") == "CN=node-1" && l.Str("client_certificate_issuer") == "CN=wssgate e2e rogue CA" &&
				len(l.Str("client_certificate_sha256")) == 64 && l.Str("client_certificate_serial") != ""
		})
	})
}
