package certs

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"strings"
)

// revocations maps an issuer (raw subject) to its revoked serials (text).
type revocations map[string]map[string]bool

// loadCRLs reads every CRL file; each must be signed by one of cas. A CRL
// past its NextUpdate still counts (better stale than none) but draws a
// warning.
func loadCRLs(files []string, cas []*x509.Certificate, v *validator) (revocations, error) {
	if len(files) == 0 {
		return nil, nil
	}
	rev := revocations{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("load crl %s: %w", f, err)
		}
		if blk, _ := pem.Decode(data); blk != nil {
			if blk.Type != "X509 CRL" {
				return nil, fmt.Errorf("load crl %s: %w: PEM block %q, want \"X509 CRL\"", f, ErrBadCRL, blk.Type)
			}
			data = blk.Bytes
		}
		crl, err := x509.ParseRevocationList(data)
		if err != nil {
			return nil, fmt.Errorf("load crl %s: %w: %v", f, ErrBadCRL, err)
		}
		if !signedByOneOf(crl, cas) {
			return nil, fmt.Errorf("load crl %s: %w: issuer %q is not a configured client CA (or the signature does not verify)",
				f, ErrBadCRL, crl.Issuer.String())
		}
		if !crl.NextUpdate.IsZero() && v.now.After(crl.NextUpdate) {
			v.warn("%s: CRL is stale: next update was due %s", f, stamp(crl.NextUpdate))
		}
		set := rev[string(crl.RawIssuer)]
		if set == nil {
			set = map[string]bool{}
			rev[string(crl.RawIssuer)] = set
		}
		for _, e := range crl.RevokedCertificateEntries {
			set[e.SerialNumber.String()] = true
		}
	}
	return rev, nil
}

func signedByOneOf(crl *x509.RevocationList, cas []*x509.Certificate) bool {
	for _, ca := range cas {
		if crl.CheckSignatureFrom(ca) == nil {
			return true
		}
	}
	return false
}

// check returns ErrRevoked, naming the certificate, if any certificate of
// the chain (leaf first) is revoked by its issuer's CRL.
func (r revocations) check(chain []*x509.Certificate) error {
	for _, c := range chain {
		if r[string(c.RawIssuer)][c.SerialNumber.String()] {
			return fmt.Errorf("%w: %q (serial %s, issuer %q)", ErrRevoked,
				c.Subject.String(), strings.ToLower(c.SerialNumber.Text(16)), c.Issuer.String())
		}
	}
	return nil
}

// verifyNotRevoked is the VerifyConnection of client-auth profiles when
// CRLs are configured; it runs on full and resumed handshakes.
func (b *Bundle) verifyNotRevoked(cs tls.ConnectionState) error {
	if len(cs.VerifiedChains) == 0 {
		return nil // no client certificate (optional client auth)
	}
	return b.revoked.check(cs.VerifiedChains[0])
}
