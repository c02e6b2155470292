package auth

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
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
	MethodNone  Method = ""      // anonymous app client
)

// Device names devices from their credentials: client certificate, else
// token, else (development mode only) ?device_id.
type Device struct {
	order  []certs.IdentitySource
	tokens map[string]string // hex SHA-256 of token → device identity
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
	return d, nil
}

// IdentityOrder returns the client-certificate identity sources, in order.
func (d *Device) IdentityOrder() []certs.IdentitySource { return d.order }

// Authenticate names the device, or says why it may not connect (the
// handshake is then refused with 401).
func (d *Device) Authenticate(c Credentials) (identity string, method Method, err error) {
	switch {
	case c.PeerCert != nil:
		id, err := certs.Identity(c.PeerCert, d.order)
		if err != nil {
			return "", "", fmt.Errorf("client certificate %q names no usable identity: %w", c.PeerCert.Subject, err)
		}
		return id, MethodCert, nil
	case c.Token != "":
		sum := sha256.Sum256([]byte(c.Token))
		id, ok := d.tokens[hex.EncodeToString(sum[:])]
		if !ok {
			return "", "", errors.New("token not recognised")
		}
		return id, MethodToken, nil
	case c.DeviceID != "" && d.dev:
		if err := certs.ValidIdentity(c.DeviceID); err != nil {
			return "", "", fmt.Errorf("?device_id: %w", err)
		}
		if n, ok := d.warn.allow(10 * time.Second); ok {
			d.log.Warn("development mode: device connected by ?device_id without proof of identity",
				"identity", c.DeviceID, "remote", c.Remote, "similar_since_last_warning", n)
		}
		return c.DeviceID, MethodDev, nil
	case c.DeviceID != "":
		return "", "", errors.New("?device_id without proof is accepted in development mode only: present a client certificate or a token")
	}
	return "", "", errors.New("no credentials: present a client certificate, an Authorization: Bearer token, or ?token=")
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
