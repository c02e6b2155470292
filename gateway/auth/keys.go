package auth

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// Key file limits.
const (
	maxKeyFileBytes = 1 << 20
	minHMACBytes    = 32
	minRSABits      = 2048
)

// key is one verification key and the algorithms it can verify.
type key struct {
	kid  string // from a JWKS; "" for keys from files
	algs []jose.SignatureAlgorithm
	pub  any // *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey or []byte (HMAC)
}

// loadKeyFile reads a PEM file of public keys or a certificate, or an HMAC
// secret (a file without "-----BEGIN").
func loadKeyFile(path string) ([]*key, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) > maxKeyFileBytes {
		return nil, fmt.Errorf("larger than %d bytes", maxKeyFileBytes)
	}
	if !bytes.Contains(b, []byte("-----BEGIN")) {
		return hmacKey(b)
	}
	return pemKeys(b)
}

func hmacKey(b []byte) ([]*key, error) {
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	if len(b) < minHMACBytes {
		return nil, fmt.Errorf("HMAC secret is %d bytes, want at least %d (e.g. openssl rand -base64 48)", len(b), minHMACBytes)
	}
	k, err := newKey("", b)
	if err != nil {
		return nil, err
	}
	return []*key{k}, nil
}

// pemKeys returns every PUBLIC KEY / RSA PUBLIC KEY block and the first
// CERTIFICATE's key (the leaf of a chain). Private keys are refused.
func pemKeys(b []byte) ([]*key, error) {
	var keys []*key
	sawCert := false
	for rest := b; ; {
		var blk *pem.Block
		if blk, rest = pem.Decode(rest); blk == nil {
			break
		}
		var pub any
		var err error
		switch {
		case blk.Type == "PUBLIC KEY":
			pub, err = x509.ParsePKIXPublicKey(blk.Bytes)
		case blk.Type == "RSA PUBLIC KEY":
			pub, err = x509.ParsePKCS1PublicKey(blk.Bytes)
		case blk.Type == "CERTIFICATE" && !sawCert:
			sawCert = true
			var c *x509.Certificate
			if c, err = x509.ParseCertificate(blk.Bytes); err == nil {
				pub = c.PublicKey
			}
		case strings.HasSuffix(blk.Type, "PRIVATE KEY"):
			return nil, fmt.Errorf("holds a %s: give the public key only (openssl pkey -pubout)", blk.Type)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", blk.Type, err)
		}
		k, err := newKey("", pub)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, errors.New("no PUBLIC KEY or CERTIFICATE block")
	}
	return keys, nil
}

// newKey checks pub and lists the algorithms it can verify.
func newKey(kid string, pub any) (*key, error) {
	algs, err := algsFor(pub)
	if err != nil {
		return nil, err
	}
	return &key{kid: kid, algs: algs, pub: pub}, nil
}

func algsFor(pub any) ([]jose.SignatureAlgorithm, error) {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		if p.N.BitLen() < minRSABits {
			return nil, fmt.Errorf("RSA key of %d bits, want at least %d", p.N.BitLen(), minRSABits)
		}
		return []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512}, nil
	case *ecdsa.PublicKey:
		switch p.Curve {
		case elliptic.P256():
			return []jose.SignatureAlgorithm{jose.ES256}, nil
		case elliptic.P384():
			return []jose.SignatureAlgorithm{jose.ES384}, nil
		case elliptic.P521():
			return []jose.SignatureAlgorithm{jose.ES512}, nil
		}
		return nil, fmt.Errorf("unsupported ECDSA curve %s", p.Curve.Params().Name)
	case ed25519.PublicKey:
		return []jose.SignatureAlgorithm{jose.EdDSA}, nil
	case []byte:
		// RFC 7518 3.2: a key at least as long as the hash output.
		algs := []jose.SignatureAlgorithm{jose.HS256}
		if len(p) >= 48 {
			algs = append(algs, jose.HS384)
		}
		if len(p) >= 64 {
			algs = append(algs, jose.HS512)
		}
		return algs, nil
	}
	return nil, fmt.Errorf("unsupported key type %T", pub)
}
