package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestAuthDefaults(t *testing.T) {
	c, err := Parse([]byte("dev: true\napp:\n  auth:\n    mode: jwt\n    jwt: {keys: [k.pem]}\ndevice:\n  auth:\n    jwt: {jwks_url: 'https://idp.example/jwks.json'}\n"))
	if err != nil {
		t.Fatal(err)
	}
	a := c.App.Auth
	if a.Mode != "jwt" || !a.JWT.Enabled() {
		t.Errorf("mode: got %q enabled %v, want jwt true", a.Mode, a.JWT.Enabled())
	}
	if !slices.Equal(a.JWT.Algorithms, DefaultJWTAlgorithms) {
		t.Errorf("algorithms: got %v, want %v", a.JWT.Algorithms, DefaultJWTAlgorithms)
	}
	if a.JWT.Leeway == nil || *a.JWT.Leeway != 30*time.Second {
		t.Errorf("leeway: got %v, want 30s", a.JWT.Leeway)
	}
	if a.JWT.PermissionsClaim != "wssgate" {
		t.Errorf("permissions_claim: got %q, want wssgate", a.JWT.PermissionsClaim)
	}
	if !slices.Equal(a.Check.ForwardHeaders, []string{"Cookie", "Authorization"}) || a.Check.Timeout != 2*time.Second {
		t.Errorf("check defaults: got %v %s", a.Check.ForwardHeaders, a.Check.Timeout)
	}
	d := c.Device.Auth.JWT
	if d == nil || !d.Enabled() || d.PermissionsClaim != "wssgate" {
		t.Errorf("device.auth.jwt: got %+v, want enabled with defaults", d)
	}
}

