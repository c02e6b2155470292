package gateway

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/wssgate/wssgate/gateway/auth"
	"github.com/wssgate/wssgate/gateway/config"
	"github.com/wssgate/wssgate/gateway/listener"
)

// tokenKey signs test tokens; file is what app.auth.jwt.keys names.
type tokenKey struct {
	alg  jose.SignatureAlgorithm
	priv any
	file string
}

// newTokenKeys makes one key of each kind with its key file in dir.
func newTokenKeys(t *testing.T, dir string) map[string]tokenKey {
	t.Helper()
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	rs, err := rsa.GenerateKey(rand.Reader, 2048)
	must(t, err)
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	must(t, err)
	hs := make([]byte, 48)
	_, err = rand.Read(hs)
	must(t, err)
	secret := []byte(base64.RawStdEncoding.EncodeToString(hs))
	pub := func(name string, k any) string {
		der, err := x509.MarshalPKIXPublicKey(k)
		must(t, err)
		return writeFile(t, dir, name, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	}
	return map[string]tokenKey{
		"ES256": {jose.ES256, ec, pub("es256.pub", &ec.PublicKey)},
		"RS256": {jose.RS256, rs, pub("rs256.pub", &rs.PublicKey)},
		"EdDSA": {jose.EdDSA, ed, pub("ed25519.pub", ed.Public())},
		"HS256": {jose.HS256, secret, writeFile(t, dir, "hs256.secret", append(secret, '\n'))},
	}
}

// signToken makes a compact JWT for sub expiring in ttl; perms, if not
// nil, is the wssgate permissions claim.
func signToken(t *testing.T, k tokenKey, kid, sub string, ttl time.Duration, perms map[string][]string) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader(jose.HeaderKey("kid"), kid)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: k.priv}, opts)
	must(t, err)
	b := jwt.Signed(s).Claims(jwt.Claims{Subject: sub, Expiry: jwt.NewNumericDate(time.Now().Add(ttl))})
	if perms != nil {
		b = b.Claims(map[string]any{"wssgate": perms})
	}
	tok, err := b.Serialize()
	must(t, err)
	return tok
}

// jwtHarness runs a gateway with app.auth.mode jwt over keys, leeway 0.
func jwtHarness(t *testing.T, keys map[string]tokenKey, dir string) *harness {
	t.Helper()
	return newHarness(t, func(c *config.Config, h *harness) {
		c.App.Auth.Mode = "jwt"
		for _, k := range keys {
			c.App.Auth.JWT.Keys = append(c.App.Auth.JWT.Keys, k.file)
		}
		zero := time.Duration(0)
		c.App.Auth.JWT.Leeway = &zero
		c.App.Auth.Cookie = "wssgate_token"
		c.App.Subscribe = []string{"devices/+/up", "users/{sub}/#"}
	})
}

// upgrade sends a WebSocket upgrade request for path and returns the
// response (the body read, the connection closed).
func (h *harness) upgrade(path string, hdr http.Header) (*http.Response, string) {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodGet, "https://"+h.app+path, nil)
	must(h.t, err)
	for k, v := range hdr {
		req.Header[k] = v
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	cl := &http.Client{Transport: &http.Transport{TLSClientConfig: h.tlsConfig(nil)}, Timeout: 10 * time.Second}
	defer cl.CloseIdleConnections()
	resp, err := cl.Do(req)
	must(h.t, err)
	defer resp.Body.Close()
	var body strings.Builder
	if resp.StatusCode != http.StatusSwitchingProtocols {
		buf := make([]byte, 4096)
		n, _ := resp.Body.Read(buf)
		body.Write(buf[:n])
	}
	return resp, body.String()
}

