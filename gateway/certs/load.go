package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Cert is one served certificate chain with its key.
type Cert struct {
	// Leaf is the first certificate of the chain.
	Leaf *x509.Certificate
	// Chain is the served chain, leaf first.
	Chain []*x509.Certificate
	// TLS is what the handshake serves (Leaf set).
	TLS tls.Certificate
	// CertFile and KeyFile are the files it was read from; "" when it came
	// from PEM bytes.
	CertFile, KeyFile string
	// Fingerprint is the SHA-256 of the leaf's DER encoding.
	Fingerprint [32]byte
	// KeyType names the leaf's public key: "ECDSA P-256", "RSA 2048", "Ed25519".
	KeyType string

	label    string // CertFile, or "pem#i" for PEM bytes; used in messages
	keyLabel string // KeyFile, or "pem#i key"
	key      crypto.Signer
}

// FingerprintHex returns the leaf's SHA-256 fingerprint as lowercase hex
// without colons.
func (c *Cert) FingerprintHex() string { return hex.EncodeToString(c.Fingerprint[:]) }

// readPair reads a certificate file and its key file.
func readPair(p Pair) (*Cert, error) {
	certPEM, err := os.ReadFile(p.CertFile)
	if err != nil {
		return nil, fmt.Errorf("load cert %s: %w", p.CertFile, err)
	}
	keyPEM, err := os.ReadFile(p.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("load key %s: %w", p.KeyFile, err)
	}
	c, err := parsePair(certPEM, keyPEM, p.CertFile, p.KeyFile)
	if err != nil {
		return nil, err
	}
	c.CertFile, c.KeyFile = p.CertFile, p.KeyFile
	return c, nil
}

// parsePair parses a PEM chain and key; it does not validate them beyond
// parsing. certLabel and keyLabel name the inputs in errors.
func parsePair(certPEM, keyPEM []byte, certLabel, keyLabel string) (*Cert, error) {
	chain, err := parseCertsPEM(certPEM)
	if err != nil {
		return nil, fmt.Errorf("load cert %s: %w", certLabel, err)
	}
	key, err := parseKeyPEM(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("load key %s: %w", keyLabel, err)
	}
	c := &Cert{
		Leaf:        chain[0],
		Chain:       chain,
		Fingerprint: sha256.Sum256(chain[0].Raw),
		KeyType:     KeyType(chain[0].PublicKey),
		label:       certLabel,
		keyLabel:    keyLabel,
		key:         key,
	}
	c.TLS = tls.Certificate{PrivateKey: key, Leaf: chain[0]}
	for _, x := range chain {
		c.TLS.Certificate = append(c.TLS.Certificate, x.Raw)
	}
	return c, nil
}

// parseCertsPEM parses every CERTIFICATE block of data, in order; other
// blocks (such as a key in a combined file) are skipped.
func parseCertsPEM(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: block %d: %w", ErrBadCertificate, len(out)+1, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, ErrNoCertificate
	}
	return out, nil
}

// parseKeyPEM returns the first private key of data (PKCS#8, PKCS#1 or SEC 1).
func parseKeyPEM(data []byte) (crypto.Signer, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, ErrNoKey
		}
		if !strings.HasSuffix(b.Type, "PRIVATE KEY") {
			continue
		}
		if b.Type == "ENCRYPTED PRIVATE KEY" || b.Headers["Proc-Type"] != "" {
			return nil, fmt.Errorf("%w: encrypted keys are not supported (%s)", ErrBadKey, b.Type)
		}
		k, err := parseKeyDER(b.Type, b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrBadKey, b.Type, err)
		}
		return k, nil
	}
}

// parseKeyDER parses one private key block by its PEM type.
func parseKeyDER(typ string, der []byte) (crypto.Signer, error) {
	var k any
	var err error
	switch typ {
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(der)
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(der)
	default:
		k, err = x509.ParsePKCS8PrivateKey(der)
	}
	if err != nil {
		return nil, err
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("key type %T cannot sign", k)
	}
	return s, nil
}

// KeyType names a public key: "ECDSA P-256", "RSA 2048", "Ed25519".
func KeyType(pub any) string {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d", k.N.BitLen())
	case ed25519.PublicKey:
		return "Ed25519"
	}
	return fmt.Sprintf("%T", pub)
}

// loadClientCAFile reads a PEM bundle of client CAs: at least one
// certificate, each a CA.
func loadClientCAFile(file string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("load client CA %s: %w", file, err)
	}
	return parseClientCAs(data, file)
}

// parseClientCAs parses a PEM bundle of client CAs; label names it in errors.
func parseClientCAs(data []byte, label string) ([]*x509.Certificate, error) {
	cas, err := parseCertsPEM(data)
	if errors.Is(err, ErrNoCertificate) {
		err = ErrNoClientCA
	}
	if err != nil {
		return nil, fmt.Errorf("load client CA %s: %w", label, err)
	}
	for _, c := range cas {
		if !c.IsCA || !c.BasicConstraintsValid {
			return nil, fmt.Errorf("load client CA %s: %w: %q", label, ErrClientCANotCA, c.Subject.String())
		}
	}
	return cas, nil
}

// loadRootFile reads the PEM bundle of roots that served chains must verify to.
func loadRootFile(file string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(file)
	if err == nil {
		var roots []*x509.Certificate
		if roots, err = parseCertsPEM(data); err == nil {
			return roots, nil
		}
	}
	return nil, fmt.Errorf("load root CA %s: %w", file, err)
}

// LoadCAPool reads a PEM bundle of CA certificates (such as a client-CA
// file for another listener) with the same checks as Options.ClientCAFile,
// and returns the pool and the subjects.
func LoadCAPool(file string) (*x509.CertPool, []string, error) {
	cas, err := loadClientCAFile(file)
	if err != nil {
		return nil, nil, err
	}
	pool, subjects := poolOf(cas)
	return pool, subjects, nil
}

// poolOf returns a pool of cas and their subjects.
func poolOf(cas []*x509.Certificate) (*x509.CertPool, []string) {
	pool := x509.NewCertPool()
	subjects := make([]string, 0, len(cas))
	for _, c := range cas {
		pool.AddCert(c)
		subjects = append(subjects, c.Subject.String())
	}
	return pool, subjects
}
