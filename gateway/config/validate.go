package config

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
)

// badFunc records one problem with a field.
type badFunc func(field, format string, args ...any)

// Validate checks every field and returns all problems, each naming its
// field (e.g. "device.client_auth: want none, optional or require, got
// \"maybe\"").
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	c.validateTLS(bad)
	c.TLS.validateNames(bad)
	c.validateAddresses(bad)
	c.validateApp(bad)
	c.validateDevice(bad)
	c.validateAdminTokens(bad)
	c.validateAdmin(bad)
	c.App.Limits.validate("app.limits", bad)
	c.Device.Limits.validate("device.limits", bad)
	c.App.Auth.validate("app.auth", bad)
	c.App.SocketIO.validate(c.App.WSPath, bad)
	c.validateAppAuthExposure(bad)
	c.Device.Auth.validate("device.auth", bad)
	c.Cluster.validate(c.Node, bad)
	c.validateLimits(bad)
	if c.ShutdownGrace < 0 {
		bad("shutdown_grace", "must not be negative")
	}
	return errors.Join(errs...)
}

func (c *Config) validateTLS(bad badFunc) {
	if len(c.TLS.Certificates) == 0 && !c.Dev {
		bad("tls.certificates", "at least one {cert, key} pair is required (or set dev: true for a generated development certificate)")
	}
	for i, p := range c.TLS.Certificates {
		if p.Cert == "" || p.Key == "" {
			bad(fmt.Sprintf("tls.certificates[%d]", i), "both cert and key are required")
		}
	}
	if len(c.TLS.CRLFiles) > 0 && c.TLS.ClientCA == "" {
		bad("tls.crl_files", "need tls.client_ca: a CRL is checked against the client CAs")
	}
}

func (c *Config) validateAddresses(bad badFunc) {
	checkAddr := func(field, addr string, allowOff bool) {
		if allowOff && addr == "off" {
			return
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			bad(field, "want host:port, got %q", addr)
		}
	}
	checkAddr("app.address", c.App.Address, false)
	checkAddr("device.address", c.Device.Address, false)
	checkAddr("admin.address", c.Admin.Address, true)
	checkAddr("ops.address", c.Ops.Address, true)
	checkPath := func(field, p string) {
		if !strings.HasPrefix(p, "/") {
			bad(field, "want a path starting with /, got %q", p)
		}
	}
	checkPath("app.ws_path", c.App.WSPath)
	checkPath("device.path", c.Device.Path)
}

func (c *Config) validateApp(bad badFunc) {
	if c.App.StaticDir != "" && c.App.Upstream != "" {
		bad("app", "static_dir and upstream are exclusive: set one")
	}
	if c.App.Upstream != "" {
		u, err := url.Parse(c.App.Upstream)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("app.upstream", "want an http:// or https:// URL, got %q", c.App.Upstream)
		}
	}
	for _, o := range c.App.AllowedOrigins {
		if o == "*" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || u.Scheme == "" || u.Host == "" || (u.Path != "" && u.Path != "/") {
			bad("app.allowed_origins", "want an origin like https://app.example.com or \"*\", got %q", o)
		}
	}
}

func (c *Config) validateDevice(bad badFunc) {
	if !slices.Contains([]string{"none", "optional", "require"}, c.Device.ClientAuth) {
		bad("device.client_auth", "want none, optional or require, got %q", c.Device.ClientAuth)
	}
	if c.Device.ClientAuth != "none" && c.TLS.ClientCA == "" {
		bad("tls.client_ca", "required when device.client_auth is %q", c.Device.ClientAuth)
	}
	for _, s := range c.Device.Identity {
		if msg := identitySourceError(s); msg != "" {
			bad("device.identity", "%s", msg)
		}
	}
	for i, t := range c.Device.Tokens {
		f := fmt.Sprintf("device.tokens[%d]", i)
		if t.Device == "" {
			bad(f+".device", "required")
		}
		if !isSHA256Hex(t.SHA256) {
			bad(f+".sha256", "want 64 hex digits (sha256sum of the token)")
		}
	}
}

func (c *Config) validateAdminTokens(bad badFunc) {
	for i, t := range c.Admin.Tokens {
		f := fmt.Sprintf("admin.tokens[%d]", i)
		if t.Role != "read" && t.Role != "admin" {
			bad(f+".role", "want read or admin, got %q", t.Role)
		}
		if !isSHA256Hex(t.SHA256) {
			bad(f+".sha256", "want 64 hex digits (sha256sum of the token)")
		}
	}
}

func (l Limits) validate(name string, bad badFunc) {
	if l.MaxMessage < 125 {
		bad(name+".max_message", "must be at least 125 bytes, got %d", l.MaxMessage)
	}
	if l.QueueBytes < l.MaxMessage {
		bad(name+".queue_bytes", "must be at least max_message (%s), got %s", l.MaxMessage, l.QueueBytes)
	}
	if l.IdleTimeout <= l.PingInterval {
		bad(name+".idle_timeout", "must exceed ping_interval (%s), got %s", l.PingInterval, l.IdleTimeout)
	}
	if l.MaxConnections < 0 {
		bad(name+".max_connections", "must not be negative")
	}
}

func isSHA256Hex(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == 32
}
