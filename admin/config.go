package admin

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"strings"
	"time"
)

// Defaults.
const (
	// DefaultAddr is the admin gRPC address when Config.Addr is empty.
	DefaultAddr = "127.0.0.1:9090"
	// DefaultOpsAddr is the conventional address of the ops HTTP listener (OpsHandler).
	DefaultOpsAddr = "127.0.0.1:9091"
	// AddrOff as Config.Addr disables the TCP listener (Unix socket only).
	AddrOff = "off"
	// DefaultMaxMessage is the largest gRPC message received or sent when
	// Config.MaxMessage is zero (gRPC's own default).
	DefaultMaxMessage = 4 << 20
	// DefaultMaxConcurrentStreams bounds the concurrent calls of one client
	// connection when Config.MaxConcurrentStreams is zero.
	DefaultMaxConcurrentStreams = 64
)

// Access is what a caller may do: AccessRead or AccessAdmin.
type Access string

// Access levels. AccessRead may call Get*, List*, Watch*, Subscribe and GetStats;
// AccessAdmin may call everything.
const (
	AccessRead  Access = "read"
	AccessAdmin Access = "admin"
)

// Token is one accepted bearer token, configured by the SHA-256 of its value so that the
// configuration does not hold the secret (`printf %s "$TOKEN" | sha256sum`).
type Token struct {
	Name   string // who, for the audit log; "" → "token:" + the first 8 hex digits
	SHA256 string // hex SHA-256 of the token value (64 hex digits)
	Access Access // AccessRead or AccessAdmin
}

// Config configures a Server. Every zero value is usable.
type Config struct {
	// Addr is the TCP address of the gRPC listener. "" → DefaultAddr; AddrOff → none.
	// When its host is not loopback, New requires TLS (ErrPlaintext otherwise) and
	// either mTLS (ClientAuth RequireAndVerifyClientCert or VerifyClientCertIfGiven with
	// ClientCAs) or at least one Token (ErrInsecure otherwise).
	Addr string
	// UnixSocket is an optional Unix socket path for a second, plaintext listener, created
	// with UnixSocketMode. A stale socket file is replaced. "" → none.
	UnixSocket string
	// UnixSocketMode is the socket file's mode. 0 → 0600.
	UnixSocketMode fs.FileMode
	// TLS, when set, is served on the TCP listener (never on the Unix socket). Set
	// ClientAuth to tls.RequireAndVerifyClientCert (or tls.VerifyClientCertIfGiven when
	// tokens are accepted too) and ClientCAs for mTLS. nil → plaintext, loopback only.
	TLS *tls.Config
	// Tokens are the accepted bearer tokens ("authorization: Bearer <token>" metadata).
	// When any is configured, every call (on every listener) must carry a valid token or a
	// verified client certificate, except the gRPC health service. nil → no tokens: callers
	// without credentials get AccessAdmin, which New allows only on loopback and Unix sockets
	// (never on a TLS connection of a listener that verifies client certificates).
	Tokens []Token
	// ClientAccess maps a verified client certificate's identity (see ClientIdentity) to
	// its access. nil → every verified client certificate gets AccessAdmin (for embedders
	// whose admin CA signs admins only; wssgate itself always sets it); non-nil → an
	// identity not in the map is refused with PERMISSION_DENIED naming it.
	ClientAccess map[string]Access
	// ClientIdentity names a verified client certificate (the leaf) for ClientAccess and
	// the audit log; an error refuses the call (UNAUTHENTICATED). nil → the subject CN.
	// wssgate passes certs.Identity with the device.identity order.
	ClientIdentity func(leaf *x509.Certificate) (string, error)
	// CheckClientCert, when set, is called on every call with the verified chain (leaf
	// first) of a client certificate; an error refuses the call (UNAUTHENTICATED), e.g. a
	// certificate revoked by a CRL loaded after the connection was made. It runs before
	// the request is read, on gRPC's transport goroutine: it must be fast and must not
	// block. nil → no check beyond the TLS handshake.
	CheckClientCert func(chain []*x509.Certificate) error
	// MaxMessage bounds every gRPC message received or sent, in bytes (grpc.MaxRecvMsgSize
	// and grpc.MaxSendMsgSize); a larger one fails with RESOURCE_EXHAUSTED. 0 →
	// DefaultMaxMessage.
	MaxMessage int
	// MaxConcurrentStreams bounds the concurrent calls (streams included) of one client
	// connection; more wait for a free slot. 0 → DefaultMaxConcurrentStreams.
	MaxConcurrentStreams uint32
	// StreamBuffer is how many events or messages a stream may have waiting for a slow
	// client before it is ended with RESOURCE_EXHAUSTED. 0 → 1024.
	StreamBuffer int
	// ShutdownTimeout bounds the graceful stop when Serve's context ends. 0 → 5s.
	ShutdownTimeout time.Duration
	// Logger receives the audit lines ("audit") and server logs. nil → slog.Default().
	Logger *slog.Logger
}

