package main

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/wssgate/wssgate/gateway/certs/certstest"
	"github.com/wssgate/wssgate/internal/daemontest"
)

func TestMain(m *testing.M) { daemontest.Main(m) }

// binary is the wssgate binary, built once for all tests.
func binary(t *testing.T) string { return daemontest.Binary(t) }

// start runs wssgate serve with args and waits for its "serving" line.
func start(t *testing.T, bin string, env []string, args ...string) *daemontest.Daemon {
	t.Helper()
	return daemontest.StartArgs(t, bin, env, args...)
}

// dialWS opens a WebSocket with tc, closed when the test ends.
func dialWS(t *testing.T, tc *tls.Config, url string) net.Conn {
	t.Helper()
	conn, _, _, err := ws.Dialer{TLSConfig: tc, Timeout: 5 * time.Second}.Dial(context.Background(), url)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// localhostLeaf issues the usual server certificate of these tests: CN and
// DNS SAN localhost.
func localhostLeaf(t *testing.T, ca *certstest.CA) *certstest.Leaf {
	t.Helper()
	return ca.Issue(t, certstest.LeafOptions{CN: "localhost", DNS: []string{"localhost"}})
}

func writeConfig(t *testing.T, dir, yaml string) string {
	p := filepath.Join(dir, "wssgate.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDevModeEmptyStateDir(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	cfg := writeConfig(t, dir, "dev: true\napp: {address: '127.0.0.1:0'}\ndevice: {address: '127.0.0.1:0'}\nadmin: {address: 'off'}\nops: {address: 'off'}\n")
	d := start(t, bin, []string{"WSSGATE_STATE_DIR=" + state}, "--config", cfg)

	st, err := os.Stat(state)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("state dir: %v mode %v, want 0700", err, st.Mode().Perm())
	}
	if st, err := os.Stat(filepath.Join(state, "dev-key.pem")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("dev-key.pem: %v, want mode 0600", err)
	}
	caPEM, err := os.ReadFile(filepath.Join(state, "dev-ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	// Both ports serve the same certificate, valid for localhost against dev-ca.pem.
	var fps [][32]byte
	for _, addr := range []string{d.App, d.Device} {
		c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, ServerName: "localhost"})
		if err != nil {
			t.Fatalf("%s: %v", addr, err)
		}
		fps = append(fps, sha256.Sum256(c.ConnectionState().PeerCertificates[0].Raw))
		c.Close()
	}
	if fps[0] != fps[1] {
		t.Errorf("app and device certificates differ")
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "localhost"}}}
	for _, path := range []string{"/", "/.well-known/wssgate", "/wssgate.js"} {
		resp, err := client.Get("https://" + d.App + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || strings.Contains(string(body), "ws://") {
			t.Errorf("%s: status %d, insecure URL in body: %v", path, resp.StatusCode, strings.Contains(string(body), "ws://"))
		}
	}
	d.Signal(t, syscall.SIGTERM)
	if err := d.Wait(t, 15*time.Second); err != nil {
		t.Fatalf("exit: %v, want status 0", err)
	}
}

