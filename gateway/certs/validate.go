package certs

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// validator checks the parts of one candidate bundle and collects warnings.
type validator struct {
	opts     *Options
	now      time.Time
	roots    *x509.CertPool // nil: served chains are not verified
	rootList []*x509.Certificate
	warnings []string
}

// checkCert runs every per-certificate check, in a fixed order, and returns
// the first failure wrapped with the certificate file.
func (v *validator) checkCert(c *Cert) error {
	for _, check := range []func(*Cert) error{
		checkKeyType, checkKeyMatch, v.checkNotCA, checkServerUsage, v.checkValidity, v.checkChain,
	} {
		if err := check(c); err != nil {
			return fmt.Errorf("load cert %s: %w", c.label, err)
		}
	}
	return nil
}

// checkKeyType accepts ECDSA P-256/384/521 and RSA 2048 to 8192 bits.
func checkKeyType(c *Cert) error {
	switch k := c.Leaf.PublicKey.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return nil
		}
	case *rsa.PublicKey:
		if n := k.N.BitLen(); n < 2048 || n > 8192 {
			return fmt.Errorf("%w: %s, want 2048 to 8192 bits", ErrRSAKeySize, c.KeyType)
		}
		return nil
	}
	return fmt.Errorf("%w: %s, want ECDSA (P-256, P-384, P-521) or RSA", ErrUnsupportedKey, c.KeyType)
}

// checkKeyMatch checks that the private key belongs to the leaf.
func checkKeyMatch(c *Cert) error {
	pub, ok := c.Leaf.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if ok && pub.Equal(c.key.Public()) {
		return nil
	}
	if kt := KeyType(c.key.Public()); kt != c.KeyType {
		return fmt.Errorf("%w: %s holds an %s key, certificate %q has %s", ErrKeyMismatch, c.keyLabel, kt, subject(c.Leaf), c.KeyType)
	}
	return fmt.Errorf("%w: %s holds a different %s key than certificate %q", ErrKeyMismatch, c.keyLabel, c.KeyType, subject(c.Leaf))
}

// checkNotCA refuses a CA certificate as leaf: usually a chain in the wrong
// order, or a self-signed CA certificate (`openssl req -x509` with its
// default CA:TRUE), which a client can only trust as a root, and then trusts
// whatever its key signs. In development mode (Options.AllowSelfSignedCA)
// a self-signed one that names hosts is served, with a warning.
func (v *validator) checkNotCA(c *Cert) error {
	l := c.Leaf
	if !l.IsCA {
		return nil
	}
	if !bytes.Equal(l.RawIssuer, l.RawSubject) || l.CheckSignatureFrom(l) != nil {
		return fmt.Errorf("%w: %q has CA:TRUE (is the chain in leaf-first order?)", ErrLeafIsCA, subject(l))
	}
	switch {
	case len(l.DNSNames) == 0 && len(l.IPAddresses) == 0:
		return fmt.Errorf("%w: %q is a self-signed CA certificate that names no host (no DNS or IP SANs): is the chain in leaf-first order?", ErrLeafIsCA, subject(l))
	case !v.opts.AllowSelfSignedCA:
		return fmt.Errorf("%w: %q is a self-signed CA certificate (CA:TRUE): a client must trust it as a root and then trusts whatever its key signs; serve a leaf signed by a CA (`wssgate devcert` makes one for development), or use it in development mode only", ErrLeafIsCA, subject(l))
	}
	v.warn("%s: %q is a self-signed CA certificate (CA:TRUE) served as the leaf (development mode only): clients must trust this very certificate, and some refuse a CA as a server certificate", c.label, subject(l))
	return nil
}

// checkServerUsage refuses a leaf whose extended key usage excludes serverAuth.
func checkServerUsage(c *Cert) error {
	eku := c.Leaf.ExtKeyUsage
	if len(eku) == 0 && len(c.Leaf.UnknownExtKeyUsage) == 0 {
		return nil
	}
	names := make([]string, 0, len(eku))
	for _, u := range eku {
		if u == x509.ExtKeyUsageServerAuth || u == x509.ExtKeyUsageAny {
			return nil
		}
		names = append(names, ekuName(u))
	}
	return fmt.Errorf("%w: %q has extended key usage [%s], want serverAuth", ErrNotServerCert, subject(c.Leaf), strings.Join(names, " "))
}

