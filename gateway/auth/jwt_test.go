package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/wssgate/wssgate/gateway/config"
)

// ---- helpers shared by the package's tests ----

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func pemPublic(t *testing.T, pub crypto.PublicKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func pemCert(t *testing.T, priv crypto.Signer) []byte {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "issuer"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, priv.Public(), priv)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func newEC(t *testing.T, c elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newRSA(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newEd(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func secret(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return []byte(base64.RawStdEncoding.EncodeToString(b))[:n]
}

// sign makes a compact JWT with go-jose; extra claims are merged in.
func sign(t *testing.T, alg jose.SignatureAlgorithm, priv any, kid string, claims ...any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader(jose.HeaderKey("kid"), kid)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: priv}, opts)
	if err != nil {
		t.Fatal(err)
	}
	b := jwt.Signed(s)
	for _, c := range claims {
		b = b.Claims(c)
	}
	tok, err := b.Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func valid(sub string) jwt.Claims {
	return jwt.Claims{Subject: sub, Expiry: jwt.NewNumericDate(time.Now().Add(time.Hour))}
}

func verifier(t *testing.T, cfg config.JWT) *Verifier {
	t.Helper()
	v, err := NewVerifier(cfg, nil)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	t.Cleanup(v.Close)
	return v
}

func wantReason(t *testing.T, err error, want SubReason) {
	t.Helper()
	if got := Reason(err); got != want {
		t.Fatalf("got error %v (reason %q), want reason %q", err, got, want)
	}
}

// ---- tests ----

func TestVerifyEachKeyKind(t *testing.T) {
	hs := secret(t, 40)
	rsaKey, ecKey, edKey, ec384 := newRSA(t), newEC(t, elliptic.P256()), newEd(t), newEC(t, elliptic.P384())
	tests := []struct {
		name string
		file []byte
		alg  jose.SignatureAlgorithm
		priv any
	}{
		{"HS256 secret file", append(hs, '\n'), jose.HS256, hs},
		{"RS256 public key", pemPublic(t, &rsaKey.PublicKey), jose.RS256, rsaKey},
		{"PS256 public key", pemPublic(t, &rsaKey.PublicKey), jose.PS256, rsaKey},
		{"ES256 certificate", pemCert(t, ecKey), jose.ES256, ecKey},
		{"ES384 public key", pemPublic(t, &ec384.PublicKey), jose.ES384, ec384},
		{"EdDSA public key", pemPublic(t, edKey.Public()), jose.EdDSA, edKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := verifier(t, config.JWT{Keys: []string{writeFile(t, "key", tt.file)}})
			exp := time.Now().Add(time.Hour).Truncate(time.Second)
			perm := map[string]any{"wssgate": map[string]any{"subscribe": []string{"users/alice/#"}, "publish": []string{}}}
			tok := sign(t, tt.alg, tt.priv, "", jwt.Claims{Subject: "alice", Expiry: jwt.NewNumericDate(exp)}, perm)
			c, err := v.Verify(context.Background(), tok)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if c.Subject != "alice" || !c.Expiry.Equal(exp) || !c.HasPermissions ||
				!slices.Equal(c.Subscribe, []string{"users/alice/#"}) || c.Publish == nil || len(c.Publish) != 0 {
				t.Errorf("got %+v, want alice, exp %s, subscribe [users/alice/#], publish []", c, exp)
			}
		})
	}
}

func TestVerifyRefusals(t *testing.T) {
	hs, ec, rsaKey := secret(t, 32), newEC(t, elliptic.P256()), newRSA(t)
	v := verifier(t, config.JWT{
		Keys:   []string{writeFile(t, "hs.secret", hs), writeFile(t, "es.pub", pemPublic(t, &ec.PublicKey))},
		Issuer: "https://issuer.example", Audience: "wssgate",
	})
	good := func() jwt.Claims {
		c := valid("alice")
		c.Issuer, c.Audience = "https://issuer.example", jwt.Audience{"other", "wssgate"}
		return c
	}
	with := func(f func(*jwt.Claims)) jwt.Claims { c := good(); f(&c); return c }
	ago := func(d time.Duration) *jwt.NumericDate { return jwt.NewNumericDate(time.Now().Add(-d)) }
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"alice","exp":4102444800}`)) + "."
	tests := []struct {
		name string
		tok  string
		want SubReason
	}{
		{"ok HS256", sign(t, jose.HS256, hs, "", good()), ""},
		{"ok ES256", sign(t, jose.ES256, ec, "", good()), ""},
		{"ok within leeway", sign(t, jose.HS256, hs, "", with(func(c *jwt.Claims) { c.Expiry = ago(10 * time.Second) })), ""},
		{"empty", "", ReasonMissing},
		{"garbage", "not.a.jwt", ReasonMalformed},
		{"too long", strings.Repeat("a", MaxTokenBytes+1), ReasonMalformed},
		{"other HMAC secret", sign(t, jose.HS256, secret(t, 32), "", good()), ReasonBadSignature},
		{"other ES256 key", sign(t, jose.ES256, newEC(t, elliptic.P256()), "", good()), ReasonBadSignature},
		{"alg none", none, ReasonAlgorithm},
		{"alg HS512 not allowed", sign(t, jose.HS512, secret(t, 64), "", good()), ReasonAlgorithm},
		{"RS256 allowed but no RSA key", sign(t, jose.RS256, rsaKey, "", good()), ReasonAlgorithm},
		{"HS256 with the ES256 public key as secret", sign(t, jose.HS256, pemPublic(t, &ec.PublicKey), "", good()), ReasonBadSignature},
		{"expired", sign(t, jose.HS256, hs, "", with(func(c *jwt.Claims) { c.Expiry = ago(time.Minute) })), ReasonExpired},
		{"not yet valid", sign(t, jose.HS256, hs, "", with(func(c *jwt.Claims) { c.NotBefore = ago(-time.Minute) })), ReasonNotYetValid},
		{"issued in the future", sign(t, jose.HS256, hs, "", with(func(c *jwt.Claims) { c.IssuedAt = ago(-time.Hour) })), ReasonNotYetValid},
		{"no exp", sign(t, jose.HS256, hs, "", with(func(c *jwt.Claims) { c.Expiry = nil })), ReasonMalformed},
		{"wrong issuer", sign(t, jose.HS256, hs, "", with(func(c *jwt.Claims) { c.Issuer = "https://evil.example" })), ReasonWrongIssuer},
		{"no issuer", sign(t, jose.HS256, hs, "", with(func(c *jwt.Claims) { c.Issuer = "" })), ReasonWrongIssuer},
		{"wrong audience", sign(t, jose.HS256, hs, "", with(func(c *jwt.Claims) { c.Audience = jwt.Audience{"other"} })), ReasonWrongAudience},
		{"no subject", sign(t, jose.HS256, hs, "", with(func(c *jwt.Claims) { c.Subject = "" })), ReasonNoSubject},
		{"control character in subject", sign(t, jose.HS256, hs, "", with(func(c *jwt.Claims) { c.Subject = "a\nb" })), ReasonNoSubject},
		{"bad permissions claim", sign(t, jose.HS256, hs, "", good(), map[string]any{"wssgate": map[string]any{"subscrbe": []string{"#"}}}), ReasonMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := v.Verify(context.Background(), tt.tok)
			if tt.want == "" {
				if err != nil || c.Subject != "alice" || c.HasPermissions {
					t.Fatalf("got %+v, %v; want alice without permissions claim", c, err)
				}
				return
			}
			wantReason(t, err, tt.want)
			if tt.tok != "" && strings.Contains(err.Error(), tt.tok) {
				t.Errorf("error message contains the token: %v", err)
			}
			if HTTPStatus(err) != 401 {
				t.Errorf("HTTPStatus: got %d, want 401", HTTPStatus(err))
			}
		})
	}
}

func TestVerifyLeewayZero(t *testing.T) {
	hs := secret(t, 32)
	zero := time.Duration(0)
	v := verifier(t, config.JWT{Keys: []string{writeFile(t, "hs", hs)}, Leeway: &zero})
	c := valid("alice")
	c.Expiry = jwt.NewNumericDate(time.Now().Add(-2 * time.Second))
	_, err := v.Verify(context.Background(), sign(t, jose.HS256, hs, "", c))
	wantReason(t, err, ReasonExpired)
	if v.Leeway() != 0 {
		t.Errorf("Leeway: got %s, want 0", v.Leeway())
	}
}

func TestVerifierAlgorithmsNarrowedToKeys(t *testing.T) {
	ec := newEC(t, elliptic.P256())
	v := verifier(t, config.JWT{Keys: []string{writeFile(t, "hs", secret(t, 32)), writeFile(t, "es", pemPublic(t, &ec.PublicKey))}})
	if got, want := v.Algorithms(), []string{"ES256", "HS256"}; !slices.Equal(got, want) {
		t.Errorf("Algorithms: got %v, want %v", got, want)
	}
}

func TestNewVerifierErrors(t *testing.T) {
	ec := newEC(t, elliptic.P256())
	der, err := x509.MarshalPKCS8PrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	priv := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	smallRSA, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  config.JWT
		want string
	}{
		{"no keys", config.JWT{}, "needs keys or jwks_url"},
		{"short secret", config.JWT{Keys: []string{writeFile(t, "s", []byte("too-short-secret\n"))}}, "HMAC secret is 16 bytes, want at least 32"},
		{"private key", config.JWT{Keys: []string{writeFile(t, "k", priv)}}, "holds a PRIVATE KEY: give the public key only"},
		{"missing file", config.JWT{Keys: []string{"/nonexistent/key.pem"}}, "load jwt key /nonexistent/key.pem"},
		{"small RSA", config.JWT{Keys: []string{writeFile(t, "r", pemPublic(t, &smallRSA.PublicKey))}}, "RSA key of 1024 bits"},
		{"empty PEM", config.JWT{Keys: []string{writeFile(t, "e", []byte("-----BEGIN NOTHING-----\n-----END NOTHING-----\n"))}}, "no PUBLIC KEY or CERTIFICATE block"},
		{"key outside algorithms", config.JWT{Keys: []string{writeFile(t, "s", secret(t, 32))}, Algorithms: []string{"ES256"}}, "none of which is in algorithms"},
		{"alg none", config.JWT{Keys: []string{writeFile(t, "s", secret(t, 32))}, Algorithms: []string{"none"}}, `"none" is never accepted`},
		{"jwks http", config.JWT{JWKSURL: "http://idp.example/jwks"}, "want an https:// URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewVerifier(tt.cfg, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestHMACSecretTrailingNewline(t *testing.T) {
	hs := secret(t, 32)
	v := verifier(t, config.JWT{Keys: []string{writeFile(t, "hs", append(append([]byte{}, hs...), '\n'))}})
	if _, err := v.Verify(context.Background(), sign(t, jose.HS256, hs, "", valid("alice"))); err != nil {
		t.Fatalf("secret with its newline removed: %v", err)
	}
	withNL := append(append([]byte{}, hs...), '\n')
	_, err := v.Verify(context.Background(), sign(t, jose.HS256, withNL, "", valid("alice")))
	wantReason(t, err, ReasonBadSignature)
}
