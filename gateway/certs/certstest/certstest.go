// Package certstest generates CAs and certificates for tests, on top of the
// generation helpers of package certs. Every function fails the test on
// error. Values are independent; nothing is shared between calls, so tests
// may use them in parallel.
package certstest

import (
	"crypto"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wssgate/wssgate/gateway/certs"
)

// CA is a certificate authority for tests.
type CA struct {
	Cert    *x509.Certificate
	Key     crypto.Signer
	CertPEM []byte
	// Pool holds Cert only.
	Pool *x509.CertPool
}

// NewCA makes a root CA valid for ten years.
func NewCA(t testing.TB, cn string) *CA {
	t.Helper()
	cert, key, err := certs.NewCA(cn, time.Now().Add(10*365*24*time.Hour))
	if err != nil {
		t.Fatalf("certstest: %v", err)
	}
	return newCA(cert, key)
}

// newCA wraps a certificate and key.
func newCA(cert *x509.Certificate, key crypto.Signer) *CA {
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &CA{Cert: cert, Key: key, CertPEM: certs.CertPEM(cert), Pool: pool}
}

// LeafOptions describes a certificate issued by CA.Issue.
type LeafOptions struct {
	CN   string
	DNS  []string
	IPs  []net.IP
	URIs []string
	// NotBefore: zero means an hour ago. NotAfter: zero means in 90 days.
	NotBefore, NotAfter time.Time
	// Client makes a client certificate; false: a server certificate.
	Client bool
	// RSABits: 0 gives an ECDSA P-256 key.
	RSABits int
	// Serial: nil gives a random one.
	Serial *big.Int
}

// Leaf is an issued certificate with its key.
type Leaf struct {
	Cert    *x509.Certificate
	Key     crypto.Signer
	CertPEM []byte // the leaf only; append intermediates for a chain
	KeyPEM  []byte
	TLS     tls.Certificate // the leaf only, Leaf set
}

// Issue makes a leaf certificate signed by ca.
func (ca *CA) Issue(t testing.TB, o LeafOptions) *Leaf {
	t.Helper()
	cert, key := ca.issue(t, certs.IssueOptions{
		CN: o.CN, DNS: o.DNS, IPs: o.IPs, URIs: o.URIs,
		NotBefore: o.NotBefore, NotAfter: o.NotAfter,
		Client: o.Client, RSABits: o.RSABits, Serial: o.Serial,
	})
	keyPEM, err := certs.KeyPEM(key)
	if err != nil {
		t.Fatalf("certstest: %v", err)
	}
	return &Leaf{
		Cert:    cert,
		Key:     key,
		CertPEM: certs.CertPEM(cert),
		KeyPEM:  keyPEM,
		TLS:     tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert},
	}
}

// Intermediate makes an intermediate CA signed by ca (ECDSA P-256, valid
// for a year, may sign leaves only).
func (ca *CA) Intermediate(t testing.TB, cn string) *CA {
	t.Helper()
	cert, key := ca.issue(t, certs.IssueOptions{CN: cn, IsCA: true, NotAfter: time.Now().Add(365 * 24 * time.Hour)})
	return newCA(cert, key)
}

// issue calls certs.Issue and fails t on error.
func (ca *CA) issue(t testing.TB, o certs.IssueOptions) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	cert, key, err := certs.Issue(ca.Cert, ca.Key, o)
	if err != nil {
		t.Fatalf("certstest: %v", err)
	}
	return cert, key
}

// Write writes the leaf to dir/name.pem and its key to dir/name-key.pem
// (0600) and returns both paths.
func (l *Leaf) Write(t testing.TB, dir, name string) (certFile, keyFile string) {
	t.Helper()
	certFile = filepath.Join(dir, name+".pem")
	keyFile = filepath.Join(dir, name+"-key.pem")
	WriteFile(t, certFile, l.CertPEM, 0o644)
	WriteFile(t, keyFile, l.KeyPEM, 0o600)
	return certFile, keyFile
}

// WriteCA writes the CA certificate to a new file in dir, named after its
// common name, and returns the path.
func (ca *CA) WriteCA(t testing.TB, dir string) string {
	t.Helper()
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '_'
	}, ca.Cert.Subject.CommonName)
	f, err := os.CreateTemp(dir, name+"-*.pem")
	if err != nil {
		t.Fatalf("certstest: %v", err)
	}
	f.Close()
	WriteFile(t, f.Name(), ca.CertPEM, 0o644)
	return f.Name()
}

// WriteFile writes data to file with mode, failing t on error.
func WriteFile(t testing.TB, file string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(file, data, mode); err != nil {
		t.Fatalf("certstest: %v", err)
	}
	if err := os.Chmod(file, mode); err != nil {
		t.Fatalf("certstest: %v", err)
	}
}

// CRL returns a PEM CRL signed by ca that revokes certs, valid for a day.
func (ca *CA) CRL(t testing.TB, revoked ...*x509.Certificate) []byte {
	t.Helper()
	tmpl := &x509.RevocationList{
		Number:     big.NewInt(time.Now().UnixNano()),
		ThisUpdate: time.Now().Add(-time.Hour),
		NextUpdate: time.Now().Add(24 * time.Hour),
	}
	for _, c := range revoked {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries,
			x509.RevocationListEntry{SerialNumber: c.SerialNumber, RevocationTime: time.Now().Add(-time.Minute)})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.Cert, ca.Key)
	if err != nil {
		t.Fatalf("create CRL: %v", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
}
