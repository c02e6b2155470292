package config

import (
	"net/url"
	"slices"
	"strings"
	"time"
)

// Authentication defaults (README and wssgate.example.yaml document them).
const (
	DefaultJWTLeeway        = 30 * time.Second
	DefaultPermissionsClaim = "wssgate"
	DefaultCheckTimeout     = 2 * time.Second
)

// Default lists for authentication.
var (
	// DefaultJWTAlgorithms is the JWT algorithm allow-list; the verifier
	// narrows it further to what the configured keys can verify.
	DefaultJWTAlgorithms = []string{"ES256", "ES384", "RS256", "PS256", "EdDSA", "HS256"}
	// DefaultForwardHeaders are the upgrade request's headers sent to the
	// session check.
	DefaultForwardHeaders = []string{"Cookie", "Authorization"}
)

// JWTAlgorithms are the algorithm names app.auth.jwt.algorithms accepts.
// "none" is never one of them.
var JWTAlgorithms = []string{
	"HS256", "HS384", "HS512",
	"RS256", "RS384", "RS512",
	"PS256", "PS384", "PS512",
	"ES256", "ES384", "ES512",
	"EdDSA",
}

// AppAuth says how app clients on the app listener's WebSocket prove who
// they are.
type AppAuth struct {
	// Mode: "none", "jwt" or "check". Empty means not configured (the
	// gateway decides whether that is allowed from the listener address).
	Mode string `yaml:"mode"`
	// JWT verifies bearer tokens (mode jwt).
	JWT JWT `yaml:"jwt"`
	// Check asks the app's own endpoint about each upgrade (mode check).
	Check Check `yaml:"check"`
	// Cookie, if set, is also read for the token (after Authorization,
	// before ?token=).
	Cookie string `yaml:"cookie"`
}

// JWT configures a JSON Web Token verifier. Zero values take defaults.
type JWT struct {
	// Keys are files: PEM public keys or certificates (RSA, ECDSA,
	// Ed25519), or, for a file not starting with "-----BEGIN", an HMAC
	// secret of at least 32 bytes (one trailing newline removed).
	Keys []string `yaml:"keys"`
	// JWKSURL, if set, is an https:// URL of a JSON Web Key Set, fetched at
	// start, every 10 minutes and on an unknown "kid".
	JWKSURL string `yaml:"jwks_url"`
	// JWKSCA is a PEM bundle of roots for JWKSURL. Default: system roots.
	JWKSCA string `yaml:"jwks_ca"`
	// Algorithms is the allow-list of "alg" values. Default
	// DefaultJWTAlgorithms; "none" is never accepted.
	Algorithms []string `yaml:"algorithms"`
	// Issuer, if set, must equal the "iss" claim.
	Issuer string `yaml:"issuer"`
	// Audience, if set, must be in the "aud" claim.
	Audience string `yaml:"audience"`
	// Leeway for exp, nbf and iat. Default 30s; 0s means none.
	Leeway *time.Duration `yaml:"leeway"`
	// PermissionsClaim names the claim {"subscribe":[...],"publish":[...]}
	// that narrows the listener's lists. Default "wssgate".
	PermissionsClaim string `yaml:"permissions_claim"`
}

// Enabled reports whether the verifier has a source of keys.
func (j *JWT) Enabled() bool { return j != nil && (len(j.Keys) > 0 || j.JWKSURL != "") }

// Check configures the session check of mode "check".
type Check struct {
	// URL of the app's endpoint (http:// or https://), asked with GET.
	URL string `yaml:"url"`
	// ForwardHeaders are copied from the upgrade request. Default
	// [Cookie, Authorization].
	ForwardHeaders []string `yaml:"forward_headers"`
	// Timeout bounds one check. Default 2s; a timeout refuses with 503.
	Timeout time.Duration `yaml:"timeout"`
}

// DeviceAuth holds the device listener's optional JWT verifier, for
// devices that hold a JWT instead of a certificate.
type DeviceAuth struct {
	// JWT, if set, verifies device bearer tokens; "sub" is the identity.
	JWT *JWT `yaml:"jwt"`
}

func (a *AppAuth) applyDefaults() {
	a.JWT.applyDefaults()
	if a.Check.ForwardHeaders == nil {
		a.Check.ForwardHeaders = DefaultForwardHeaders
	}
	if a.Check.Timeout == 0 {
		a.Check.Timeout = DefaultCheckTimeout
	}
}

func (d *DeviceAuth) applyDefaults() {
	if d.JWT != nil {
		d.JWT.applyDefaults()
	}
}

