package certs_test

import (
	"bytes"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"

	"github.com/wssgate/wssgate/gateway/certs"
)

func TestEnsureDev(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "wssgate")
	f, err := certs.EnsureDev(dir)
	if err != nil {
		t.Fatalf("EnsureDev: %v", err)
	}
	if !f.Created || !f.CACreated {
		t.Errorf("first call: got Created=%v CACreated=%v, want true, true", f.Created, f.CACreated)
	}
	modes := []struct {
		path string
		want os.FileMode
	}{
		{dir, 0o700 | os.ModeDir},
		{f.CAFile, 0o644},
		{f.CAKeyFile, 0o600},
		{f.CertFile, 0o644},
		{f.KeyFile, 0o600},
	}
	for _, m := range modes {
		fi, err := os.Stat(m.path)
		if err != nil {
			t.Fatalf("stat: %v", err)
		}
		if got := fi.Mode(); got != m.want {
			t.Errorf("%s: got mode %v, want %v", filepath.Base(m.path), got, m.want)
		}
	}
	verifyDev(t, f)
	before := readAll(t, f)

	again, err := certs.EnsureDev(dir)
	if err != nil {
		t.Fatalf("second EnsureDev: %v", err)
	}
	if again.Created || again.CACreated {
		t.Errorf("second call: got Created=%v CACreated=%v, want false, false", again.Created, again.CACreated)
	}
	if !bytes.Equal(readAll(t, again), before) {
		t.Errorf("second call rewrote the files")
	}

	// An unreadable leaf is reissued with the existing CA.
	if err := os.WriteFile(f.CertFile, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	third, err := certs.EnsureDev(dir)
	if err != nil {
		t.Fatalf("third EnsureDev: %v", err)
	}
	if !third.Created || third.CACreated {
		t.Errorf("reissue: got Created=%v CACreated=%v, want true, false", third.Created, third.CACreated)
	}
	ca, _ := os.ReadFile(f.CAFile)
	if !bytes.Contains(before, ca) {
		t.Errorf("reissue replaced the CA")
	}
	verifyDev(t, third)

	s, err := certs.NewStore(certs.Options{
		Pairs:     []certs.Pair{{CertFile: third.CertFile, KeyFile: third.KeyFile}},
		Hostnames: []string{"localhost", "127.0.0.1", "::1"},
	})
	if err != nil {
		t.Fatalf("NewStore on dev files: %v", err)
	}
	if len(s.Current().Warnings) != 0 {
		t.Errorf("dev bundle warnings: got %q, want none", s.Current().Warnings)
	}
}

// verifyDev checks that the dev leaf verifies against dev-ca.pem for every
// development name.
func verifyDev(t *testing.T, f certs.DevFiles) {
	t.Helper()
	caPEM, err := os.ReadFile(f.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		t.Fatalf("dev-ca.pem: no certificate")
	}
	leafPEM, err := os.ReadFile(f.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(mustDER(t, leafPEM))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"localhost", "127.0.0.1", "::1"} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: name}); err != nil {
			t.Errorf("verify dev leaf for %s: %v", name, err)
		}
	}
}

// readAll concatenates the four dev files.
func readAll(t *testing.T, f certs.DevFiles) []byte {
	t.Helper()
	var out []byte
	for _, p := range []string{f.CAFile, f.CAKeyFile, f.CertFile, f.KeyFile} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b...)
	}
	return out
}
