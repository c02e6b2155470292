package auth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// JWKS fetching limits.
const (
	jwksFetchTimeout = 10 * time.Second
	jwksRefresh      = 10 * time.Minute
	jwksKIDInterval  = time.Minute
	maxJWKSBytes     = 1 << 20
	maxJWKSKeys      = 100
)

// JWKSStats counts a Verifier's JWKS fetches.
type JWKSStats struct {
	FetchesOK     uint64    // fetches that replaced the key set
	FetchesFailed uint64    // fetches that kept the previous keys
	KIDFetches    uint64    // fetches started by an unknown kid
	KIDLimited    uint64    // unknown kids refused a fetch (at most one a minute)
	LastError     string    // of the last failed fetch, "" if none
	LastSuccess   time.Time // zero until a fetch succeeds
	Keys          int       // usable keys in the current set
}

// keySet is one fetched JWKS, never modified after it is published.
type keySet struct {
	all   []*key
	byKID map[string][]*key
}

// fetchCall is one fetch in flight; err is set before done is closed.
type fetchCall struct {
	done chan struct{}
	err  error
}

// jwksSource keeps the keys of one JWKS URL. It owns its refresh loop and
// fetch goroutines (tracked by wg); shutdown stops them, close waits.
type jwksSource struct {
	url     string // redacted, for logs and errors
	rawURL  string
	client  *http.Client
	log     *slog.Logger
	every   time.Duration // scheduled refresh interval
	minKID  time.Duration // minimum interval between unknown-kid fetches
	now     func() time.Time
	keys    atomic.Pointer[keySet]
	ctx     context.Context // cancelled by shutdown; fetches run under it
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	started atomic.Bool // set by the first Verifier.Start

	mu       sync.Mutex // guards the fields below
	closed   bool
	inflight *fetchCall
	lastKID  time.Time // when an unknown kid last started a fetch
	stats    JWKSStats
}

func newJWKS(rawURL, caFile string, log *slog.Logger) (*jwksSource, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("auth: jwks_url: want an https:// URL, got %q", rawURL)
	}
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("auth: read jwks_ca: %w", err)
		}
		tlsConf.RootCAs = x509.NewCertPool()
		if !tlsConf.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("auth: jwks_ca %s: no PEM certificate found", caFile)
		}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsConf
	j := &jwksSource{
		url: u.Redacted(), rawURL: rawURL, log: log,
		client: &http.Client{Transport: tr, Timeout: jwksFetchTimeout, CheckRedirect: httpsOnly},
		every:  jwksRefresh, minKID: jwksKIDInterval, now: time.Now,
	}
	j.ctx, j.cancel = context.WithCancel(context.Background())
	return j, nil
}

func httpsOnly(req *http.Request, via []*http.Request) error {
	if req.URL.Scheme != "https" || len(via) >= 5 {
		return errors.New("redirect refused: https only, at most 5")
	}
	return nil
}

// Start fetches the JWKS (when jwks_url is set) and starts refreshing it
// every 10 minutes until ctx ends or Close is called. A failed first fetch
// is an error unless keys from files exist (then it is logged). Without
// jwks_url Start does nothing.
func (v *Verifier) Start(ctx context.Context) error {
	if v.jwks == nil {
		return nil
	}
	if v.jwks.started.Swap(true) {
		return errors.New("auth: verifier already started")
	}
	err := v.jwks.start(ctx)
	if err == nil {
		return nil
	}
	if len(v.static) == 0 {
		v.jwks.close()
		return fmt.Errorf("auth: fetch jwks: %w", err)
	}
	v.log.Warn("jwks fetch failed; verifying with the key files until a fetch succeeds", "url", v.jwks.url, "err", err)
	return nil
}

// Close stops the JWKS goroutines and waits for them. Idempotent.
func (v *Verifier) Close() {
	if v.jwks != nil {
		v.jwks.close()
	}
}

// Stats returns the JWKS counters (zero without jwks_url).
func (v *Verifier) Stats() JWKSStats {
	if v.jwks == nil {
		return JWKSStats{}
	}
	v.jwks.mu.Lock()
	defer v.jwks.mu.Unlock()
	return v.jwks.stats
}

func (j *jwksSource) start(ctx context.Context) error {
	c := j.fetchShared()
	select {
	case <-c.done:
	case <-ctx.Done():
		j.shutdown()
		return ctx.Err()
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.closed {
		j.wg.Add(1)
		go j.loop(ctx)
	}
	return c.err
}

// loop refreshes every j.every until ctx ends or shutdown.
func (j *jwksSource) loop(ctx context.Context) {
	defer j.wg.Done()
	t := time.NewTicker(j.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			j.shutdown()
			return
		case <-j.ctx.Done():
			return
		case <-t.C:
			j.fetchShared()
		}
	}
}

