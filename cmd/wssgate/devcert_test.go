package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pemCerts parses every certificate of a PEM file, independently of
// package certs.
func pemCerts(t *testing.T, file string) []*x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []*x509.Certificate
	for {
		var b *pem.Block
		if b, data = pem.Decode(data); b == nil {
			return out
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
}

// pin is the base64 SHA-256 of the SubjectPublicKeyInfo.
func pin(c *x509.Certificate) string {
	sum := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// fields parses "label:   value" lines.
func fields(out string) map[string]string {
	m := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

func TestDevcertPrints(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	var out strings.Builder
	if status := run(context.Background(), []string{"devcert", "--dir", dir}, &out, &out); status != 0 {
		t.Fatalf("devcert: status %d: %s", status, out.String())
	}
	f := fields(out.String())
	caFile := filepath.Join(dir, "dev-ca.pem")
	ca := pemCerts(t, caFile)[0]
	chain := pemCerts(t, filepath.Join(dir, "dev-cert.pem"))
	if len(chain) != 2 || !chain[1].Equal(ca) {
		t.Fatalf("dev-cert.pem: got %d certificates, want leaf + CA", len(chain))
	}
	leaf := chain[0]
	caSum := sha256.Sum256(ca.Raw)
	tests := []struct{ key, want string }{
		{"CA (trust this)", caFile},
		{"CA SPKI pin", pin(ca)},
		{"leaf SPKI pin", pin(leaf)},
		{"CA SHA-256", strings.ToUpper(strings.TrimSpace(fmt.Sprintf("% x", caSum[:])))},
		{"Chromium flag", "--ignore-certificate-errors-spki-list=" + pin(ca) + "," + pin(leaf)},
		{"leaf names", "DNS:localhost IP:127.0.0.1 IP:::1"},
		{"created now", "true"},
	}
	for _, tt := range tests {
		got := f[tt.key]
		if tt.key == "CA SHA-256" {
			got = strings.ReplaceAll(got, ":", " ")
		}
		if got != tt.want {
			t.Errorf("%s: got %q, want %q\n%s", tt.key, got, tt.want, out.String())
		}
	}
	if strings.Contains(out.String(), "no name constraints") {
		t.Errorf("a new CA is reported as unconstrained:\n%s", out.String())
	}

	var js strings.Builder
	if status := run(context.Background(), []string{"devcert", "--dir", dir, "--json"}, &js, &js); status != 0 {
		t.Fatalf("devcert --json: status %d: %s", status, js.String())
	}
	var info devcertInfo
	if err := json.Unmarshal([]byte(js.String()), &info); err != nil {
		t.Fatalf("devcert --json: %v: %s", err, js.String())
	}
	if info.CASPKIPin != pin(ca) || info.LeafSPKIPin != pin(leaf) || info.Created {
		t.Errorf("devcert --json: got %+v", info)
	}
	if status := run(context.Background(), []string{"devcert", "--install", "--uninstall"}, &js, &js); status != 2 {
		t.Errorf("--install --uninstall: got status %d, want 2", status)
	}
}

// TestDevcertInstall trusts the dev CA in this machine's system store
// (Debian: update-ca-certificates) and checks that curl, without --cacert,
// accepts a server using the dev leaf; it uninstalls afterwards. It changes
// the machine, so it runs only with WSSGATE_E2E=1, as root, on Debian.
func TestDevcertInstall(t *testing.T) {
	if os.Getenv("WSSGATE_E2E") != "1" {
		t.Skip("changes the system trust store: set WSSGATE_E2E=1 to run")
	}
	for _, exe := range []string{"update-ca-certificates", "curl"} {
		if _, err := exec.LookPath(exe); err != nil {
			t.Skipf("%s not found: Debian/Ubuntu only", exe)
		}
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	t.Setenv("HOME", t.TempDir()) // keep the user's NSS databases out of it
	dir := filepath.Join(t.TempDir(), "state")
	var out strings.Builder
	if status := run(context.Background(), []string{"devcert", "--dir", dir}, &out, &out); status != 0 {
		t.Fatalf("devcert: status %d: %s", status, out.String())
	}
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, "dev-cert.pem"), filepath.Join(dir, "dev-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "hello over TLS") }))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	url := fmt.Sprintf("https://localhost:%d/", port)

	curl := func() (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		b, err := exec.CommandContext(ctx, "curl", "-sS", "--max-time", "10", "--resolve", fmt.Sprintf("localhost:%d:127.0.0.1", port), url).CombinedOutput()
		return string(b), err
	}
	if got, err := curl(); err == nil {
		t.Fatalf("curl before --install: got %q, want a certificate error", got)
	}

	var inst strings.Builder
	status := run(context.Background(), []string{"devcert", "--dir", dir, "--install"}, &inst, &inst)
	t.Cleanup(func() {
		var un strings.Builder
		if status := run(context.Background(), []string{"devcert", "--dir", dir, "--uninstall"}, &un, &un); status != 0 {
			t.Errorf("devcert --uninstall: status %d: %s", status, un.String())
		}
		if got, err := curl(); err == nil {
			t.Errorf("curl after --uninstall: got %q, want a certificate error", got)
		}
		if _, err := os.Lstat("/etc/ssl/certs/wssgate-dev-ca.pem"); err == nil {
			t.Error("--uninstall left /etc/ssl/certs/wssgate-dev-ca.pem")
		}
	})
	if status != 0 || !strings.Contains(inst.String(), "ran update-ca-certificates") || !strings.Contains(inst.String(), "NSS (Chromium, Firefox): skipped") {
		t.Fatalf("devcert --install: status %d:\n%s", status, inst.String())
	}
	if got, err := curl(); err != nil || got != "hello over TLS" {
		t.Fatalf("curl after --install: got %q, %v; want hello over TLS", got, err)
	}
}
