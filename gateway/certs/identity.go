package certs

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// IdentitySource names where Identity looks for a device identity: one of
// the constants below, or a template "uri:TEMPLATE" / "dns:TEMPLATE" as
// returned by ParseIdentitySource.
type IdentitySource string

// Identity sources.
const (
	// IdentityURI: the certificate's only URI SAN (two or more are refused).
	IdentityURI IdentitySource = "uri"
	// IdentityDNS: the certificate's first DNS SAN.
	IdentityDNS IdentitySource = "dns"
	// IdentityCN: the subject common name.
	IdentityCN IdentitySource = "cn"
)

// DefaultIdentityOrder is the order used when none is configured: URI SAN,
// else DNS SAN, else CN.
var DefaultIdentityOrder = []IdentitySource{"uri", "dns", "cn"}

// MaxIdentityLen bounds the length of an identity in bytes.
const MaxIdentityLen = 256

// ParseIdentityOrder converts configured names to an order for Identity:
// "uri", "dns", "cn", or a template "uri:TEMPLATE" / "dns:TEMPLATE" such as
// "uri:spiffe://example.org/device/{id}" (see ParseIdentitySource). nil or
// empty names give DefaultIdentityOrder.
func ParseIdentityOrder(names []string) ([]IdentitySource, error) {
	if len(names) == 0 {
		return DefaultIdentityOrder, nil
	}
	out := make([]IdentitySource, len(names))
	for i, n := range names {
		s, err := ParseIdentitySource(n)
		if err != nil {
			return nil, fmt.Errorf("parse identity order: %w", err)
		}
		out[i] = s
	}
	return out, nil
}

// ParseIdentitySource checks one configured identity source: "uri", "dns"
// or "cn" (any case), or "uri:TEMPLATE" / "dns:TEMPLATE" where TEMPLATE
// holds "{id}" exactly once. A template must match a whole URI SAN (exact
// bytes) or DNS SAN (case-insensitive; {id} stands for one label, no dot);
// the part {id} stands for becomes the identity.
func ParseIdentitySource(n string) (IdentitySource, error) {
	kind, tmpl, isTmpl := strings.Cut(n, ":")
	s := IdentitySource(strings.ToLower(kind))
	switch {
	case !isTmpl && (s == IdentityURI || s == IdentityDNS || s == IdentityCN):
		return s, nil
	case !isTmpl || (s != IdentityURI && s != IdentityDNS):
		return "", fmt.Errorf("%w: %q (want uri, dns, cn, uri:TEMPLATE or dns:TEMPLATE)", ErrUnknownIdentitySource, n)
	case strings.Count(tmpl, idPlaceholder) != 1:
		return "", fmt.Errorf("%w: %q must hold %s exactly once", ErrBadIdentityTemplate, n, idPlaceholder)
	}
	return s + ":" + IdentitySource(tmpl), nil
}

// idPlaceholder marks the identity in a template.
const idPlaceholder = "{id}"

// Identity extracts a device identity from a verified client certificate,
// trying the sources in order (nil: DefaultIdentityOrder). The first source
// present wins; when it is "uri" and the certificate has more than one URI
// SAN the result is ErrMultipleURIs. No source present gives ErrNoIdentity.
// The identity becomes one channel level (devices/ID/up), so one holding
// '/', '+', '#', a control character or invalid UTF-8, or longer than
// MaxIdentityLen, gives ErrBadIdentity.
func Identity(cert *x509.Certificate, order []IdentitySource) (string, error) {
	if cert == nil {
		return "", fmt.Errorf("identify client: %w: no certificate", ErrNoIdentity)
	}
	if order == nil {
		order = DefaultIdentityOrder
	}
	for _, src := range order {
		id, err := identityFrom(cert, src)
		if err != nil {
			return "", fmt.Errorf("identify %q: %w", subject(cert), err)
		}
		if id == "" {
			continue
		}
		if err := ValidIdentity(id); err != nil {
			return "", fmt.Errorf("identify %q: %s: %w", subject(cert), src, err)
		}
		return id, nil
	}
	return "", fmt.Errorf("identify %q: %w: none of %v present", subject(cert), ErrNoIdentity, order)
}

// identityFrom returns the identity of one source, "" if absent.
func identityFrom(cert *x509.Certificate, src IdentitySource) (string, error) {
	if kind, tmpl, ok := strings.Cut(string(src), ":"); ok {
		return identityByTemplate(cert, IdentitySource(kind), tmpl)
	}
	switch src {
	case IdentityURI:
		switch len(cert.URIs) {
		case 0:
			return "", nil
		case 1:
			return cert.URIs[0].String(), nil
		}
		return "", fmt.Errorf("%w: %q", ErrMultipleURIs, uriStrings(cert))
	case IdentityDNS:
		if len(cert.DNSNames) > 0 {
			return cert.DNSNames[0], nil
		}
		return "", nil
	case IdentityCN:
		return cert.Subject.CommonName, nil
	}
	return "", fmt.Errorf("%w: %q", ErrUnknownIdentitySource, string(src))
}

