package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/wssgate/wssgate/gateway/config"
)

// jwksServer is an in-process HTTPS JWKS endpoint whose answer can change.
type jwksServer struct {
	srv    *httptest.Server
	caFile string
	hits   atomic.Int64
	delay  atomic.Int64 // nanoseconds to wait before answering
	mu     sync.Mutex   // guards body and status
	body   []byte
	status int
}

func newJWKSServer(t *testing.T) *jwksServer {
	t.Helper()
	s := &jwksServer{status: http.StatusOK}
	s.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		if d := time.Duration(s.delay.Load()); d > 0 {
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				return
			}
		}
		s.mu.Lock()
		body, status := s.body, s.status
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	t.Cleanup(s.srv.Close)
	s.caFile = writeFile(t, "jwks-ca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw}))
	return s
}

// serve publishes the public halves of keys (kid → key).
func (s *jwksServer) serve(t *testing.T, keys map[string]*ecdsa.PrivateKey) {
	t.Helper()
	var set jose.JSONWebKeySet
	for kid, k := range keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.PublicKey, KeyID: kid, Algorithm: "ES256", Use: "sig"})
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	s.answer(http.StatusOK, b)
}

func (s *jwksServer) answer(status int, body []byte) {
	s.mu.Lock()
	s.status, s.body = status, body
	s.mu.Unlock()
}

func (s *jwksServer) cfg() config.JWT {
	return config.JWT{JWKSURL: s.srv.URL + "/.well-known/jwks.json", JWKSCA: s.caFile}
}

// fakeClock drives the unknown-kid rate limit.
type fakeClock struct{ off atomic.Int64 }

func (c *fakeClock) now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *fakeClock) advance(d time.Duration) { c.off.Add(int64(d)) }

func startVerifier(t *testing.T, cfg config.JWT, clock *fakeClock) *Verifier {
	t.Helper()
	v := verifier(t, cfg)
	if clock != nil {
		v.jwks.now = clock.now
	}
	if err := v.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	return v
}

func TestJWKSRotationThroughUnknownKID(t *testing.T) {
	s := newJWKSServer(t)
	a, b := newEC(t, elliptic.P256()), newEC(t, elliptic.P256())
	s.serve(t, map[string]*ecdsa.PrivateKey{"a": a})
	v := startVerifier(t, s.cfg(), nil)
	ctx := context.Background()

	if _, err := v.Verify(ctx, sign(t, jose.ES256, a, "a", valid("alice"))); err != nil {
		t.Fatalf("kid a: %v", err)
	}
	_, err := v.Verify(ctx, sign(t, jose.ES256, b, "a", valid("alice")))
	wantReason(t, err, ReasonBadSignature) // kid a is known: signed by another key

	s.serve(t, map[string]*ecdsa.PrivateKey{"b": b}) // rotate: a retired, b new
	c, err := v.Verify(ctx, sign(t, jose.ES256, b, "b", valid("bob")))
	if err != nil || c.Subject != "bob" {
		t.Fatalf("kid b after rotation: %+v, %v", c, err)
	}
	if got := s.hits.Load(); got != 2 {
		t.Errorf("fetches: got %d, want 2 (start + unknown kid)", got)
	}
	// The retired kid is unknown now, and the rate limit allows no refetch.
	_, err = v.Verify(ctx, sign(t, jose.ES256, a, "a", valid("alice")))
	wantReason(t, err, ReasonUnknownKID)
	st := v.Stats()
	if st.FetchesOK != 2 || st.FetchesFailed != 0 || st.Keys != 1 || st.KIDFetches != 1 || st.KIDLimited != 1 || st.LastSuccess.IsZero() {
		t.Errorf("stats: got %+v", st)
	}
}

func TestJWKSKIDSprayRateLimited(t *testing.T) {
	s := newJWKSServer(t)
	a := newEC(t, elliptic.P256())
	s.serve(t, map[string]*ecdsa.PrivateKey{"a": a})
	clock := &fakeClock{}
	v := startVerifier(t, s.cfg(), clock)
	spray := func(round int) {
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 25 {
					tok := sign(t, jose.ES256, a, fmt.Sprintf("rnd-%d-%d-%d", round, g, i), valid("x"))
					_, err := v.Verify(context.Background(), tok)
					if Reason(err) != ReasonUnknownKID {
						t.Errorf("random kid: got %v, want unknown_kid", err)
						return
					}
				}
			}()
		}
		wg.Wait()
	}
	spray(1)
	if got := s.hits.Load(); got != 2 {
		t.Fatalf("after 200 random kids: %d fetches, want 2 (start + one refetch)", got)
	}
	clock.advance(59 * time.Second)
	spray(2)
	if got := s.hits.Load(); got != 2 {
		t.Fatalf("59s later: %d fetches, want still 2", got)
	}
	clock.advance(2 * time.Second)
	spray(3)
	if got := s.hits.Load(); got != 3 {
		t.Fatalf("61s after the refetch: %d fetches, want 3", got)
	}
	if st := v.Stats(); st.KIDFetches != 2 || st.KIDLimited < 500 {
		t.Errorf("stats: got %+v, want 2 kid fetches and the rest limited", st)
	}
}