// checkValidity checks the leaf's validity period and remaining lifetime,
// and warns about expired chain certificates.
func (v *validator) checkValidity(c *Cert) error {
	l := c.Leaf
	if v.now.Before(l.NotBefore) {
		return fmt.Errorf("%w: not before %s (in %s)", ErrNotYetValid, stamp(l.NotBefore), span(l.NotBefore.Sub(v.now)))
	}
	if v.now.After(l.NotAfter) {
		return fmt.Errorf("%w: not after %s (%s ago)", ErrExpired, stamp(l.NotAfter), span(v.now.Sub(l.NotAfter)))
	}
	for _, x := range c.Chain[1:] {
		if v.now.After(x.NotAfter) {
			v.warn("%s: chain certificate %q expired on %s", c.label, subject(x), day(x.NotAfter))
		}
	}
	min := v.opts.MinRemaining
	if min == 0 {
		min = DefaultMinRemaining
	}
	left := l.NotAfter.Sub(v.now)
	if min < 0 || left >= min {
		return nil
	}
	if v.opts.MinRemainingIsError {
		return fmt.Errorf("%w: expires in %s (%s), minimum is %s", ErrExpiresSoon, span(left), day(l.NotAfter), span(min))
	}
	v.warn("%s: expires in %s (%s)", c.label, span(left), day(l.NotAfter))
	return nil
}