// identityByTemplate returns the part of the URI SAN (kind "uri": the only
// matching one) or of the first DNS SAN (kind "dns") that tmpl's {id}
// stands for; "" if none matches.
func identityByTemplate(cert *x509.Certificate, kind IdentitySource, tmpl string) (string, error) {
	prefix, suffix, _ := strings.Cut(tmpl, idPlaceholder)
	switch kind {
	case IdentityURI:
		id, n := "", 0
		for _, u := range cert.URIs {
			if got, ok := matchTemplate(u.String(), prefix, suffix, false); ok {
				id, n = got, n+1
			}
		}
		if n > 1 {
			return "", fmt.Errorf("%w: %d match %q: %q", ErrMultipleURIs, n, tmpl, uriStrings(cert))
		}
		return id, nil
	case IdentityDNS:
		for _, d := range cert.DNSNames {
			if got, ok := matchTemplate(d, prefix, suffix, true); ok && !strings.Contains(got, ".") {
				return got, nil
			}
		}
		return "", nil
	}
	return "", fmt.Errorf("%w: %q", ErrUnknownIdentitySource, string(kind)+":"+tmpl)
}

// matchTemplate returns the non-empty middle of s between prefix and
// suffix, which must together cover all of s; fold compares them without
// regard to case.
func matchTemplate(s, prefix, suffix string, fold bool) (string, bool) {
	if len(s) <= len(prefix)+len(suffix) {
		return "", false
	}
	head, mid, tail := s[:len(prefix)], s[len(prefix):len(s)-len(suffix)], s[len(s)-len(suffix):]
	if fold {
		return mid, strings.EqualFold(head, prefix) && strings.EqualFold(tail, suffix)
	}
	return mid, head == prefix && tail == suffix
}

// uriStrings returns the URI SANs of cert as text.
func uriStrings(cert *x509.Certificate) []string {
	uris := make([]string, len(cert.URIs))
	for i, u := range cert.URIs {
		uris[i] = u.String()
	}
	return uris
}

// ValidIdentity is the one rule every identity obeys, whatever names it (a
// client certificate, a token, a JWT subject, a development ?device_id): it
// becomes one channel level (devices/ID/up), so it must be non-empty, at
// most MaxIdentityLen bytes of UTF-8 with no '/', '+', '#' or control
// character. The error wraps ErrBadIdentity and says which rule failed.
func ValidIdentity(id string) error {
	why := ""
	switch {
	case id == "":
		why = "is empty"
	case len(id) > MaxIdentityLen:
		why = fmt.Sprintf("is longer than %d bytes", MaxIdentityLen)
	case !utf8.ValidString(id):
		why = "is not valid UTF-8"
	case strings.ContainsAny(id, "/+#"):
		why = "contains '/', '+' or '#'"
	case strings.ContainsFunc(id, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		why = "contains a control character"
	default:
		return nil
	}
	return fmt.Errorf("%w: %q %s", ErrBadIdentity, truncate(id), why)
}

// truncate shortens s for messages.
func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// Client-certificate rejection reasons returned by ClientCertRejectReason.
const (
	RejectNoCertificate = "no_certificate"
	RejectUnknownCA     = "unknown_ca"
	RejectExpired       = "expired"
	RejectBadUsage      = "bad_usage"
	RejectBadCert       = "bad_certificate"
	RejectNoIdentity    = "no_identity"
	RejectRevoked       = "revoked"
	RejectOther         = "other"
)

// ClientCertRejectReason classifies a server-side handshake error (or an
// Identity error) for counting and logging client-certificate rejections:
// one of the Reject* constants, or "" for nil.
func ClientCertRejectReason(err error) string {
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrRevoked):
		return RejectRevoked
	case errors.As(err, &unknown):
		return RejectUnknownCA
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return RejectExpired
	case errors.As(err, &invalid) && invalid.Reason == x509.IncompatibleUsage:
		return RejectBadUsage
	case errors.Is(err, ErrNoIdentity), errors.Is(err, ErrMultipleURIs), errors.Is(err, ErrBadIdentity):
		return RejectNoIdentity
	case errors.Is(err, ErrNoClientCert), strings.Contains(err.Error(), "didn't provide a certificate"):
		return RejectNoCertificate
	case errors.As(err, &verify), errors.As(err, &invalid):
		return RejectBadCert
	}
	return RejectOther
}