func TestJWKSConcurrentUnknownKIDShareOneFetch(t *testing.T) {
	s := newJWKSServer(t)
	a, b := newEC(t, elliptic.P256()), newEC(t, elliptic.P256())
	s.serve(t, map[string]*ecdsa.PrivateKey{"a": a})
	v := startVerifier(t, s.cfg(), nil)
	s.serve(t, map[string]*ecdsa.PrivateKey{"a": a, "b": b})
	s.delay.Store(int64(200 * time.Millisecond))
	tok := sign(t, jose.ES256, b, "b", valid("bob"))
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := v.Verify(context.Background(), tok); err != nil {
				t.Errorf("waiting on the shared fetch: %v", err)
			}
		}()
	}
	wg.Wait()
	if got := s.hits.Load(); got != 2 {
		t.Errorf("fetches: got %d, want 2", got)
	}
}

func TestJWKSFailedFetchKeepsKeys(t *testing.T) {
	s := newJWKSServer(t)
	a := newEC(t, elliptic.P256())
	s.serve(t, map[string]*ecdsa.PrivateKey{"a": a})
	clock := &fakeClock{}
	v := startVerifier(t, s.cfg(), clock)
	ctx := context.Background()
	for i, bad := range []struct {
		status int
		body   string
		want   string
	}{
		{500, "oops", "status 500"},
		{200, "{not json", "decode jwks"},
		{200, `{"keys":[{"kty":"oct","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}]}`, "no usable signing key"},
		{200, `{"keys":[]}` + strings.Repeat(" ", maxJWKSBytes), "larger than"},
	} {
		s.answer(bad.status, []byte(bad.body))
		clock.advance(time.Minute)
		_, err := v.Verify(ctx, sign(t, jose.ES256, a, fmt.Sprintf("new-%d", i), valid("x")))
		wantReason(t, err, ReasonUnknownKID)
		st := v.Stats()
		if st.FetchesFailed != uint64(i+1) || !strings.Contains(st.LastError, bad.want) || st.Keys != 1 {
			t.Fatalf("after bad answer %d: stats %+v, want %d failures, last error with %q, 1 key", i, st, i+1, bad.want)
		}
		if _, err := v.Verify(ctx, sign(t, jose.ES256, a, "a", valid("alice"))); err != nil {
			t.Fatalf("old key after failed fetch %d: %v", i, err)
		}
	}
}

func TestJWKSStartFailure(t *testing.T) {
	s := newJWKSServer(t)
	s.answer(http.StatusInternalServerError, nil)
	v := verifier(t, s.cfg())
	if err := v.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "status 500") {
		t.Fatalf("Start without key files: got %v, want the fetch error", err)
	}

	hs := secret(t, 32)
	cfg := s.cfg()
	cfg.Keys = []string{writeFile(t, "hs", hs)}
	v = verifier(t, cfg)
	if err := v.Start(context.Background()); err != nil {
		t.Fatalf("Start with key files: got %v, want a warning only", err)
	}
	if _, err := v.Verify(context.Background(), sign(t, jose.HS256, hs, "", valid("alice"))); err != nil {
		t.Fatalf("key file while the JWKS is down: %v", err)
	}
}

func TestJWKSWrongCARefused(t *testing.T) {
	s := newJWKSServer(t)
	s.serve(t, map[string]*ecdsa.PrivateKey{"a": newEC(t, elliptic.P256())})
	cfg := s.cfg()
	cfg.JWKSCA = writeFile(t, "other-ca.pem", pemCert(t, newEC(t, elliptic.P256())))
	v := verifier(t, cfg)
	if err := v.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("Start with the wrong jwks_ca: got %v, want a certificate error", err)
	}
}

func TestJWKSScheduledRefreshAndStop(t *testing.T) {
	s := newJWKSServer(t)
	s.serve(t, map[string]*ecdsa.PrivateKey{"a": newEC(t, elliptic.P256())})
	v := verifier(t, s.cfg())
	v.jwks.every = 20 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	if err := v.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := v.Start(ctx); err == nil {
		t.Error("second Start: got nil, want an error")
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.hits.Load() < 4 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := s.hits.Load(); got < 4 {
		t.Fatalf("scheduled refresh: %d fetches in 5s, want at least 4", got)
	}
	cancel()
	done := make(chan struct{})
	go func() { v.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return after the Start context ended")
	}
	n := s.hits.Load()
	time.Sleep(100 * time.Millisecond)
	if got := s.hits.Load(); got != n {
		t.Errorf("fetches after stop: %d → %d, want none", n, got)
	}
}

func TestJWKSWithoutKIDAndWithKeyFiles(t *testing.T) {
	s := newJWKSServer(t)
	a, b := newEC(t, elliptic.P256()), newEC(t, elliptic.P256())
	s.serve(t, map[string]*ecdsa.PrivateKey{"a": a, "b": b})
	hs := secret(t, 32)
	cfg := s.cfg()
	cfg.Keys = []string{writeFile(t, "hs", hs)}
	v := startVerifier(t, cfg, nil)
	ctx := context.Background()
	// No kid: every JWKS key of the algorithm is tried.
	if _, err := v.Verify(ctx, sign(t, jose.ES256, b, "", valid("bob"))); err != nil {
		t.Fatalf("ES256 without kid: %v", err)
	}
	// A kid the JWKS does not know, on a token a key file verifies: no refetch.
	if _, err := v.Verify(ctx, sign(t, jose.HS256, hs, "issuer-kid", valid("carol"))); err != nil {
		t.Fatalf("HS256 with a kid, key file: %v", err)
	}
	if got := s.hits.Load(); got != 1 {
		t.Errorf("fetches: got %d, want 1 (start only)", got)
	}
	// HS256 is allowed by the key file, but an HMAC key never comes from a JWKS.
	if got := v.Algorithms(); !slices.Equal(got, []string{"ES256", "ES384", "RS256", "PS256", "EdDSA", "HS256"}) {
		t.Errorf("Algorithms: got %v", got)
	}
}
