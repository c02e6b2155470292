package auth

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/wssgate/wssgate/gateway/certs"
	"github.com/wssgate/wssgate/gateway/config"
)

// Credentials are what a device presented during its handshake.
type Credentials struct {
	PeerCert *x509.Certificate // verified client certificate, if any
	Token    string            // Authorization: Bearer, or ?token=
	DeviceID string            // ?device_id= (honoured in development mode only)
	Remote   string
}

// Method names how a session proved its identity, as the admin API shows it.
type Method string

// Authentication methods.
const (
	MethodCert  Method = "cert"  // client certificate
	MethodToken Method = "token" // a configured device token
	MethodDev   Method = "dev"   // development mode ?device_id, no proof
	MethodJWT   Method = "jwt"   // a verified JSON Web Token (app.auth or device.auth.jwt)
	MethodCheck Method = "check" // the app's session check (app.auth.mode check)
	MethodNone  Method = ""      // anonymous app client
)

// deviceVerifyTimeout bounds a device JWT's verification (a JWKS refetch).
const deviceVerifyTimeout = 5 * time.Second

// Device names devices from their credentials: client certificate, else
// token (a configured one, else a JWT when device.auth.jwt is set), else
// (development mode only) ?device_id. With device.auth.jwt it owns the
// verifier's goroutines: Start and Close them.
type Device struct {
	order  []certs.IdentitySource
	tokens map[string]string // hex SHA-256 of token → device identity
	jwt    *Verifier         // nil without device.auth.jwt
	dev    bool
	log    *slog.Logger
	warn   rateLimit // the development-mode identity warning
}

// NewDevice builds the device authenticator of cfg.
func NewDevice(cfg *config.Config, log *slog.Logger) (*Device, error) {
	order, err := certs.ParseIdentityOrder(cfg.Device.Identity)
	if err != nil {
		return nil, fmt.Errorf("device.identity: %w", err)
	}
	d := &Device{order: order, tokens: map[string]string{}, dev: cfg.Dev, log: log}
	for _, t := range cfg.Device.Tokens {
		d.tokens[t.SHA256] = t.Device
	}
	if cfg.Device.Auth.JWT != nil {
		if d.jwt, err = NewVerifier(*cfg.Device.Auth.JWT, log); err != nil {
			return nil, fmt.Errorf("device.auth.jwt: %w", err)
		}
	}
	return d, nil
}

// Start fetches device.auth.jwt's JWKS, if any, and refreshes it until ctx
// ends or Close.
func (d *Device) Start(ctx context.Context) error {
	if d.jwt == nil {
		return nil
	}
	if err := d.jwt.Start(ctx); err != nil {
		return fmt.Errorf("device.auth.jwt: %w", err)
	}
	return nil
}

// Close stops the JWT verifier's goroutines, if any. Idempotent.
func (d *Device) Close() {
	if d.jwt != nil {
		d.jwt.Close()
	}
}

// IdentityOrder returns the client-certificate identity sources, in order.
func (d *Device) IdentityOrder() []certs.IdentitySource { return d.order }

// Authenticate names the device, or says why it may not connect (the
// handshake is then refused with 401). A JWT's grant expires at its exp.
func (d *Device) Authenticate(c Credentials) (Grant, error) {
	switch {
	case c.PeerCert != nil:
		id, err := certs.Identity(c.PeerCert, d.order)
		if err != nil {
			return Grant{}, fmt.Errorf("client certificate %q names no usable identity: %w", c.PeerCert.Subject, err)
		}
		return Grant{Identity: id, Method: MethodCert}, nil
	case c.Token != "":
		return d.token(c.Token)
	case c.DeviceID != "" && d.dev:
		if err := certs.ValidIdentity(c.DeviceID); err != nil {
			return Grant{}, fmt.Errorf("?device_id: %w", err)
		}
		if n, ok := d.warn.allow(10 * time.Second); ok {
			d.log.Warn("development mode: device connected by ?device_id without proof of identity",
				"identity", c.DeviceID, "remote", c.Remote, "similar_since_last_warning", n)
		}
		return Grant{Identity: c.DeviceID, Method: MethodDev}, nil
	case c.DeviceID != "":
		return Grant{}, errors.New("?device_id without proof is accepted in development mode only: present a client certificate or a token")
	}
	return Grant{}, errors.New("no credentials: present a client certificate, an Authorization: Bearer token, or ?token=")
}

// token names the device of a configured token, else of a JWT.
func (d *Device) token(tok string) (Grant, error) {
	sum := sha256.Sum256([]byte(tok))
	if id, ok := d.tokens[hex.EncodeToString(sum[:])]; ok {
		return Grant{Identity: id, Method: MethodToken}, nil
	}
	if d.jwt == nil || strings.Count(tok, ".") != 2 {
		return Grant{}, errors.New("token not recognised")
	}
	ctx, cancel := context.WithTimeout(context.Background(), deviceVerifyTimeout)
	defer cancel()
	claims, err := d.jwt.Verify(ctx, tok)
	if err != nil {
		return Grant{}, err
	}
	if err := certs.ValidIdentity(claims.Subject); err != nil {
		return Grant{}, fail(ReasonNoSubject, fmt.Errorf("sub cannot name a device: %w", err))
	}
	return Grant{Identity: claims.Subject, Method: MethodJWT, Expiry: claims.Expiry, Leeway: d.jwt.Leeway()}, nil
}

// rateLimit lets one event through per interval and counts the others.
type rateLimit struct {
	mu         sync.Mutex // guards the fields below
	last       time.Time
	suppressed int
}

// allow reports whether to log now, and how many were held back since.
func (r *rateLimit) allow(every time.Duration) (int, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now := time.Now(); now.Sub(r.last) >= every {
		n := r.suppressed
		r.last, r.suppressed = now, 0
		return n, true
	}
	r.suppressed++
	return 0, false
}