func TestAppJWTRefusals(t *testing.T) {
	dir := t.TempDir()
	keys := newTokenKeys(t, dir)
	h := jwtHarness(t, map[string]tokenKey{"HS256": keys["HS256"], "ES256": keys["ES256"]}, dir)
	other := newTokenKeys(t, t.TempDir())
	expired := signToken(t, keys["ES256"], "", "alice", -time.Minute, nil)
	forged := signToken(t, other["HS256"], "", "alice", time.Hour, nil)
	tests := []struct {
		name, query, auth string
		wantSub           auth.SubReason
		wantHeader        string
	}{
		{"anonymous", "", "", auth.ReasonMissing, "Bearer"},
		{"other key", "?token=" + forged, "", auth.ReasonBadSignature, `Bearer error="invalid_token", error_description="bad signature"`},
		{"expired", "", "Bearer " + expired, auth.ReasonExpired, `Bearer error="invalid_token", error_description="token expired"`},
		{"garbage", "?token=abc.def", "", auth.ReasonMalformed, `Bearer error="invalid_token", error_description="malformed token"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := http.Header{}
			if tt.auth != "" {
				hdr.Set("Authorization", tt.auth)
			}
			resp, body := h.upgrade("/ws"+tt.query, hdr)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status: got %d, want 401", resp.StatusCode)
			}
			if got := resp.Header.Get("WWW-Authenticate"); got != tt.wantHeader {
				t.Errorf("WWW-Authenticate: got %q, want %q", got, tt.wantHeader)
			}
			if !strings.Contains(body, tt.wantSub.Description()) {
				t.Errorf("body %q lacks %q", body, tt.wantSub.Description())
			}
			f := h.g.Failures()[0]
			if f.Reason != listener.Unauthenticated || f.SubReason != string(tt.wantSub) || f.Stage != "auth" {
				t.Errorf("failure: got %s/%s at %s, want unauthenticated/%s at auth", f.Reason, f.SubReason, f.Stage, tt.wantSub)
			}
		})
	}
	counts := h.g.app.Counters.AuthFailures()
	for _, r := range []auth.SubReason{auth.ReasonMissing, auth.ReasonBadSignature, auth.ReasonExpired, auth.ReasonMalformed} {
		if counts[string(r)] != 1 {
			t.Errorf("auth failures %s: got %d, want 1 (all: %v)", r, counts[string(r)], counts)
		}
	}
	if got := h.g.app.Counters.Failures(listener.Unauthenticated); got != 4 {
		t.Errorf("unauthenticated failures: got %d, want 4", got)
	}
	logs := h.logs.String()
	for _, tok := range []string{expired, forged} {
		if strings.Contains(logs, tok) || strings.Contains(logs, tok[strings.LastIndexByte(tok, '.')+1:]) {
			t.Errorf("a token (or its signature) was logged")
		}
	}
	if !strings.Contains(logs, "sub_reason=bad_signature") {
		t.Errorf("no log line names sub_reason=bad_signature")
	}
}

func TestAppJWTEachAlgorithmAndPermissions(t *testing.T) {
	dir := t.TempDir()
	keys := newTokenKeys(t, dir)
	h := jwtHarness(t, keys, dir)
	perms := map[string][]string{"subscribe": {"devices/d1/up", "users/alice/#", "admin/#"}, "publish": {"devices/d1/down"}}
	for i, alg := range []string{"HS256", "RS256", "ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			tok := signToken(t, keys[alg], "", "alice", time.Hour, perms)
			url, hdr := "wss://"+h.app+"/ws", http.Header{}
			switch i % 3 {
			case 0:
				url += "?token=" + tok
			case 1:
				hdr.Set("Authorization", "bearer "+tok)
			case 2:
				hdr.Set("Cookie", "wssgate_token="+tok)
			}
			c := h.dial(url, hdr, nil)
			for ch, want := range map[string]string{
				"devices/d1/up": "ack", "users/alice/inbox": "ack", "devices/d2/up": "error", "devices/+/up": "error", "admin/x": "error",
			} {
				m := request(t, c, `{"type":"subscribe","id":1,"channel":"`+ch+`"}`)
				if m.Type != want || (want == "error" && m.Code != "forbidden") {
					t.Errorf("subscribe %s: got %s %s, want %s", ch, m.Type, m.Code, want)
				}
			}
			if m := request(t, c, `{"type":"publish","id":2,"channel":"devices/d2/down","data":"x"}`); m.Code != "forbidden" {
				t.Errorf("publish outside the claim: got %+v, want forbidden", m)
			}
			if m := request(t, c, `{"type":"publish","id":3,"channel":"devices/d1/down","data":"x"}`); m.Type != "ack" {
				t.Errorf("publish inside the claim: got %+v, want ack", m)
			}
		})
	}
	// Without a claim: the listener's lists, {sub} expanded.
	c := h.dial("wss://"+h.app+"/ws?token="+signToken(t, keys["ES256"], "", "bob", time.Hour, nil), nil, nil)
	if m := request(t, c, `{"type":"subscribe","id":1,"channel":"users/bob/#"}`); m.Type != "ack" {
		t.Errorf("subscribe users/bob/#: got %+v, want ack", m)
	}
	if m := request(t, c, `{"type":"subscribe","id":2,"channel":"users/alice/#"}`); m.Code != "forbidden" {
		t.Errorf("subscribe users/alice/#: got %+v, want forbidden", m)
	}
	var methods []string
	for _, v := range h.g.Sessions() {
		methods = append(methods, v.Info.Identity+":"+v.Info.AuthMethod)
		if v.AuthExpiresAt.IsZero() {
			t.Errorf("session %s: no auth expiry", v.Info.ID)
		}
	}
	if len(methods) != 5 || !strings.Contains(strings.Join(methods, " "), "bob:jwt") {
		t.Errorf("sessions: got %v, want 4 alice:jwt and bob:jwt", methods)
	}
}
