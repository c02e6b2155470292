package certs

import (
	"crypto/tls"
	"strconv"
	"time"
)

// Pair names one certificate chain file and its key file (PEM).
type Pair struct{ CertFile, KeyFile string }

// DefaultMinRemaining is the remaining lifetime under which a leaf draws a
// warning when Options.MinRemaining is zero.
const DefaultMinRemaining = 30 * 24 * time.Hour

// Options configures a Store. Every zero value is documented on its field.
type Options struct {
	// Pairs lists the served certificates; at least one is required.
	// Pairs[0] is the default for clients that send no or an unknown SNI;
	// the others are chosen by SNI, matched against each leaf's DNS SANs
	// (exact names first, then "*.parent" wildcards).
	Pairs []Pair
	// ClientCAFile is an optional PEM bundle of CAs that sign client (device)
	// certificates. "": no client CAs; a listener that asks for client
	// certificates then accepts none.
	ClientCAFile string
	// RootCAFile is an optional PEM bundle of roots: when set, each served
	// chain must verify to one of them (a missing intermediate is named as
	// such). "": the chain is not verified.
	RootCAFile string
	// CRLFiles are certificate revocation lists (PEM or DER), each signed by
	// one of the client CAs. A client certificate they revoke is refused in
	// the handshake (VerifyConnection, resumed sessions included). They are
	// re-read on every reload. nil: no revocation checks.
	CRLFiles []string
	// Hostnames are the public names and IPs of the listeners. Each must be
	// covered by a SAN of some served certificate (an IP by the default
	// certificate, since clients send no SNI for IPs). nil: no check.
	Hostnames []string
	// MinRemaining: a leaf that expires sooner draws a warning in
	// Bundle.Warnings (an error if MinRemainingIsError). 0: 30 days;
	// negative: no check.
	MinRemaining time.Duration
	// MinRemainingIsError turns the MinRemaining warning into ErrExpiresSoon.
	MinRemainingIsError bool
	// Now is the clock used for validation. nil: time.Now.
	Now func() time.Time
	// AllowSelfSignedCA serves a self-signed CA certificate (CA:TRUE) that
	// names hosts, with a warning; without it such a certificate is refused
	// (ErrLeafIsCA). Meant for development mode.
	AllowSelfSignedCA bool
}

// PEMPair is one certificate chain and its private key as PEM bytes.
type PEMPair struct{ CertPEM, KeyPEM []byte }

// Source is an alternative bundle for Reload, typically given as PEM
// bytes through the admin API. A nil field means "read the file from
// Options", so the zero Source re-reads the files. Reload does not
// change Options: a later Reload reads the files again.
type Source struct {
	// CertPEM and KeyPEM replace the default certificate (Options.Pairs[0]).
	// Both nil: read the default pair's files. Exactly one nil: ErrIncompleteSource.
	CertPEM, KeyPEM []byte
	// Others replace the SNI certificates (Options.Pairs[1:]) when non-nil;
	// an empty non-nil slice serves the default certificate only.
	Others []PEMPair
	// ClientCAPEM replaces the client-CA bundle when non-nil; an empty
	// non-nil slice is an error (ErrNoClientCA).
	ClientCAPEM []byte
}

// ClientAuth says how a listener asks for client certificates.
type ClientAuth int

// ClientAuth values.
const (
	// ClientAuthNone asks for no client certificate.
	ClientAuthNone ClientAuth = iota
	// ClientAuthOptional asks for one and verifies it against the client CAs
	// if the client sends one.
	ClientAuthOptional
	// ClientAuthRequire refuses a handshake without a client certificate
	// that verifies against the client CAs.
	ClientAuthRequire
)

// String returns "none", "optional" or "require".
func (a ClientAuth) String() string {
	switch a {
	case ClientAuthNone:
		return "none"
	case ClientAuthOptional:
		return "optional"
	case ClientAuthRequire:
		return "require"
	}
	return "ClientAuth(" + strconv.Itoa(int(a)) + ")"
}

// tlsClientAuth maps a to the crypto/tls value.
func (a ClientAuth) tlsClientAuth() tls.ClientAuthType {
	switch a {
	case ClientAuthOptional:
		return tls.VerifyClientCertIfGiven
	case ClientAuthRequire:
		return tls.RequireAndVerifyClientCert
	}
	return tls.NoClientCert
}

// Profile is what one listener needs from the store.
type Profile struct {
	// ClientAuth: whether client certificates are asked for. Zero: none.
	ClientAuth ClientAuth
	// NextProtos are the ALPN protocols offered, e.g. {"h2", "http/1.1"} for
	// the app port, {"http/1.1"} for devices. nil: no ALPN.
	NextProtos []string
}

// same reports whether p and q build the same tls.Config.
func (p Profile) same(q Profile) bool {
	if p.ClientAuth != q.ClientAuth || len(p.NextProtos) != len(q.NextProtos) {
		return false
	}
	for i := range p.NextProtos {
		if p.NextProtos[i] != q.NextProtos[i] {
			return false
		}
	}
	return true
}

// cipherSuites are the TLS 1.2 suites offered: ECDHE with AEAD only.
// TLS 1.3 suites are all AEAD and not configurable.
var cipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// CipherSuites returns the TLS 1.2 cipher suites every listener offers
// (ECDHE key exchange, AES-GCM or ChaCha20-Poly1305). TLS 1.3 is preferred
// and its suites are all AEAD.
func CipherSuites() []uint16 { return append([]uint16(nil), cipherSuites...) }
