package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/wssgate/wssgate/gateway/config"
)

// MaxTokenBytes bounds the length of a token Verify looks at.
const MaxTokenBytes = 16 << 10

// maxSubjectBytes bounds the "sub" claim that becomes a session identity.
const maxSubjectBytes = 256

// Claims is what a verified token says about its holder.
type Claims struct {
	// Subject is the "sub" claim: the session's identity. Never empty.
	Subject string
	// Expiry is the "exp" claim (without leeway). Never zero.
	Expiry time.Time
	// Subscribe and Publish are the permissions claim's lists; meaningful
	// only when HasPermissions (the claim was present): pass them to Narrow.
	Subscribe, Publish []string
	HasPermissions     bool
}

// permissions is the JSON of the permissions claim.
type permissions struct {
	Subscribe []string `json:"subscribe"`
	Publish   []string `json:"publish"`
}

// Verifier checks signed JWTs against keys from files and, optionally, a
// JWKS URL. Verify is safe for concurrent use. With a JWKS URL the Verifier
// owns a refresh goroutine and fetch goroutines: Start starts them, the
// context given to Start or Close stops them.
type Verifier struct {
	log      *slog.Logger
	algs     []jose.SignatureAlgorithm // allowed and verifiable by some key
	issuer   string
	audience string
	leeway   time.Duration
	claim    string
	static   []*key      // from jwt.keys files; they carry no kid
	jwks     *jwksSource // nil without jwt.jwks_url
	now      func() time.Time
}

// NewVerifier builds a Verifier from cfg, reading every key file. It does
// not fetch the JWKS: call Start for that. log may be nil (slog.Default).
func NewVerifier(cfg config.JWT, log *slog.Logger) (*Verifier, error) {
	if log == nil {
		log = slog.Default()
	}
	if !cfg.Enabled() {
		return nil, errors.New("auth: jwt needs keys or jwks_url")
	}
	v := &Verifier{
		log: log, issuer: cfg.Issuer, audience: cfg.Audience,
		leeway: config.DefaultJWTLeeway, claim: cfg.PermissionsClaim, now: time.Now,
	}
	if cfg.Leeway != nil {
		v.leeway = *cfg.Leeway
	}
	if v.claim == "" {
		v.claim = config.DefaultPermissionsClaim
	}
	wanted, err := parseAlgorithms(cfg.Algorithms)
	if err != nil {
		return nil, err
	}
	for _, f := range cfg.Keys {
		keys, err := loadKeyFile(f)
		if err != nil {
			return nil, fmt.Errorf("auth: load jwt key %s: %w", f, err)
		}
		for _, k := range keys {
			if !slices.ContainsFunc(k.algs, func(a jose.SignatureAlgorithm) bool { return slices.Contains(wanted, a) }) {
				return nil, fmt.Errorf("auth: jwt key %s verifies %v, none of which is in algorithms %v", f, k.algs, wanted)
			}
		}
		v.static = append(v.static, keys...)
	}
	if cfg.JWKSURL != "" {
		if v.jwks, err = newJWKS(cfg.JWKSURL, cfg.JWKSCA, log); err != nil {
			return nil, err
		}
	}
	v.algs = v.usable(wanted)
	if len(v.algs) == 0 {
		return nil, fmt.Errorf("auth: none of algorithms %v can be verified with the configured keys", wanted)
	}
	return v, nil
}

// parseAlgorithms checks the configured allow-list (default when empty).
func parseAlgorithms(names []string) ([]jose.SignatureAlgorithm, error) {
	if len(names) == 0 {
		names = config.DefaultJWTAlgorithms
	}
	out := make([]jose.SignatureAlgorithm, 0, len(names))
	for _, n := range names {
		if strings.EqualFold(n, "none") {
			return nil, errors.New(`auth: jwt algorithm "none" is never accepted`)
		}
		if !slices.Contains(config.JWTAlgorithms, n) {
			return nil, fmt.Errorf("auth: unknown jwt algorithm %q", n)
		}
		out = append(out, jose.SignatureAlgorithm(n))
	}
	return out, nil
}

// usable keeps the wanted algorithms some key can verify: a static key of
// that kind, or any asymmetric algorithm when a JWKS may supply the key.
func (v *Verifier) usable(wanted []jose.SignatureAlgorithm) []jose.SignatureAlgorithm {
	var out []jose.SignatureAlgorithm
	for _, a := range wanted {
		ok := v.jwks != nil && !strings.HasPrefix(string(a), "HS")
		for _, k := range v.static {
			ok = ok || slices.Contains(k.algs, a)
		}
		if ok {
			out = append(out, a)
		}
	}
	return out
}

// Algorithms returns the algorithms this Verifier accepts.
func (v *Verifier) Algorithms() []string {
	out := make([]string, len(v.algs))
	for i, a := range v.algs {
		out[i] = string(a)
	}
	return out
}

// Leeway is the clock skew allowed on exp: a session with a token of expiry
// E should be closed at E plus Leeway.
func (v *Verifier) Leeway() time.Duration { return v.leeway }

// Verify checks token's signature, algorithm and claims and returns its
// claims. Errors are *Error values whose message never contains the token.
// ctx bounds only the wait for a JWKS refetch caused by an unknown kid.
func (v *Verifier) Verify(ctx context.Context, token string) (Claims, error) {
	if token == "" {
		return Claims{}, fail(ReasonMissing, nil)
	}
	if len(token) > MaxTokenBytes {
		return Claims{}, fail(ReasonMalformed, fmt.Errorf("token longer than %d bytes", MaxTokenBytes))
	}
	sig, err := jose.ParseSignedCompact(token, v.algs)
	if err != nil {
		var alg *jose.ErrUnexpectedSignatureAlgorithm
		if errors.As(err, &alg) {
			return Claims{}, fail(ReasonAlgorithm, fmt.Errorf("alg %q is not allowed (allowed: %v)", clip(string(alg.Got)), v.algs))
		}
		return Claims{}, fail(ReasonMalformed, errors.New("not a signed JWT in compact form"))
	}
	payload, err := v.verifySignature(ctx, sig)
	if err != nil {
		return Claims{}, err
	}
	return v.claims(payload)
}

