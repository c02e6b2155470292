package certs_test

import (
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/wssgate/wssgate/gateway/certs"
)

func TestDevCAConstrained(t *testing.T) {
	dir := t.TempDir()
	f, err := certs.EnsureDevWith(dir, certs.DevOptions{Hostnames: []string{"myhost.test:8443", "gw.lan", "[fd00::5]:9443", "192.168.1.5", "127.0.0.9"}})
	if err != nil {
		t.Fatalf("EnsureDevWith: %v", err)
	}
	ca, leaf := f.CA, f.Leaf
	if got, want := ca.PermittedDNSDomains, []string{"localhost", ".localhost", ".test", "myhost.test", "gw.lan"}; !slices.Equal(got, want) {
		t.Errorf("permitted DNS: got %q, want %q", got, want)
	}
	var nets []string
	for _, n := range ca.PermittedIPRanges {
		nets = append(nets, n.String())
	}
	if want := []string{"127.0.0.0/8", "::1/128", "fd00::5/128", "192.168.1.5/32"}; !slices.Equal(nets, want) {
		t.Errorf("permitted IPs: got %q, want %q", nets, want)
	}
	if !ca.PermittedDNSDomainsCritical {
		t.Error("name constraints not critical")
	}
	if life := ca.NotAfter.Sub(time.Now()); life > 2*366*24*time.Hour || life < 2*364*24*time.Hour {
		t.Errorf("CA lifetime %v, want about 2 years", life)
	}
	if life := leaf.NotAfter.Sub(time.Now()); life > 91*24*time.Hour || life < 89*24*time.Hour {
		t.Errorf("leaf lifetime %v, want about 90 days", life)
	}
	// The leaf file holds leaf + CA, and the leaf verifies for every name.
	chain := readChain(t, f.CertFile)
	if len(chain) != 2 || !chain[0].Equal(leaf) || !chain[1].Equal(ca) {
		t.Fatalf("dev-cert.pem: got %d certificates, want leaf + CA", len(chain))
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	for _, name := range []string{"localhost", "127.0.0.1", "::1", "myhost.test", "gw.lan", "fd00::5", "192.168.1.5", "127.0.0.9"} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: name}); err != nil {
			t.Errorf("verify dev leaf for %s: %v", name, err)
		}
	}
	// The constraints hold: the CA cannot vouch for a public name or IP.
	key := loadKey(t, f.CAKeyFile)
	for _, o := range []certs.IssueOptions{
		{CN: "public", DNS: []string{"example.com"}},
		{CN: "public ip", IPs: []net.IP{net.ParseIP("8.8.8.8")}},
	} {
		bad, _, err := certs.Issue(ca, key, o)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bad.Verify(x509.VerifyOptions{Roots: roots}); err == nil {
			t.Errorf("leaf %q under the dev CA verified, want a name-constraint error", o.CN)
		}
	}
	// A store serves the chain without warnings in development mode.
	s, err := certs.NewStore(certs.Options{Pairs: []certs.Pair{{CertFile: f.CertFile, KeyFile: f.KeyFile}}, Hostnames: []string{"localhost", "myhost.test"}})
	if err != nil || len(s.Current().Certs[0].TLS.Certificate) != 2 || len(s.Current().Warnings) != 0 {
		t.Fatalf("store on dev files: %v, warnings %q", err, s.Current().Warnings)
	}

	// A hostname the existing CA does not permit is left out and reported.
	again, err := certs.EnsureDevWith(dir, certs.DevOptions{Hostnames: []string{"example.com", "localhost"}})
	if err != nil || again.CACreated || !slices.Equal(again.NotPermitted, []string{"example.com"}) {
		t.Errorf("EnsureDevWith(example.com): got %+v, %v; want the same CA, NotPermitted [example.com]", again.NotPermitted, err)
	}
}

// TestDevOldCA: a state dir of an older wssgate (10-year CA without name
// constraints, a leaf-only file) keeps its CA; the leaf is reissued and
// written with the CA as chain.
func TestDevOldCA(t *testing.T) {
	dir := t.TempDir()
	ca, key, err := certs.NewCA("wssgate development CA (old)", time.Now().Add(10*365*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	leaf, leafKey, err := certs.Issue(ca, key, certs.IssueOptions{CN: "localhost", DNS: []string{"localhost"}, IPs: []net.IP{net.ParseIP("127.0.0.1"), net.IPv6loopback}, NotAfter: time.Now().Add(365 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, filepath.Join(dir, "dev-ca.pem"), certs.CertPEM(ca), filepath.Join(dir, "dev-ca-key.pem"), key)
	writePEM(t, filepath.Join(dir, "dev-cert.pem"), certs.CertPEM(leaf), filepath.Join(dir, "dev-key.pem"), leafKey)

	f, err := certs.EnsureDev(dir)
	if err != nil {
		t.Fatalf("EnsureDev: %v", err)
	}
	if f.CACreated || !f.CA.Equal(ca) || !f.Created {
		t.Errorf("got CACreated=%v Created=%v, want the old CA kept and a new leaf", f.CACreated, f.Created)
	}
	if chain := readChain(t, f.CertFile); len(chain) != 2 || !chain[1].Equal(ca) {
		t.Errorf("dev-cert.pem: got %d certificates, want leaf + old CA", len(chain))
	}
	verifyDev(t, f)
	if again, err := certs.EnsureDev(dir); err != nil || again.Created {
		t.Errorf("third call: got Created=%v, %v; want nothing rewritten", again.Created, err)
	}
}

// readChain parses every certificate of a PEM file.
func readChain(t *testing.T, file string) []*x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []*x509.Certificate
	for len(data) > 0 {
		der, rest := pemNext(data)
		if der == nil {
			break
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		out, data = append(out, c), rest
	}
	return out
}
