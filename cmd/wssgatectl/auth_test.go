package main

import (
	"crypto/x509"
	"strings"
	"testing"

	"github.com/wssgate/wssgate/admin"
)

func TestToken(t *testing.T) {
	e := startEnv(t, admin.Config{Tokens: []admin.Token{
		{Name: "ops", SHA256: tokenHash("admin-secret"), Access: admin.AccessAdmin},
		{Name: "viewer", SHA256: tokenHash("read-secret"), Access: admin.AccessRead},
	}})
	seed(e)
	tests := []struct {
		name     string
		env      string // WSSGATE_TOKEN
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no token", "", []string{"sessions", "list"}, 1, "(Unauthenticated)"},
		{"wrong token", "", []string{"--token", "nope", "sessions", "list"}, 1, "unknown token (Unauthenticated)"},
		{"read token reads", "", []string{"--token", "read-secret", "sessions", "list"}, 0, ""},
		{"token after command", "", []string{"sessions", "list", "--token", "read-secret"}, 0, ""},
		{"read token cannot close", "", []string{"--token", "read-secret", "sessions", "close", "s-app"}, 1, "(PermissionDenied)"},
		{"token from env", "admin-secret", []string{"sessions", "close", "s-app", "--code", "4000"}, 0, ""},
		{"flag beats env", "admin-secret", []string{"--token", "read-secret", "sessions", "close", "s-dev"}, 1, "(PermissionDenied)"},
		{"over the unix socket", "", []string{"--addr", "unix://" + e.sock, "--token", "read-secret", "stats"}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(envToken, tt.env)
			r := runCtl(t, append([]string{"--addr", e.addr}, tt.args...)...).want(t, tt.wantCode)
			if !strings.Contains(r.stderr, tt.wantErr) {
				t.Errorf("stderr: got %q, want it to contain %q", r.stderr, tt.wantErr)
			}
		})
	}
	if got, ok := e.sessions.ClosedAs("s-app"); !ok || got.Code != 4000 {
		t.Errorf("s-app: got %+v (closed %v), want closed with 4000 by the admin token", got, ok)
	}
}

func TestAddrFromEnv(t *testing.T) {
	e := startEnv(t, admin.Config{})
	t.Setenv(envAddr, "unix://"+e.sock)
	runCtl(t, "stats").want(t, 0)
}

func TestMutualTLS(t *testing.T) {
	ca := newTestCA(t)
	e := startEnv(t, admin.Config{TLS: tlsServerConfig(t, ca)})
	dir := t.TempDir()
	cacert := writeFile(t, dir, "ca.pem", ca.CertPEM)
	certPEM, keyPEM := ca.issue(t, "operator", 0x300, x509.ExtKeyUsageClientAuth)
	cert, key := writeFile(t, dir, "client.pem", certPEM), writeFile(t, dir, "client.key", keyPEM)

	r := runCtl(t, "--addr", e.addr, "--cacert", cacert, "--cert", cert, "--key", key, "certs", "show").want(t, 0)
	if !strings.Contains(r.stdout, "CN=gateway") {
		t.Errorf("stdout lacks CN=gateway:\n%s", r.stdout)
	}
	// The mTLS flags before the command, the bundle's --cert/--key after it.
	runCtl(t, "--addr", e.addr, "--cacert", cacert, "--cert", cert, "--key", key, "certs", "reload", "--dry-run").want(t, 0)
	// Without a client certificate the handshake fails.
	r = runCtl(t, "--addr", e.addr, "--cacert", cacert, "stats").want(t, 1)
	if !strings.HasSuffix(r.stderr, "(Unavailable)\n") {
		t.Errorf("stderr: got %q, want an Unavailable message", r.stderr)
	}
	// The Unix socket stays plaintext: --cacert does not apply to it.
	runCtl(t, "--addr", "unix://"+e.sock, "--cacert", cacert, "stats").want(t, 0)
}
