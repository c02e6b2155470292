package e2e

import (
	"context"
	"encoding/json"
	"net"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wssgate/wssgate/gateway/certs/certstest"
	adminv1 "github.com/wssgate/wssgate/gen/wssgate/admin/v1"
	"github.com/wssgate/wssgate/internal/daemontest"
)

// failureLines returns the daemon's "handshake failed" log lines of one
// listener.
func failureLines(d *daemontest.Daemon, listener string) []map[string]any {
	var out []map[string]any
	for _, s := range d.Logs() {
		var l map[string]any
		if json.Unmarshal([]byte(s), &l) == nil && l["msg"] == "handshake failed" && l["listener"] == listener {
			out = append(out, l)
		}
	}
	return out
}

// TestNodeNameNotCovered is the classic "Hostname/IP does not match
// certificate's altnames", tried as a new user would: a certificate for
// localhost and example.com, nothing else configured, and a Node.js ws
// client to wss://socket.example:P (resolved to 127.0.0.2) and to
// wss://127.0.0.2:P (no SNI). Node refuses the certificate; the gateway
// says in one log line and one failure entry what the client asked for and
// what the certificate covers.
func TestNodeNameNotCovered(t *testing.T) {
	needE2E(t)
	node := findNode(t)
	bin := daemontest.Binary(t)
	p := newPKI(t)
	p.certFile, p.keyFile = p.ca.Issue(t, certstest.LeafOptions{CN: "localhost", DNS: []string{"localhost", "example.com"}}).Write(t, p.dir, "classic")
	d := daemontest.Start(t, bin, gatewayConfig{dev: true, app: "127.0.0.2:0", device: "127.0.0.2:0", admin: "127.0.0.1:0"}.yaml(p))
	sans := "[DNS:localhost DNS:example.com]"
	tests := []struct{ name, host, want string }{
		{"SNI", "socket.example", `client asked for "socket.example", which the certificate does not cover ` + sans},
		{"IP without SNI", "127.0.0.2", "client dialled 127.0.0.2 without SNI, which the certificate does not cover " + sans},
	}
	for _, tt := range tests {
		for _, l := range []struct{ name, addr, path string }{{"app", d.App, "/ws"}, {"device", d.Device, "/device?device_id=n1"}} {
			t.Run(tt.name+"/"+l.name, func(t *testing.T) {
				before := len(failureLines(d, l.name))
				_, port, _ := net.SplitHostPort(l.addr)
				dev := startNodeDevice(t, node, nil, "--url", "wss://"+net.JoinHostPort(tt.host, port)+l.path,
					"--ca", p.caFile, "--resolve", "socket.example=127.0.0.2")
				if status := dev.wait(t); status != 1 || !strings.Contains(dev.stderr.String(), "ERR_TLS_CERT_ALTNAME_INVALID") {
					t.Fatalf("node: got status %d stderr %q, want 1 and ERR_TLS_CERT_ALTNAME_INVALID", status, dev.stderr.String())
				}
				t.Logf("node: %s", strings.TrimSpace(dev.stderr.String()))
				d.WaitLog(t, ioTimeout, func(x daemontest.Line) bool { return strings.HasPrefix(x.Str("detail"), tt.want) })
				time.Sleep(300 * time.Millisecond) // a second line would be written by now
				lines := failureLines(d, l.name)[before:]
				if len(lines) != 1 || lines[0]["reason"] != "name_not_covered" || lines[0]["certificate_sans"] != sans {
					t.Fatalf("log lines: got %v, want one name_not_covered line with the SANs", lines)
				}
				checkFailureEntry(t, d, l.name, sans)
			})
		}
	}
}

// checkFailureEntry checks the newest failure of listener through the admin API.
func checkFailureEntry(t *testing.T, d *daemontest.Daemon, listener, sans string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	resp, err := adminClient(t, d.Admin).ListFailures(ctx, &adminv1.ListFailuresRequest{Listener: listener, Limit: 1})
	if err != nil || len(resp.GetFailures()) != 1 {
		t.Fatalf("ListFailures: %v %v", resp, err)
	}
	f := resp.GetFailures()[0]
	if f.GetReason() != "name_not_covered" || f.GetName() == "" || "["+strings.Join(f.GetCertificateSans(), " ")+"]" != sans {
		t.Fatalf("failure entry: got %v, want name_not_covered with the name and SANs %s", f, sans)
	}
}

// TestCurlPlainHTTPRedirect: curl -i http://localhost:P/ on the app port
// gets 308 to https://localhost:P/.
func TestCurlPlainHTTPRedirect(t *testing.T) {
	needE2E(t)
	curl := findTool(t, "install curl (apt-get install -y curl)", "curl")
	p := newPKI(t)
	d := daemontest.Start(t, daemontest.Binary(t), gatewayConfig{}.yaml(p))
	url := localURL(t, "http", d.App, "/")
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, curl, "-sS", "-i", "--max-time", "5", url).CombinedOutput()
	lines := strings.Split(strings.ReplaceAll(string(out), "\r", ""), "\n")
	want := "Location: " + localURL(t, "https", d.App, "/")
	if err != nil || !strings.HasPrefix(lines[0], "HTTP/1.1 308") || !slices.Contains(lines, want) {
		t.Fatalf("curl -i %s: %v\n%s\nwant 308 and %q", url, err, out, want)
	}
}
