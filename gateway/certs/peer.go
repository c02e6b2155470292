package certs

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
)

// PeerCert describes a certificate a client presented, verified or not,
// for failure entries and log lines.
type PeerCert struct {
	// Subject and Issuer are the distinguished names in RFC 2253 form.
	Subject, Issuer string
	// Serial is the serial number in lowercase hex, without colons.
	Serial string
	// SHA256 is the SHA-256 of the DER encoding in lowercase hex.
	SHA256 string
}

// DescribePeer describes c; the zero PeerCert for nil.
func DescribePeer(c *x509.Certificate) PeerCert {
	if c == nil {
		return PeerCert{}
	}
	sum := sha256.Sum256(c.Raw)
	p := PeerCert{
		Subject: c.Subject.String(),
		Issuer:  c.Issuer.String(),
		SHA256:  hex.EncodeToString(sum[:]),
	}
	if c.SerialNumber != nil {
		p.Serial = c.SerialNumber.Text(16)
	}
	return p
}

// LogAttrs returns p as slog key-value pairs ("client_certificate_subject",
// …), empty for the zero PeerCert.
func (p PeerCert) LogAttrs() []any {
	if p == (PeerCert{}) {
		return nil
	}
	return []any{
		"client_certificate_subject", p.Subject,
		"client_certificate_issuer", p.Issuer,
		"client_certificate_serial", p.Serial,
		"client_certificate_sha256", p.SHA256,
	}
}

// PresentedCert returns the leaf a client presented from a server-side
// handshake error, even a refused one: crypto/tls reports a failed
// client-certificate verification as *tls.CertificateVerificationError
// holding the presented chain. nil if err holds none.
func PresentedCert(err error) *x509.Certificate {
	var v *tls.CertificateVerificationError
	if errors.As(err, &v) && len(v.UnverifiedCertificates) > 0 {
		return v.UnverifiedCertificates[0]
	}
	var inv x509.CertificateInvalidError
	if errors.As(err, &inv) {
		return inv.Cert
	}
	var unk x509.UnknownAuthorityError
	if errors.As(err, &unk) {
		return unk.Cert
	}
	return nil
}

// Fingerprint returns the SHA-256 of c's DER encoding as colon-separated
// upper-case hex, the form `openssl x509 -fingerprint -sha256` and
// browsers show ("AB:CD:…").
func Fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	var b strings.Builder
	b.Grow(len(h) + len(h)/2)
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}

// SPKIPin returns the base64 SHA-256 of c's SubjectPublicKeyInfo, the form
// Chromium's --ignore-certificate-errors-spki-list and HPKP take.
func SPKIPin(c *x509.Certificate) string {
	sum := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}
