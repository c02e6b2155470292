package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"time"
)

// IssueOptions describes a certificate made by Issue. Every zero value is
// documented on its field.
type IssueOptions struct {
	// CN is the subject common name. "": none.
	CN string
	// DNS, IPs and URIs are the subject alternative names.
	DNS  []string
	IPs  []net.IP
	URIs []string // each parsed with url.Parse
	// NotBefore: zero means an hour ago (tolerates clock skew).
	NotBefore time.Time
	// NotAfter: zero means 90 days from now.
	NotAfter time.Time
	// Client makes a client-authentication certificate; false: server.
	Client bool
	// IsCA makes an intermediate CA that may sign leaves only (path length 0).
	IsCA bool
	// RSABits is the RSA key size; 0: an ECDSA P-256 key.
	RSABits int
	// Serial is the serial number; nil: 128 random bits.
	Serial *big.Int
}

// NewCA makes a self-signed root CA with an ECDSA P-256 key, valid from an
// hour ago until notAfter.
func NewCA(cn string, notAfter time.Time) (*x509.Certificate, crypto.Signer, error) {
	return NewConstrainedCA(cn, time.Now().Add(-time.Hour), notAfter, nil)
}

// NameConstraints are the permitted subtrees of a CA (RFC 5280 4.2.1.10),
// marked critical.
type NameConstraints struct {
	// DNS are permitted DNS domains: "example.com" permits it and its
	// subdomains, ".example.com" its subdomains only.
	DNS []string
	// IPs are permitted IP ranges.
	IPs []*net.IPNet
}

// NewConstrainedCA is NewCA with a validity start and name constraints
// (nil: none).
func NewConstrainedCA(cn string, notBefore, notAfter time.Time, c *NameConstraints) (*x509.Certificate, crypto.Signer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("new CA %q: %w", cn, err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, nil, fmt.Errorf("new CA %q: %w", cn, err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	if c != nil {
		tmpl.PermittedDNSDomainsCritical = true
		tmpl.PermittedDNSDomains = c.DNS
		tmpl.PermittedIPRanges = c.IPs
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, fmt.Errorf("new CA %q: %w", cn, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("new CA %q: %w", cn, err)
	}
	return cert, key, nil
}

// Issue makes a certificate described by o, signed by parent with
// parentKey, and its new private key.
func Issue(parent *x509.Certificate, parentKey crypto.Signer, o IssueOptions) (*x509.Certificate, crypto.Signer, error) {
	key, err := newKey(o.RSABits)
	if err != nil {
		return nil, nil, fmt.Errorf("issue %q: %w", o.CN, err)
	}
	tmpl, err := template(o)
	if err != nil {
		return nil, nil, fmt.Errorf("issue %q: %w", o.CN, err)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		return nil, nil, fmt.Errorf("issue %q: %w", o.CN, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("issue %q: %w", o.CN, err)
	}
	return cert, key, nil
}

// template turns o into a certificate template.
func template(o IssueOptions) (*x509.Certificate, error) {
	now := time.Now()
	t := &x509.Certificate{
		SerialNumber: o.Serial,
		Subject:      pkix.Name{CommonName: o.CN},
		DNSNames:     o.DNS,
		IPAddresses:  o.IPs,
		NotBefore:    o.NotBefore,
		NotAfter:     o.NotAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	if t.SerialNumber == nil {
		s, err := randomSerial()
		if err != nil {
			return nil, err
		}
		t.SerialNumber = s
	}
	if t.NotBefore.IsZero() {
		t.NotBefore = now.Add(-time.Hour)
	}
	if t.NotAfter.IsZero() {
		t.NotAfter = now.Add(90 * 24 * time.Hour)
	}
	for _, s := range o.URIs {
		u, err := url.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("parse URI SAN: %w", err)
		}
		t.URIs = append(t.URIs, u)
	}
	switch {
	case o.IsCA:
		t.IsCA, t.BasicConstraintsValid, t.MaxPathLenZero = true, true, true
		t.KeyUsage |= x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	case o.Client:
		t.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	default:
		t.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	if o.RSABits != 0 && !o.IsCA {
		t.KeyUsage |= x509.KeyUsageKeyEncipherment
	}
	return t, nil
}

// newKey makes an RSA key of bits, or an ECDSA P-256 key when bits is 0.
func newKey(bits int) (crypto.Signer, error) {
	if bits != 0 {
		return rsa.GenerateKey(rand.Reader, bits)
	}
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

// randomSerial returns a random positive 128-bit serial number.
func randomSerial() (*big.Int, error) {
	s, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("make serial: %w", err)
	}
	return s.Add(s, big.NewInt(1)), nil
}

// CertPEM encodes certificates as PEM CERTIFICATE blocks, in order.
func CertPEM(certs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

// KeyPEM encodes a private key as a PKCS#8 "PRIVATE KEY" PEM block.
func KeyPEM(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}