func TestAuthUnsetStaysUnset(t *testing.T) {
	c, err := Parse([]byte("dev: true\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.App.Auth.Mode != "" || c.App.Auth.JWT.Enabled() || c.Device.Auth.JWT != nil {
		t.Errorf("got %+v / %+v, want no auth configured", c.App.Auth, c.Device.Auth)
	}
}

func TestAuthLeewayZeroKept(t *testing.T) {
	c, err := Parse([]byte("dev: true\napp: {auth: {mode: jwt, jwt: {keys: [k], leeway: 0s}}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if l := c.App.Auth.JWT.Leeway; l == nil || *l != 0 {
		t.Errorf("leeway: got %v, want 0s (explicit)", l)
	}
}

func TestAuthValidation(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"bad mode", "app: {auth: {mode: oauth}}", `app.auth.mode: want none, jwt or check, got "oauth"`},
		{"jwt without keys", "app: {auth: {mode: jwt}}", "app.auth.jwt.keys: mode jwt needs keys or jwks_url"},
		{"alg none", "app: {auth: {mode: jwt, jwt: {keys: [k], algorithms: [none]}}}", `app.auth.jwt.algorithms: "none" is never accepted`},
		{"unknown alg", "app: {auth: {mode: jwt, jwt: {keys: [k], algorithms: [HS1]}}}", `app.auth.jwt.algorithms: unknown algorithm "HS1"`},
		{"empty algs", "app: {auth: {mode: jwt, jwt: {keys: [k], algorithms: []}}}", "app.auth.jwt.algorithms: must not be empty"},
		{"jwks http", "app: {auth: {mode: jwt, jwt: {jwks_url: 'http://idp/jwks'}}}", `app.auth.jwt.jwks_url: want an https:// URL, got "http://idp/jwks"`},
		{"jwks_ca alone", "app: {auth: {mode: jwt, jwt: {keys: [k], jwks_ca: ca.pem}}}", "app.auth.jwt.jwks_ca: needs jwks_url"},
		{"negative leeway", "app: {auth: {mode: jwt, jwt: {keys: [k], leeway: -1s}}}", "app.auth.jwt.leeway: want 0s to 10m"},
		{"check without url", "app: {auth: {mode: check}}", `app.auth.check.url: mode check needs an http:// or https:// URL, got ""`},
		{"check bad url", "app: {auth: {mode: check, check: {url: 'ftp://x/'}}}", "app.auth.check.url"},
		{"check bad header", "app: {auth: {mode: check, check: {url: 'http://127.0.0.1:1/me', forward_headers: ['X Bad']}}}", `app.auth.check.forward_headers: want header names, got "X Bad"`},
		{"check negative timeout", "app: {auth: {mode: check, check: {url: 'http://127.0.0.1:1/me', timeout: -1s}}}", "app.auth.check.timeout: must be positive"},
		{"bad cookie", "app: {auth: {mode: jwt, cookie: 'a b', jwt: {keys: [k]}}}", "app.auth.cookie: want a cookie name"},
		{"device jwt empty", "device: {auth: {jwt: {issuer: me}}}", "device.auth.jwt.keys: needs keys or jwks_url"},
		{"device jwt alg", "device: {auth: {jwt: {keys: [k], algorithms: [NONE]}}}", `device.auth.jwt.algorithms: "none" is never accepted`},
		{"unknown key", "app: {auth: {mode: jwt, jwt: {key: [k]}}}", "field key not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte("dev: true\n" + tt.yaml + "\n"))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestAuthValidModes(t *testing.T) {
	for _, y := range []string{
		"app: {auth: {mode: none}}",
		"app: {auth: {mode: check, check: {url: 'https://app.example/session'}}}",
		"app: {auth: {mode: jwt, cookie: wssgate_token, jwt: {jwks_url: 'https://idp.example/.well-known/jwks.json', algorithms: [RS256, ES256]}}}",
	} {
		if _, err := Parse([]byte("dev: true\n" + y + "\n")); err != nil {
			t.Errorf("%s: %v", y, err)
		}
	}
}

func TestAuthResolvesRelativePaths(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "wssgate.yaml")
	y := "dev: true\napp: {auth: {mode: jwt, jwt: {keys: [hs.secret, /abs/es.pub], jwks_url: 'https://idp/jwks', jwks_ca: ca.pem}}}\n" +
		"device: {auth: {jwt: {keys: [dev.pub]}}}\n"
	if err := os.WriteFile(p, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	j := c.App.Auth.JWT
	for _, ch := range []struct{ got, want string }{
		{j.Keys[0], filepath.Join(dir, "hs.secret")},
		{j.Keys[1], "/abs/es.pub"},
		{j.JWKSCA, filepath.Join(dir, "ca.pem")},
		{c.Device.Auth.JWT.Keys[0], filepath.Join(dir, "dev.pub")},
	} {
		if ch.got != ch.want {
			t.Errorf("got %s, want %s", ch.got, ch.want)
		}
	}
}

func TestAppAuthModeRequiredOffLoopback(t *testing.T) {
	tests := []struct {
		name, address, mode string
		dev, wantErr        bool
	}{
		{"empty host", ":8443", "", false, true},
		{"every interface", "0.0.0.0:8443", "", false, true},
		{"public IP", "192.0.2.10:8443", "", false, true},
		{"loopback v4", "127.0.0.1:8443", "", false, false},
		{"loopback v6", "[::1]:8443", "", false, false},
		{"localhost", "localhost:8443", "", false, false},
		{"dev mode", ":8443", "", true, false},
		{"explicit none", ":8443", "none", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Config{Dev: tt.dev, TLS: TLS{Certificates: []CertPair{{Cert: "c.pem", Key: "k.pem"}}}}
			c.App.Address, c.App.Auth.Mode = tt.address, tt.mode
			c.ApplyDefaults()
			err := c.Validate()
			if got := err != nil && strings.Contains(err.Error(), "app.auth.mode: required"); got != tt.wantErr {
				t.Fatalf("got error %v, want an app.auth.mode error: %v", err, tt.wantErr)
			}
		})
	}
}