func (j *jwksSource) shutdown() {
	j.mu.Lock()
	j.closed = true
	j.mu.Unlock()
	j.cancel()
}

func (j *jwksSource) close() {
	j.shutdown()
	j.wg.Wait()
}

func (j *jwksSource) current() *keySet {
	if s := j.keys.Load(); s != nil {
		return s
	}
	return &keySet{}
}

// fetchShared joins the fetch in flight or starts one.
func (j *jwksSource) fetchShared() *fetchCall {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.fetchLocked()
}

func (j *jwksSource) fetchLocked() *fetchCall {
	if j.inflight != nil {
		return j.inflight
	}
	c := &fetchCall{done: make(chan struct{})}
	if j.closed {
		c.err = errors.New("verifier closed")
		close(c.done)
		return c
	}
	j.inflight = c
	j.wg.Add(1)
	go func() {
		defer j.wg.Done()
		set, err := j.fetch(j.ctx)
		j.mu.Lock()
		j.record(set, err)
		j.inflight = nil
		j.mu.Unlock()
		c.err = err
		close(c.done)
	}()
	return c
}

// record publishes set or counts err; j.mu is held.
func (j *jwksSource) record(set *keySet, err error) {
	if err != nil {
		j.stats.FetchesFailed++
		j.stats.LastError = err.Error()
		j.log.Warn("jwks fetch failed; keeping the previous keys", "url", j.url, "keys", j.stats.Keys, "err", err)
		return
	}
	j.keys.Store(set)
	j.stats.FetchesOK++
	j.stats.LastSuccess = j.now()
	j.stats.Keys = len(set.all)
	j.log.Debug("jwks fetched", "url", j.url, "keys", len(set.all))
}

// refetchForKID fetches the JWKS because a token named an unknown kid: it
// joins a fetch in flight, or starts one unless an unknown kid already did
// within minKID. It reports whether a fetch ended (the caller looks again).
// A nil source never fetches.
func (j *jwksSource) refetchForKID(ctx context.Context) bool {
	if j == nil {
		return false
	}
	j.mu.Lock()
	c := j.inflight
	if c == nil {
		now := j.now()
		if !j.lastKID.IsZero() && now.Sub(j.lastKID) < j.minKID {
			j.stats.KIDLimited++
			j.mu.Unlock()
			return false
		}
		j.lastKID = now
		j.stats.KIDFetches++
		c = j.fetchLocked()
	}
	j.mu.Unlock()
	select {
	case <-c.done:
		return c.err == nil
	case <-ctx.Done():
		return false
	}
}

// fetch GETs and parses the key set.
func (j *jwksSource) fetch(ctx context.Context) (*keySet, error) {
	ctx, cancel := context.WithTimeout(ctx, jwksFetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, j.rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", j.url, err)
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := j.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("get jwks: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("get %s: status %d, want 200", j.url, resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", j.url, err)
	}
	if len(b) > maxJWKSBytes {
		return nil, fmt.Errorf("read %s: body larger than %d bytes", j.url, maxJWKSBytes)
	}
	return parseJWKS(b)
}

// parseJWKS keeps the usable public signing keys of a JWKS document; keys
// of other kinds (encryption, symmetric, private, unknown) are skipped.
func parseJWKS(b []byte) (*keySet, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("decode jwks: %w", err)
	}
	if len(doc.Keys) > maxJWKSKeys {
		return nil, fmt.Errorf("decode jwks: %d keys, at most %d", len(doc.Keys), maxJWKSKeys)
	}
	set := &keySet{byKID: make(map[string][]*key)}
	for _, raw := range doc.Keys {
		k, ok := jwksKey(raw)
		if !ok {
			continue
		}
		set.all = append(set.all, k)
		if k.kid != "" {
			set.byKID[k.kid] = append(set.byKID[k.kid], k)
		}
	}
	if len(set.all) == 0 {
		return nil, fmt.Errorf("decode jwks: no usable signing key among %d", len(doc.Keys))
	}
	return set, nil
}

func jwksKey(raw json.RawMessage) (*key, bool) {
	var jk jose.JSONWebKey
	if err := jk.UnmarshalJSON(raw); err != nil || !jk.Valid() || !jk.IsPublic() {
		return nil, false
	}
	if jk.Use != "" && jk.Use != "sig" {
		return nil, false
	}
	k, err := newKey(jk.KeyID, jk.Key)
	if err != nil {
		return nil, false
	}
	if jk.Algorithm != "" {
		a := jose.SignatureAlgorithm(jk.Algorithm)
		if !slices.Contains(k.algs, a) {
			return nil, false
		}
		k.algs = []jose.SignatureAlgorithm{a}
	}
	return k, true
}
