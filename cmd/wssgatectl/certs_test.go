package main

import (
	"crypto/x509"
	"encoding/json"
	"strings"
	"testing"

	"github.com/wssgate/wssgate/admin"
)

func TestCertsShow(t *testing.T) {
	e := startEnv(t, admin.Config{})
	r := runCtl(t, "--addr", e.addr, "certs", "show").want(t, 0)
	for _, w := range []string{"generation:", "client_ca_subjects:", "CN=test client CA", "warning:", "expires soon",
		"certificate 1 of 1:", "subject:", "CN=gateway", "dns_names:", "localhost", "serial:", "64",
		"key_type:", "ECDSA P-256", "cert_file:", "/etc/wssgate/tls.crt", "not_after:"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("output lacks %q:\n%s", w, r.stdout)
		}
	}
	r = runCtl(t, "--addr", e.addr, "certs", "show", "--json").want(t, 0)
	var got struct {
		Generation   string `json:"generation"`
		Certificates []struct {
			Serial   string   `json:"serial"`
			DNSNames []string `json:"dns_names"`
		} `json:"certificates"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("decode %q: %v", r.stdout, err)
	}
	if got.Generation != "1" || len(got.Certificates) != 1 || got.Certificates[0].Serial != "64" {
		t.Errorf("got %+v, want generation 1 with serial 64", got)
	}
}

func TestCertsReload(t *testing.T) {
	e := startEnv(t, admin.Config{})
	dir := t.TempDir()
	certPEM, keyPEM := e.ca.issue(t, "gateway-2", 0x65, x509.ExtKeyUsageServerAuth)
	_, otherKey := e.ca.issue(t, "other", 0x66, x509.ExtKeyUsageServerAuth)
	certFile, keyFile := writeFile(t, dir, "tls.crt", certPEM), writeFile(t, dir, "tls.key", keyPEM)
	badKey := writeFile(t, dir, "other.key", otherKey)

	r := runCtl(t, "--addr", e.addr, "certs", "reload", "--dry-run").want(t, 0)
	if !strings.Contains(r.stdout, "dry run") || e.certs.Generation() != 1 {
		t.Errorf("dry run: got %q and generation %d, want a dry-run report and generation 1", r.stdout, e.certs.Generation())
	}
	r = runCtl(t, "--addr", e.addr, "certs", "reload", "--dry-run", "--cert", certFile, "--key", keyFile).want(t, 0)
	if !strings.Contains(r.stdout, "CN=gateway-2") || e.certs.Generation() != 1 {
		t.Errorf("dry run with files: got %q and generation %d, want CN=gateway-2 and generation 1", r.stdout, e.certs.Generation())
	}
	r = runCtl(t, "--addr", e.addr, "certs", "reload", "--key", badKey, "--cert", certFile).want(t, 1)
	if !strings.Contains(r.stderr, "private key does not match public key") || !strings.HasSuffix(r.stderr, "(InvalidArgument)\n") {
		t.Errorf("mismatched key: got stderr %q", r.stderr)
	}
	if e.certs.Generation() != 1 {
		t.Errorf("after a failed reload: got generation %d, want 1", e.certs.Generation())
	}
	r = runCtl(t, "--addr", e.addr, "--json", "certs", "reload", "--cert", certFile, "--key", keyFile).want(t, 0)
	var got struct {
		Generation string `json:"generation"`
		DryRun     bool   `json:"dry_run"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("decode %q: %v", r.stdout, err)
	}
	if got.Generation != "2" || got.DryRun || e.certs.Generation() != 2 {
		t.Errorf("reload: got %+v and generation %d, want generation 2", got, e.certs.Generation())
	}
	r = runCtl(t, "--addr", e.addr, "certs", "show").want(t, 0)
	if !strings.Contains(r.stdout, "CN=gateway-2") {
		t.Errorf("certs show after reload lacks CN=gateway-2:\n%s", r.stdout)
	}
}
