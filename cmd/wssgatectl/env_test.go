package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wssgate/wssgate/admin"
	"github.com/wssgate/wssgate/admin/admintest"
	"github.com/wssgate/wssgate/gateway/certs/certstest"
)

// testCA issues the tests' certificates (gateway/certs/certstest, as the
// gateway's own tests do).
type testCA struct{ *certstest.CA }

func newTestCA(t *testing.T) *testCA { return &testCA{certstest.NewCA(t, "wssgatectl test CA")} }

// issue returns a PEM leaf and key for cn, valid for localhost and 127.0.0.1.
func (ca *testCA) issue(t *testing.T, cn string, serial int64, usage x509.ExtKeyUsage) (certPEM, keyPEM []byte) {
	t.Helper()
	l := ca.Issue(t, certstest.LeafOptions{
		CN: cn, DNS: []string{"localhost"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)},
		Serial: big.NewInt(serial), Client: usage == x509.ExtKeyUsageClientAuth,
	})
	return l.CertPEM, l.KeyPEM
}

// env is a running admin server (TCP on 127.0.0.1:0 and a Unix socket) over in-memory
// backends.
type env struct {
	ca       *testCA
	certs    *admintest.Certs
	sessions *admintest.Sessions
	hub      *admintest.Hub
	stats    *admintest.Stats
	names    *admintest.Names
	addr     string // 127.0.0.1:port
	sock     string // Unix socket path
}

// startEnv starts an admin server with cfg (Addr and UnixSocket are filled in) and stops it
// at cleanup.
func startEnv(t *testing.T, cfg admin.Config) *env {
	t.Helper()
	ca := newTestCA(t)
	certPEM, keyPEM := ca.issue(t, "gateway", 0x64, x509.ExtKeyUsageServerAuth)
	certs, err := newCerts(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{ca: ca, certs: certs, sessions: admintest.NewSessions(), hub: admintest.NewHub(), stats: &admintest.Stats{}, names: &admintest.Names{}}
	dir, err := os.MkdirTemp("", "ctl") // short: Unix socket paths are limited to ~100 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	e.sock = filepath.Join(dir, "admin.sock")
	cfg.Addr, cfg.UnixSocket = "127.0.0.1:0", e.sock
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := admin.New(cfg, admin.Backends{Certificates: e.certs, Sessions: e.sessions, Messages: e.hub, Stats: e.stats, Names: e.names})
	if err != nil {
		t.Fatalf("admin.New: %v", err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatalf("Listen: %v", err)
	}
	e.addr = srv.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return e
}

// result is what one wssgatectl invocation printed and returned.
type result struct {
	code           int
	stdout, stderr string
}

// runCtl runs wssgatectl in-process with args and a bounded context.
func runCtl(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return runCtlCtx(ctx, args...)
}

func runCtlCtx(ctx context.Context, args ...string) result {
	var out, errb bytes.Buffer
	code := run(ctx, args, &out, &errb)
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// want checks the exit code and reports the output on mismatch.
func (r result) want(t *testing.T, code int) result {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code: got %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
	return r
}

// tokenHash is the hex SHA-256 of a token, as admin.Token wants it.
func tokenHash(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

// writeFile writes data to a new file in dir and returns its path.
func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 500 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// tlsServerConfig is an mTLS config for the admin server.
func tlsServerConfig(t *testing.T, ca *testCA) *tls.Config {
	t.Helper()
	certPEM, keyPEM := ca.issue(t, "admin", 0x200, x509.ExtKeyUsageServerAuth)
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{pair}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca.Pool}
}

// newCerts is the in-memory certificate store with what the CLI prints
// beyond the certificate itself: file names, client CAs and a warning.
func newCerts(certPEM, keyPEM []byte) (*admintest.Certs, error) {
	c, err := admintest.NewCerts(certPEM, keyPEM, "/etc/wssgate/tls.crt", "/etc/wssgate/tls.key")
	if err != nil {
		return nil, err
	}
	c.Update(func(b *admin.CertificateBundle) {
		b.ClientCASubjects = []string{"CN=test client CA"}
		b.Warnings = []string{"expires soon"}
	})
	return c, nil
}