// withDefaults returns c with its zero values replaced.
func (c Config) withDefaults() Config {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.UnixSocketMode == 0 {
		c.UnixSocketMode = 0o600
	}
	if c.MaxMessage <= 0 {
		c.MaxMessage = DefaultMaxMessage
	}
	if c.MaxConcurrentStreams == 0 {
		c.MaxConcurrentStreams = DefaultMaxConcurrentStreams
	}
	if c.StreamBuffer <= 0 {
		c.StreamBuffer = 1024
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = 5 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// ErrInsecure is returned by New (wrapped) for a non-loopback address without mTLS or tokens.
var ErrInsecure = errors.New("admin: refusing to listen off loopback without mTLS (TLS with client certificates verified against ClientCAs) or a bearer token")

// ErrPlaintext is returned by New (wrapped) for a non-loopback address without TLS: bearer
// tokens and admin calls are not sent in clear text over a network.
var ErrPlaintext = errors.New("admin: refusing plaintext gRPC off loopback: configure TLS")

// validate checks c (after withDefaults).
func (c Config) validate() error {
	if c.Addr == AddrOff && c.UnixSocket == "" {
		return errors.New("admin: addr is off and no unix_socket is set: nothing to listen on")
	}
	if c.Addr != AddrOff {
		host, _, err := net.SplitHostPort(c.Addr)
		if err != nil {
			return fmt.Errorf("admin: addr %q: %w", c.Addr, err)
		}
		if !isLoopback(host) && !c.mutualTLS() && len(c.Tokens) == 0 {
			return fmt.Errorf("listen on %s: %w", c.Addr, ErrInsecure)
		}
		if !isLoopback(host) && c.TLS == nil {
			return fmt.Errorf("listen on %s: %w", c.Addr, ErrPlaintext)
		}
	}
	for i, t := range c.Tokens {
		if _, err := parseTokenHash(t.SHA256); err != nil {
			return fmt.Errorf("admin: tokens[%d] (%s): sha256: %w", i, t.Name, err)
		}
		if t.Access != AccessRead && t.Access != AccessAdmin {
			return fmt.Errorf("admin: tokens[%d] (%s): access %q: want %q or %q", i, t.Name, t.Access, AccessRead, AccessAdmin)
		}
	}
	for cn, a := range c.ClientAccess {
		if a != AccessRead && a != AccessAdmin {
			return fmt.Errorf("admin: client_access[%q]: access %q: want %q or %q", cn, a, AccessRead, AccessAdmin)
		}
	}
	return nil
}

// mutualTLS reports whether the TCP listener verifies client certificates.
func (c Config) mutualTLS() bool {
	if c.TLS == nil || c.TLS.ClientCAs == nil {
		return false
	}
	return c.TLS.ClientAuth == tls.RequireAndVerifyClientCert || c.TLS.ClientAuth == tls.VerifyClientCertIfGiven
}

// isLoopback reports whether host is "localhost" or a loopback IP. An empty host (all
// interfaces) and other names are not loopback.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// parseTokenHash decodes a hex SHA-256.
func parseTokenHash(s string) ([]byte, error) {
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("not hex: %w", err)
	}
	if len(b) != 32 {
		return nil, fmt.Errorf("got %d bytes, want 32", len(b))
	}
	return b, nil
}