func TestSIGTERMSendsGoingAwayAndSIGHUPReloads(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	ca := certstest.NewCA(t, "test CA")
	leaf := localhostLeaf(t, ca)
	certFile, keyFile := leaf.Write(t, dir, "server")
	cfg := writeConfig(t, dir, "dev: true\ntls:\n  certificates: [{cert: server.pem, key: server-key.pem}]\n"+
		"app: {address: '127.0.0.1:0'}\ndevice: {address: '127.0.0.1:0'}\nadmin: {address: 'off'}\nops: {address: 'off'}\nshutdown_grace: 5s\n")
	d := start(t, bin, nil, "--config", cfg)
	tc := &tls.Config{RootCAs: ca.Pool, ServerName: "localhost"}
	dial := func(url string) net.Conn { return dialWS(t, tc, url) }
	app := dial("wss://" + d.App + "/ws")
	dev := dial("wss://" + d.Device + "/device?device_id=d1")

	// SIGHUP with a new certificate on disk: new handshakes see it, the
	// live sessions stay.
	next := localhostLeaf(t, ca)
	if err := os.WriteFile(certFile, next.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, next.KeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	d.Signal(t, syscall.SIGHUP)
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := tls.Dial("tcp", d.Device, tc)
		if err != nil {
			t.Fatal(err)
		}
		serial := c.ConnectionState().PeerCertificates[0].SerialNumber
		c.Close()
		if serial.Cmp(next.Cert.SerialNumber) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still serving serial %v after SIGHUP, want %v", serial, next.Cert.SerialNumber)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := wsutil.WriteClientText(app, []byte(`{"type":"subscribe","id":1,"channel":"devices/+/up"}`)); err != nil {
		t.Fatalf("app session lost after reload: %v", err)
	}
	_ = app.SetReadDeadline(time.Now().Add(5 * time.Second))
	if p, _, err := wsutil.ReadServerData(app); err != nil || !strings.Contains(string(p), `"ack"`) {
		t.Fatalf("app session after reload: got %q %v, want ack", p, err)
	}

	d.Signal(t, syscall.SIGTERM)
	for name, c := range map[string]net.Conn{"app": app, "device": dev} {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		code := ws.StatusCode(0)
		for code == 0 {
			p, op, err := wsutil.ReadServerData(c)
			var ce wsutil.ClosedError
			switch {
			case err == nil:
				_ = p
				_ = op
			case errorsAs(err, &ce):
				code = ce.Code
			default:
				t.Fatalf("%s: %v before a close frame", name, err)
			}
		}
		if code != ws.StatusGoingAway {
			t.Errorf("%s: got close %d, want 1001", name, code)
		}
	}
	if err := d.Wait(t, 10*time.Second); err != nil {
		t.Fatalf("exit: %v, want status 0", err)
	}
}

func TestCommandLine(t *testing.T) {
	dir := t.TempDir()
	bad := writeConfig(t, dir, "dev: true\napp:\n  adress: ':1'\n")
	tests := []struct {
		name   string
		args   []string
		status int
		want   string
	}{
		{"version", []string{"version"}, 0, "wssgate "},
		{"no command", nil, 2, "usage"},
		{"unknown command", []string{"fly"}, 2, `unknown command "fly"`},
		{"unknown config key", []string{"serve", "--config", bad}, 1, "line 3: field adress not found"},
		{"missing config", []string{"serve", "--config", filepath.Join(dir, "nope.yaml")}, 1, "no such file"},
		{"devcert", []string{"devcert", "--dir", filepath.Join(dir, "state")}, 0, "dev-ca.pem"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			status := run(context.Background(), tt.args, &out, &out)
			if status != tt.status || !strings.Contains(out.String(), tt.want) {
				t.Fatalf("got status %d output %q, want %d containing %q", status, out.String(), tt.status, tt.want)
			}
		})
	}
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	ca := certstest.NewCA(t, "test CA")
	caFile := ca.WriteCA(t, dir)
	leaf := localhostLeaf(t, ca)
	leaf.Write(t, dir, "server")
	base := "tls:\n  certificates: [{cert: server.pem, key: server-key.pem}]\n  root_ca: " + caFile + "\n"
	t.Run("hostname not covered", func(t *testing.T) {
		cfg := writeConfig(t, dir, base+"  hostnames: [socket.example]\napp: {auth: {mode: none}}\n")
		var out strings.Builder
		status := run(context.Background(), []string{"check", "--config", cfg}, &out, &out)
		want := `"socket.example" is not in the certificate's SANs [DNS:localhost]`
		if status != 1 || !strings.Contains(out.String(), "ERROR") || !strings.Contains(out.String(), want) {
			t.Fatalf("got status %d:\n%s\nwant 1 and an ERROR line containing %s", status, out.String(), want)
		}
	})
	t.Run("live listeners", func(t *testing.T) {
		// Fixed ports are needed to find the listeners: take two free ones.
		app, dev := freePort(t), freePort(t)
		cfg := writeConfig(t, dir, base+"  hostnames: [localhost]\napp: {address: '"+app+"'}\ndevice: {address: '"+dev+"'}\nadmin: {address: 'off'}\nops: {address: 'off'}\n")
		start(t, binary(t), nil, "--config", cfg)
		var out strings.Builder
		status := run(context.Background(), []string{"check", "--config", cfg}, &out, &out)
		if status != 0 || strings.Count(out.String(), "certificate verified") != 2 || !strings.Contains(out.String(), "wss://localhost:") {
			t.Fatalf("got status %d:\n%s\nwant 0 with two verified live handshakes", status, out.String())
		}
	})
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