// verifySignature finds a key that verifies sig and returns the payload.
func (v *Verifier) verifySignature(ctx context.Context, sig *jose.JSONWebSignature) ([]byte, error) {
	h := sig.Signatures[0].Header
	alg, kid := jose.SignatureAlgorithm(h.Algorithm), h.KeyID
	cands, kidKnown := v.candidates(alg, kid)
	if p, ok := tryKeys(sig, cands); ok {
		return p, nil
	}
	if !kidKnown && v.jwks.refetchForKID(ctx) {
		cands, kidKnown = v.candidates(alg, kid)
		if p, ok := tryKeys(sig, cands); ok {
			return p, nil
		}
	}
	switch {
	case !kidKnown:
		return nil, fail(ReasonUnknownKID, fmt.Errorf("kid %q", clip(kid)))
	case len(cands) == 0:
		return nil, fail(ReasonAlgorithm, fmt.Errorf("no key for alg %s", alg))
	}
	return nil, fail(ReasonBadSignature, fmt.Errorf("alg %s, %d key(s) tried", alg, len(cands)))
}

// candidates returns the keys that may verify a token with alg and kid, and
// whether kid is known (always true without kid or without a JWKS: keys
// from files carry no kid and are tried for every token of their kind).
func (v *Verifier) candidates(alg jose.SignatureAlgorithm, kid string) ([]*key, bool) {
	var out []*key
	known := true
	if v.jwks != nil {
		set := v.jwks.current()
		pool := set.all
		if kid != "" {
			pool, known = set.byKID[kid]
		}
		out = appendFitting(out, pool, alg)
	}
	return appendFitting(out, v.static, alg), known
}

func appendFitting(out, keys []*key, alg jose.SignatureAlgorithm) []*key {
	for _, k := range keys {
		if slices.Contains(k.algs, alg) {
			out = append(out, k)
		}
	}
	return out
}

func tryKeys(sig *jose.JSONWebSignature, keys []*key) ([]byte, bool) {
	for _, k := range keys {
		if p, err := sig.Verify(k.pub); err == nil {
			return p, true
		}
	}
	return nil, false
}

// claims decodes and validates a verified payload.
func (v *Verifier) claims(payload []byte) (Claims, error) {
	var std jwt.Claims
	if err := json.Unmarshal(payload, &std); err != nil {
		return Claims{}, fail(ReasonMalformed, errors.New("claims are not a JSON object of registered claims"))
	}
	if std.Expiry == nil {
		return Claims{}, fail(ReasonMalformed, errors.New("no exp claim"))
	}
	exp := jwt.Expected{Issuer: v.issuer, Time: v.now()}
	if v.audience != "" {
		exp.AnyAudience = jwt.Audience{v.audience}
	}
	if err := std.ValidateWithLeeway(exp, v.leeway); err != nil {
		return Claims{}, v.claimError(err, &std)
	}
	if !usableSubject(std.Subject) {
		return Claims{}, fail(ReasonNoSubject, errors.New("sub must be 1 to 256 bytes of printable UTF-8"))
	}
	c := Claims{Subject: std.Subject, Expiry: std.Expiry.Time()}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(payload, &raw); err != nil {
		return Claims{}, fail(ReasonMalformed, errors.New("claims are not a JSON object"))
	}
	if p, ok := raw[v.claim]; ok && !bytes.Equal(bytes.TrimSpace(p), []byte("null")) {
		var perm permissions
		dec := json.NewDecoder(bytes.NewReader(p))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&perm); err != nil {
			return Claims{}, fail(ReasonMalformed, fmt.Errorf("claim %q: want {\"subscribe\":[...],\"publish\":[...]}: %w", v.claim, err))
		}
		c.Subscribe, c.Publish, c.HasPermissions = perm.Subscribe, perm.Publish, true
	}
	return c, nil
}

func (v *Verifier) claimError(err error, c *jwt.Claims) error {
	switch {
	case errors.Is(err, jwt.ErrExpired):
		return fail(ReasonExpired, fmt.Errorf("exp %s", c.Expiry.Time().UTC().Format(time.RFC3339)))
	case errors.Is(err, jwt.ErrNotValidYet):
		return fail(ReasonNotYetValid, fmt.Errorf("nbf %s", c.NotBefore.Time().UTC().Format(time.RFC3339)))
	case errors.Is(err, jwt.ErrIssuedInTheFuture):
		return fail(ReasonNotYetValid, fmt.Errorf("iat %s is in the future", c.IssuedAt.Time().UTC().Format(time.RFC3339)))
	case errors.Is(err, jwt.ErrInvalidIssuer):
		return fail(ReasonWrongIssuer, fmt.Errorf("iss %q, want %q", clip(c.Issuer), v.issuer))
	case errors.Is(err, jwt.ErrInvalidAudience):
		return fail(ReasonWrongAudience, fmt.Errorf("aud %q, want %q", clipAll(c.Audience), v.audience))
	}
	return fail(ReasonMalformed, err)
}

func usableSubject(s string) bool {
	return s != "" && len(s) <= maxSubjectBytes && utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl)
}

// clip shortens a value taken from a token before it goes into an error.
func clip(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}

func clipAll(list []string) []string {
	if len(list) > 4 {
		list = list[:4]
	}
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = clip(s)
	}
	return out
}
