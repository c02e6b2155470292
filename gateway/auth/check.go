package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/wssgate/wssgate/gateway/config"
)

// maxCheckBody bounds the session check's answer.
const maxCheckBody = 64 << 10

// CheckResult is what the app's session check says about an upgrade.
type CheckResult struct {
	// Identity is the session's identity. Never empty.
	Identity string
	// Subscribe and Publish narrow the listener's lists when HasPermissions
	// (either field was in the answer): pass them to Narrow.
	Subscribe, Publish []string
	HasPermissions     bool
	// Expiry is expires_at; zero when the answer had none.
	Expiry time.Time
}

// checkAnswer is the JSON the check endpoint answers 200 with.
type checkAnswer struct {
	Identity  string   `json:"identity"`
	Subscribe []string `json:"subscribe"`
	Publish   []string `json:"publish"`
	ExpiresAt string   `json:"expires_at"`
}

// Checker asks the app's endpoint whether an upgrade request belongs to a
// logged-in user (mode check). Safe for concurrent use; it starts no
// goroutines of its own (net/http's idle connections aside).
type Checker struct {
	url     string
	display string // redacted URL for errors
	headers []string
	timeout time.Duration
	client  *http.Client
	now     func() time.Time
}

// NewChecker builds a Checker from cfg (defaults applied to zero values).
func NewChecker(cfg config.Check) (*Checker, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("auth: check.url: want an http:// or https:// URL, got %q", cfg.URL)
	}
	c := &Checker{
		url: cfg.URL, display: u.Redacted(), headers: cfg.ForwardHeaders, timeout: cfg.Timeout, now: time.Now,
	}
	if c.headers == nil {
		c.headers = config.DefaultForwardHeaders
	}
	if c.timeout <= 0 {
		c.timeout = config.DefaultCheckTimeout
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil // the credentials forwarded go to the app only
	c.client = &http.Client{
		Transport: tr,
		Timeout:   c.timeout,
		// A redirect (e.g. to a login page) is an answer, not a hop to follow.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c, nil
}

// Check sends GET url with r's forwarded headers plus X-Forwarded-For (r's
// remote IP), X-Forwarded-Host (r.Host) and Origin. 200 with a valid answer
// admits; 401 or 403 refuse with that status (check_refused); anything else
// (timeout, connection error, other status, bad answer) refuses with 503
// (check_unavailable): the check fails closed.
func (c *Checker) Check(ctx context.Context, r *http.Request) (CheckResult, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
	if err != nil {
		return CheckResult{}, c.unavailable(err)
	}
	for _, name := range c.headers {
		for _, v := range r.Header.Values(name) {
			req.Header.Add(name, v)
		}
	}
	if ip, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		req.Header.Set("X-Forwarded-For", ip)
	} else if r.RemoteAddr != "" {
		req.Header.Set("X-Forwarded-For", r.RemoteAddr)
	}
	if r.Host != "" {
		req.Header.Set("X-Forwarded-Host", r.Host)
	}
	if o := r.Header.Get("Origin"); o != "" {
		req.Header.Set("Origin", o)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return CheckResult{}, c.unavailable(unwrapURLError(err))
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		return c.decode(resp.Body)
	case http.StatusUnauthorized, http.StatusForbidden:
		return CheckResult{}, &Error{Reason: ReasonCheckRefused, Status: resp.StatusCode,
			Err: fmt.Errorf("session check answered %d", resp.StatusCode)}
	}
	return CheckResult{}, c.unavailable(fmt.Errorf("answered %d, want 200, 401 or 403", resp.StatusCode))
}

// decode reads a 200 answer strictly: known fields only, one JSON object.
func (c *Checker) decode(body io.Reader) (CheckResult, error) {
	b, err := io.ReadAll(io.LimitReader(body, maxCheckBody+1))
	if err != nil {
		return CheckResult{}, c.unavailable(fmt.Errorf("read answer: %w", err))
	}
	if len(b) > maxCheckBody {
		return CheckResult{}, c.unavailable(fmt.Errorf("answer larger than %d bytes", maxCheckBody))
	}
	var a checkAnswer
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		return CheckResult{}, c.unavailable(fmt.Errorf(`decode answer (want {"identity":...,"subscribe":[...],"publish":[...],"expires_at":"RFC 3339"}): %w`, err))
	}
	if dec.More() {
		return CheckResult{}, c.unavailable(errors.New("decode answer: data after the JSON object"))
	}
	if !usableSubject(a.Identity) {
		return CheckResult{}, c.unavailable(errors.New("answer has no usable identity (1 to 256 bytes of printable UTF-8)"))
	}
	res := CheckResult{Identity: a.Identity, Subscribe: a.Subscribe, Publish: a.Publish,
		HasPermissions: a.Subscribe != nil || a.Publish != nil}
	if a.ExpiresAt != "" {
		if res.Expiry, err = time.Parse(time.RFC3339, a.ExpiresAt); err != nil {
			return CheckResult{}, c.unavailable(fmt.Errorf("expires_at %q: want RFC 3339", clip(a.ExpiresAt)))
		}
		if !res.Expiry.After(c.now()) {
			return CheckResult{}, &Error{Reason: ReasonExpired,
				Err: fmt.Errorf("session check's expires_at %s has passed", a.ExpiresAt)}
		}
	}
	return res, nil
}

func (c *Checker) unavailable(err error) *Error {
	return &Error{Reason: ReasonCheckUnavailable, Status: http.StatusServiceUnavailable,
		Err: fmt.Errorf("GET %s: %w", c.display, err)}
}

// unwrapURLError drops *url.Error's "Get <url>:" prefix (the URL is added
// once, redacted, by unavailable).
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return fmt.Errorf("timeout: %w", ue.Err)
		}
		return ue.Err
	}
	return err
}
