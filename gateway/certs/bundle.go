package certs

import (
	"crypto/tls"
	"crypto/x509"
	"slices"
	"strings"
	"time"
)

// Bundle is one validated set of certificates and client CAs. It is
// immutable once returned: read it from any goroutine, modify nothing.
type Bundle struct {
	// Generation is 1 for the first load and grows by one per successful
	// swap; 0 for a dry run (never installed).
	Generation uint64
	// LoadedAt is when the bundle was built (Options.Now).
	LoadedAt time.Time
	// Certs are the served certificates; Certs[0] is the default.
	Certs []*Cert
	// ClientCAs verify client certificates; nil if none are configured.
	ClientCAs *x509.CertPool
	// ClientCASubjects are the subjects of the client CAs, in file order.
	ClientCASubjects []string
	// Warnings are non-fatal findings, one line each, such as
	// "cert.pem: expires in 12 days (2026-12-05)".
	Warnings []string

	exact   map[string][]int // lowercase DNS SAN → indexes into Certs
	wild    map[string][]int // "example.com" for a "*.example.com" SAN → indexes
	cover   []coverage       // cover[i]: SANs and IP SANs of Certs[i] (covers.go)
	tlsCert []tls.Certificate
	// configs[i] is the inner config for the store's profile i.
	configs []*tls.Config
	// revoked holds the revoked serials of the CRLs, by issuer.
	revoked revocations
	// tickets encrypt the session tickets of this bundle only: a client
	// cannot resume a session of an older generation, so every handshake
	// after a reload is a full one, with the new certificate. The keys
	// rotate every 24 h as crypto/tls's own do (tickets.go); copies made by
	// withProfiles share the ring.
	tickets *ticketRing
}

// index builds the SNI maps and the certificate list of the inner configs.
func (b *Bundle) index() {
	b.exact, b.wild = map[string][]int{}, map[string][]int{}
	for i, c := range b.Certs {
		b.tlsCert = append(b.tlsCert, c.TLS)
		for _, name := range c.Leaf.DNSNames {
			name = strings.TrimSuffix(strings.ToLower(name), ".")
			if rest, ok := strings.CutPrefix(name, "*."); ok {
				b.wild[rest] = append(b.wild[rest], i)
			} else {
				b.exact[name] = append(b.exact[name], i)
			}
		}
	}
	b.indexCoverage()
}

// withProfiles returns b with inner configs for every profile; configs
// already built for a prefix of profiles are reused.
func (b *Bundle) withProfiles(profiles []Profile) *Bundle {
	configs := make([]*tls.Config, len(profiles))
	n := copy(configs, b.configs)
	for i := n; i < len(profiles); i++ {
		configs[i] = b.innerConfig(profiles[i])
	}
	nb := *b
	nb.configs = configs
	return &nb
}

// innerConfig builds the per-handshake config for one profile.
func (b *Bundle) innerConfig(p Profile) *tls.Config {
	c := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		CipherSuites: cipherSuites,
		Certificates: b.tlsCert,
		NextProtos:   slices.Clone(p.NextProtos),
		ClientAuth:   p.ClientAuth.tlsClientAuth(),
	}
	if len(b.Certs) > 1 {
		c.GetCertificate = b.getCertificate
	}
	c.SetSessionTicketKeys(b.tickets.current())
	if p.ClientAuth != ClientAuthNone {
		// A nil pool would make crypto/tls verify against the system roots;
		// an empty one accepts no client certificate at all.
		c.ClientCAs = b.ClientCAs
		if c.ClientCAs == nil {
			c.ClientCAs = x509.NewCertPool()
		}
		// crypto/tls re-verifies the chains of a resumed session against
		// ClientCAs, so a reload that drops a CA also refuses its tickets.
		if len(b.revoked) > 0 {
			c.VerifyConnection = b.verifyNotRevoked
		}
	}
	return c
}

// getCertificate chooses a certificate by SNI: exact DNS SAN, then
// wildcard, else the default. Among several matches it prefers one the
// client supports (for example ECDSA and RSA twins).
func (b *Bundle) getCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	name := strings.TrimSuffix(strings.ToLower(hello.ServerName), ".")
	idx, ok := b.exact[name]
	if !ok {
		if _, parent, found := strings.Cut(name, "."); found {
			idx, ok = b.wild[parent]
		}
	}
	if !ok || name == "" {
		return &b.Certs[0].TLS, nil
	}
	if len(idx) > 1 {
		for _, i := range idx {
			if hello.SupportsCertificate(&b.Certs[i].TLS) == nil {
				return &b.Certs[i].TLS, nil
			}
		}
	}
	return &b.Certs[idx[0]].TLS, nil
}

// VerifyClientCert verifies a client certificate chain (leaf first, as in
// tls.ConnectionState.PeerCertificates) against the bundle's client CAs at
// time now, for client authentication. A dry-run bundle can be used to
// preview which live sessions a new client-CA bundle would refuse.
func (b *Bundle) VerifyClientCert(chain []*x509.Certificate, now time.Time) error {
	if len(chain) == 0 {
		return ErrNoClientCert
	}
	roots := b.ClientCAs
	if roots == nil {
		roots = x509.NewCertPool()
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	chains, err := chain[0].Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: inter,
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return err
	}
	return b.revoked.check(chains[0])
}
