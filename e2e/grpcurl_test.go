package e2e

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wssgate/wssgate/internal/daemontest"
)

// grpcurlInstall is how .ci/e2e-deps.sh installs grpcurl.
const grpcurlInstall = "go install github.com/fullstorydev/grpcurl/cmd/grpcurl@<the version pinned in .ci/e2e-deps.sh>"

// TestGrpcurl drives the admin API with grpcurl, through server reflection,
// while a Node.js device connected the way the README shows it
// (NODE_EXTRA_CA_CERTS and ?device_id in development mode): list, then
// ListSessions shows the device, then Publish reaches it.
func TestGrpcurl(t *testing.T) {
	needE2E(t)
	grpcurl := findTool(t, grpcurlInstall, "grpcurl", filepath.Join(goBinDir(), "grpcurl"))
	node := findNode(t)
	bin := daemontest.Binary(t)
	p := newPKI(t)
	d := daemontest.Start(t, bin, gatewayConfig{dev: true, admin: "127.0.0.1:0"}.yaml(p))
	call := func(t *testing.T, args ...string) string {
		t.Helper()
		out, err := exec.Command(grpcurl, append([]string{"-plaintext", "-max-time", "10"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("grpcurl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}

	t.Run("list", func(t *testing.T) {
		out := call(t, d.Admin, "list")
		if !strings.Contains(out, "wssgate.admin.v1.AdminService\n") {
			t.Fatalf("grpcurl list: got %q, want wssgate.admin.v1.AdminService", out)
		}
	})

	app := subscribeApp(t, p, d.App, "devices/+/up")
	dev := startNodeDevice(t, node, []string{"NODE_EXTRA_CA_CERTS=" + p.caFile},
		"--url", localURL(t, "wss", d.Device, "/device?device_id=grpcurl-1"))
	if f := readApp(t, app); f.Channel != "devices/grpcurl-1/up" {
		t.Fatalf("app: got %+v, want the node device's telemetry", f)
	}

	t.Run("ListSessions", func(t *testing.T) {
		out := call(t, "-d", `{}`, d.Admin, "wssgate.admin.v1.AdminService/ListSessions")
		var list struct {
			Sessions []struct{ Listener, Identity string }
		}
		if err := json.Unmarshal([]byte(out), &list); err != nil {
			t.Fatalf("grpcurl ListSessions: %v\n%s", err, out)
		}
		found := false
		for _, s := range list.Sessions {
			found = found || (s.Identity == "grpcurl-1" && s.Listener == "device")
		}
		if !found {
			t.Fatalf("grpcurl ListSessions: got %s, want a device session grpcurl-1", out)
		}
	})

	t.Run("Publish", func(t *testing.T) {
		out := call(t, "-d", `{"channel":"devices/grpcurl-1/down","text":"from grpcurl"}`, d.Admin,
			"wssgate.admin.v1.AdminService/Publish")
		var pub struct{ Reached string }
		if err := json.Unmarshal([]byte(out), &pub); err != nil || pub.Reached != "1" {
			t.Fatalf("grpcurl Publish: got %s (%v), want reached \"1\"", out, err)
		}
		if status := dev.wait(t); status != 0 || !strings.Contains(dev.stdout.String(), "command: from grpcurl\n") {
			t.Fatalf("node device: got status %d stdout %q, want 0 and \"command: from grpcurl\"", status, dev.stdout.String())
		}
	})
}