func (j *JWT) applyDefaults() {
	if j.Algorithms == nil {
		j.Algorithms = DefaultJWTAlgorithms
	}
	if j.Leeway == nil {
		l := DefaultJWTLeeway
		j.Leeway = &l
	}
	setStr(&j.PermissionsClaim, DefaultPermissionsClaim)
}

// validate reports every problem of a through bad, naming keys under field
// (e.g. "app.auth").
func (a *AppAuth) validate(field string, bad badFunc) {
	switch a.Mode {
	case "", "none", "check":
	case "jwt":
		if !a.JWT.Enabled() {
			bad(field+".jwt.keys", "mode jwt needs keys or jwks_url")
		}
	default:
		bad(field+".mode", "want none, jwt or check, got %q", a.Mode)
	}
	if a.Mode == "jwt" || a.JWT.Enabled() {
		a.JWT.validate(field+".jwt", bad)
	}
	if a.Mode == "check" {
		a.Check.validate(field+".check", bad)
	}
	if a.Cookie != "" && !isToken(a.Cookie) {
		bad(field+".cookie", "want a cookie name (an HTTP token such as session_id), got %q", a.Cookie)
	}
}

// validateAppAuthExposure refuses an app listener reachable off loopback
// (an empty host included) without an explicit app.auth.mode, outside
// development mode: nothing is anonymous there unless the operator says so.
func (c *Config) validateAppAuthExposure(bad badFunc) {
	if c.Dev || c.App.Auth.Mode != "" || OnLoopback(c.App.Address) {
		return
	}
	bad("app.auth.mode", "required because app.address %q is reachable off loopback: set jwt or check "+
		"(or none to let anyone who reaches it subscribe and publish), or listen on 127.0.0.1", c.App.Address)
}

func (d *DeviceAuth) validate(field string, bad badFunc) {
	if d.JWT == nil {
		return
	}
	if !d.JWT.Enabled() {
		bad(field+".jwt.keys", "needs keys or jwks_url")
	}
	d.JWT.validate(field+".jwt", bad)
}

func (j *JWT) validate(field string, bad badFunc) {
	for i, k := range j.Keys {
		if k == "" {
			bad(field+".keys", "entry %d is empty", i)
		}
	}
	if j.JWKSURL != "" {
		u, err := url.Parse(j.JWKSURL)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			bad(field+".jwks_url", "want an https:// URL, got %q", j.JWKSURL)
		}
	}
	if j.JWKSCA != "" && j.JWKSURL == "" {
		bad(field+".jwks_ca", "needs jwks_url")
	}
	if len(j.Algorithms) == 0 {
		bad(field+".algorithms", "must not be empty")
	}
	for _, a := range j.Algorithms {
		switch {
		case strings.EqualFold(a, "none"):
			bad(field+".algorithms", `"none" is never accepted`)
		case !slices.Contains(JWTAlgorithms, a):
			bad(field+".algorithms", "unknown algorithm %q (want one of %s)", a, strings.Join(JWTAlgorithms, ", "))
		}
	}
	if j.Leeway != nil && (*j.Leeway < 0 || *j.Leeway > 10*time.Minute) {
		bad(field+".leeway", "want 0s to 10m, got %s", *j.Leeway)
	}
	if j.PermissionsClaim == "" {
		bad(field+".permissions_claim", "must not be empty")
	}
}

func (c *Check) validate(field string, bad badFunc) {
	u, err := url.Parse(c.URL)
	if c.URL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad(field+".url", "mode check needs an http:// or https:// URL, got %q", c.URL)
	}
	for _, h := range c.ForwardHeaders {
		if !isToken(h) {
			bad(field+".forward_headers", "want header names, got %q", h)
		}
	}
	if c.Timeout <= 0 {
		bad(field+".timeout", "must be positive, got %s", c.Timeout)
	}
}

// resolvePaths makes the key and CA file paths absolute through abs.
func (a *AppAuth) resolvePaths(abs func(*string)) { a.JWT.resolvePaths(abs) }

func (d *DeviceAuth) resolvePaths(abs func(*string)) {
	if d.JWT != nil {
		d.JWT.resolvePaths(abs)
	}
}

func (j *JWT) resolvePaths(abs func(*string)) {
	for i := range j.Keys {
		abs(&j.Keys[i])
	}
	abs(&j.JWKSCA)
}

// isToken reports whether s is a non-empty RFC 7230 token (header and
// cookie names).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			strings.ContainsRune("!#$%&'*+-.^_`|~", r)
		if !ok {
			return false
		}
	}
	return true
}