// checkChain verifies the served chain to the configured roots, if any.
// Without roots it only warns about a chain that is out of order.
func (v *validator) checkChain(c *Cert) error {
	if v.roots == nil {
		for i := 0; i+1 < len(c.Chain); i++ {
			if c.Chain[i].CheckSignatureFrom(c.Chain[i+1]) != nil {
				v.warn("%s: chain certificate %d (%q) is not signed by the next one (%q)", c.label, i+1, subject(c.Chain[i]), subject(c.Chain[i+1]))
				break
			}
		}
		return nil
	}
	inter := x509.NewCertPool()
	for _, x := range c.Chain[1:] {
		inter.AddCert(x)
	}
	_, err := c.Leaf.Verify(x509.VerifyOptions{
		Roots:         v.roots,
		Intermediates: inter,
		CurrentTime:   v.now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err == nil {
		return nil
	}
	var unknown x509.UnknownAuthorityError
	if errors.As(err, &unknown) {
		if x := v.missingIssuer(c); x != nil {
			return fmt.Errorf("%w: issuer %q of %q is neither in %s nor in the roots %s",
				ErrMissingIntermediate, x.Issuer.String(), subject(x), c.label, v.opts.RootCAFile)
		}
	}
	return fmt.Errorf("%w %s: %w", ErrChainUnverified, v.opts.RootCAFile, err)
}

// missingIssuer walks the chain from the leaf and returns the certificate
// whose issuer is found neither in the chain nor among the roots, or nil if
// the walk ends at a root subject or at a self-signed certificate.
func (v *validator) missingIssuer(c *Cert) *x509.Certificate {
	cur := c.Leaf
	for range len(c.Chain) {
		if bytes.Equal(cur.RawIssuer, cur.RawSubject) {
			return nil
		}
		for _, r := range v.rootList {
			if bytes.Equal(r.RawSubject, cur.RawIssuer) {
				return nil
			}
		}
		next := issuerIn(c.Chain[1:], cur)
		if next == nil {
			return cur
		}
		cur = next
	}
	return nil
}

// issuerIn returns the certificate of list that signed c, or nil.
func issuerIn(list []*x509.Certificate, c *x509.Certificate) *x509.Certificate {
	for _, x := range list {
		if bytes.Equal(x.RawSubject, c.RawIssuer) && c.CheckSignatureFrom(x) == nil {
			return x
		}
	}
	return nil
}

// checkClientCAs warns about expired client CAs.
func (v *validator) checkClientCAs(label string, cas []*x509.Certificate) {
	for _, ca := range cas {
		if v.now.After(ca.NotAfter) {
			v.warn("%s: client CA %q expired on %s", label, subject(ca), day(ca.NotAfter))
		}
	}
}

// warn records a warning.
func (v *validator) warn(format string, args ...any) {
	v.warnings = append(v.warnings, fmt.Sprintf(format, args...))
}

// checkHostnames checks that every configured hostname is covered by a SAN:
// a name by any certificate, an IP by the default one (clients send no SNI
// for IP addresses).
func checkHostnames(certs []*Cert, hosts []string) error {
	var missing []string
	ipMissing := false
	for _, h := range hosts {
		name := hostOnly(h)
		if name == "" {
			continue
		}
		if net.ParseIP(name) != nil {
			if certs[0].Leaf.VerifyHostname(name) != nil {
				missing = append(missing, fmt.Sprintf("%q", h))
				ipMissing = true
			}
			continue
		}
		if !anyCovers(certs, name) {
			missing = append(missing, fmt.Sprintf("%q", h))
		}
	}
	if len(missing) == 0 {
		return nil
	}
	verb := "is"
	if len(missing) > 1 {
		verb = "are"
	}
	names := strings.Join(missing, ", ")
	if len(certs) == 1 {
		return fmt.Errorf("load cert %s: %w: %s %s not in the certificate's SANs %s",
			certs[0].label, ErrHostnameNotCovered, names, verb, sanList(certs[0].Leaf))
	}
	labels := make([]string, len(certs))
	sans := make([]string, len(certs))
	for i, c := range certs {
		labels[i] = c.label
		sans[i] = c.label + ": " + strings.Trim(sanList(c.Leaf), "[]")
	}
	note := ""
	if ipMissing {
		note = fmt.Sprintf(" (an IP must be in the default certificate %s: clients send no SNI for IPs)", certs[0].label)
	}
	return fmt.Errorf("load certs %s: %w: %s %s not in the certificates' SANs [%s]%s",
		strings.Join(labels, ", "), ErrHostnameNotCovered, names, verb, strings.Join(sans, "; "), note)
}

// hostOnly strips a port, IPv6 brackets and a trailing dot from h.
func hostOnly(h string) string {
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	return strings.TrimSuffix(h, ".")
}

// anyCovers reports whether some certificate's SANs cover name.
func anyCovers(certs []*Cert, name string) bool {
	for _, c := range certs {
		if c.Leaf.VerifyHostname(name) == nil {
			return true
		}
	}
	return false
}

// sanList formats the DNS and IP SANs of c as "[DNS:a DNS:b IP:10.0.0.1]".
func sanList(c *x509.Certificate) string {
	parts := make([]string, 0, len(c.DNSNames)+len(c.IPAddresses))
	for _, d := range c.DNSNames {
		parts = append(parts, "DNS:"+d)
	}
	for _, ip := range c.IPAddresses {
		parts = append(parts, "IP:"+ip.String())
	}
	s := "[" + strings.Join(parts, " ") + "]"
	if len(parts) == 0 && c.Subject.CommonName != "" {
		s += fmt.Sprintf(" (the CN %q is ignored: clients match SANs only)", c.Subject.CommonName)
	}
	return s
}

// subject names a certificate in messages.
func subject(c *x509.Certificate) string { return c.Subject.String() }

// stamp formats t as RFC 3339 in UTC.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// day formats t as a UTC date.
func day(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// span formats a duration for people: "12 days", "5h0m0s".
func span(d time.Duration) string {
	if d >= 48*time.Hour {
		return fmt.Sprintf("%d days", int(d/(24*time.Hour)))
	}
	return d.Round(time.Second).String()
}

// ekuName names an extended key usage.
func ekuName(u x509.ExtKeyUsage) string {
	switch u {
	case x509.ExtKeyUsageClientAuth:
		return "clientAuth"
	case x509.ExtKeyUsageCodeSigning:
		return "codeSigning"
	case x509.ExtKeyUsageEmailProtection:
		return "emailProtection"
	case x509.ExtKeyUsageTimeStamping:
		return "timeStamping"
	case x509.ExtKeyUsageOCSPSigning:
		return "OCSPSigning"
	}
	return fmt.Sprintf("eku(%d)", u)
}
