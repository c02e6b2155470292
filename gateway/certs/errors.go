package certs

import "errors"

// Sentinel errors. Every error returned by this package wraps one of these
// (or an error from the standard library, such as a file-system error) and
// names the file and the offending value in one line.
var (
	// ErrNoPairs: Options.Pairs is empty, or a Pair misses a file name.
	ErrNoPairs = errors.New("certs: no certificate configured")
	// ErrNoCertificate: a PEM input holds no CERTIFICATE block.
	ErrNoCertificate = errors.New("certs: no certificate in PEM data")
	// ErrBadCertificate: a CERTIFICATE block does not parse.
	ErrBadCertificate = errors.New("certs: cannot parse certificate")
	// ErrNoKey: a key PEM input holds no private key block.
	ErrNoKey = errors.New("certs: no private key in PEM data")
	// ErrBadKey: the private key does not parse, or is encrypted.
	ErrBadKey = errors.New("certs: cannot parse private key")
	// ErrKeyMismatch: the private key is not the one of the leaf certificate.
	ErrKeyMismatch = errors.New("certs: key does not match certificate")
	// ErrUnsupportedKey: the leaf key is neither ECDSA (P-256/384/521) nor RSA.
	ErrUnsupportedKey = errors.New("certs: unsupported key type")
	// ErrRSAKeySize: an RSA leaf key is shorter than 2048 or longer than 8192 bits.
	ErrRSAKeySize = errors.New("certs: RSA key size out of range")
	// ErrLeafIsCA: the leaf (first) certificate is a CA certificate.
	ErrLeafIsCA = errors.New("certs: leaf certificate is a CA")
	// ErrNotServerCert: the leaf's extended key usage excludes server authentication.
	ErrNotServerCert = errors.New("certs: certificate not valid for server authentication")
	// ErrExpired: the leaf's NotAfter is in the past.
	ErrExpired = errors.New("certs: certificate expired")
	// ErrNotYetValid: the leaf's NotBefore is in the future.
	ErrNotYetValid = errors.New("certs: certificate not yet valid")
	// ErrExpiresSoon: the leaf expires within Options.MinRemaining and
	// Options.MinRemainingIsError is set.
	ErrExpiresSoon = errors.New("certs: certificate expires soon")
	// ErrChainUnverified: the served chain does not verify to Options.RootCAFile.
	ErrChainUnverified = errors.New("certs: chain does not verify to the configured roots")
	// ErrMissingIntermediate: the served chain lacks an intermediate between
	// the leaf and the configured roots.
	ErrMissingIntermediate = errors.New("certs: missing intermediate certificate")
	// ErrHostnameNotCovered: a configured hostname or IP is not in any SAN.
	ErrHostnameNotCovered = errors.New("certs: hostname not covered")
	// ErrRevoked: a client certificate is on a configured CRL.
	ErrRevoked = errors.New("certs: client certificate revoked")
	// ErrBadCRL: a CRL file does not parse or is not signed by a client CA.
	ErrBadCRL = errors.New("certs: invalid CRL")
	// ErrNoClientCA: the client-CA file holds no certificate.
	ErrNoClientCA = errors.New("certs: no CA certificate in client CA bundle")
	// ErrClientCANotCA: a certificate in the client-CA file is not a CA.
	ErrClientCANotCA = errors.New("certs: client CA bundle entry is not a CA")
	// ErrIncompleteSource: a Source gives a certificate without its key or
	// the other way round.
	ErrIncompleteSource = errors.New("certs: certificate and key must be given together")

	// ErrNoClientCert: a client certificate was needed and none was given.
	ErrNoClientCert = errors.New("certs: no client certificate")
	// ErrNoIdentity: none of the configured identity sources is present in
	// the client certificate (or there is no certificate).
	ErrNoIdentity = errors.New("certs: no identity in client certificate")
	// ErrMultipleURIs: the client certificate has more than one URI SAN, so
	// the "uri" identity source is ambiguous.
	ErrMultipleURIs = errors.New("certs: more than one URI SAN in client certificate")
	// ErrBadIdentity: the identity cannot be used as one channel level (it is
	// too long, not UTF-8, or holds '/', '+', '#' or a control character).
	ErrBadIdentity = errors.New("certs: identity not usable as a channel level")
	// ErrUnknownIdentitySource: an identity order names something other than
	// "uri", "dns" or "cn".
	ErrUnknownIdentitySource = errors.New("certs: unknown identity source")
	// ErrBadIdentityTemplate: an identity template ("uri:…{id}…") does not
	// hold "{id}" exactly once.
	ErrBadIdentityTemplate = errors.New("certs: bad identity template")
)
