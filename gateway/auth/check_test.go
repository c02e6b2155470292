package auth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wssgate/wssgate/gateway/config"
)

// appSessions is the app's session endpoint: it answers by the "session"
// cookie and records the headers it was sent.
type appSessions struct {
	mu   sync.Mutex // guards last
	last http.Header
}

func (a *appSessions) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.last = r.Header.Clone()
	a.last.Set("Host", r.Host)
	a.mu.Unlock()
	c, err := r.Cookie("session")
	if err != nil {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	switch c.Value {
	case "alice":
		_, _ = w.Write([]byte(`{"identity":"alice","subscribe":["users/alice/#"],"publish":[],"expires_at":"2999-01-01T00:00:00Z"}`))
	case "plain":
		_, _ = w.Write([]byte(`{"identity":"carol"}`))
	case "forbidden":
		w.WriteHeader(http.StatusForbidden)
	case "boom":
		w.WriteHeader(http.StatusInternalServerError)
	case "redirect":
		http.Redirect(w, r, "/login", http.StatusFound)
	case "slow":
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	case "extra":
		_, _ = w.Write([]byte(`{"identity":"alice","subscrbe":["#"]}`))
	case "noid":
		_, _ = w.Write([]byte(`{"subscribe":["#"]}`))
	case "badtime":
		_, _ = w.Write([]byte(`{"identity":"alice","expires_at":"tomorrow"}`))
	case "past":
		_, _ = w.Write([]byte(`{"identity":"alice","expires_at":"2000-01-01T00:00:00Z"}`))
	case "two":
		_, _ = w.Write([]byte(`{"identity":"alice"}{"identity":"mallory"}`))
	case "huge":
		_, _ = w.Write([]byte(`{"identity":"alice","subscribe":["` + strings.Repeat("a", maxCheckBody) + `"]}`))
	default:
		w.WriteHeader(http.StatusUnauthorized)
	}
}

func (a *appSessions) sent() http.Header {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.last
}

func upgradeRequest(cookie string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "https://gw.example:8443/ws", nil)
	r.RemoteAddr = "203.0.113.7:51234"
	r.Header.Set("Origin", "https://gw.example:8443")
	r.Header.Set("X-Secret", "not forwarded")
	r.Header.Set("X-Forwarded-For", "198.51.100.1") // the client's claim is not passed on
	if cookie != "" {
		r.Header.Set("Cookie", "session="+cookie)
	}
	return r
}

func newChecker(t *testing.T, url string, timeout time.Duration) *Checker {
	t.Helper()
	c, err := NewChecker(config.Check{URL: url, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCheckAnswers(t *testing.T) {
	app := &appSessions{}
	srv := httptest.NewServer(app)
	t.Cleanup(srv.Close)
	c := newChecker(t, srv.URL+"/session", 300*time.Millisecond)
	tests := []struct {
		cookie string
		status int
		reason SubReason
	}{
		{"alice", 200, ""},
		{"plain", 200, ""},
		{"", 401, ReasonCheckRefused},
		{"nobody", 401, ReasonCheckRefused},
		{"forbidden", 403, ReasonCheckRefused},
		{"boom", 503, ReasonCheckUnavailable},
		{"redirect", 503, ReasonCheckUnavailable},
		{"slow", 503, ReasonCheckUnavailable},
		{"extra", 503, ReasonCheckUnavailable},
		{"noid", 503, ReasonCheckUnavailable},
		{"badtime", 503, ReasonCheckUnavailable},
		{"two", 503, ReasonCheckUnavailable},
		{"huge", 503, ReasonCheckUnavailable},
		{"past", 401, ReasonExpired},
	}
	for _, tt := range tests {
		t.Run("cookie="+tt.cookie, func(t *testing.T) {
			res, err := c.Check(context.Background(), upgradeRequest(tt.cookie))
			if got := HTTPStatus(err); got != tt.status {
				t.Fatalf("status: got %d (%v), want %d", got, err, tt.status)
			}
			if got := Reason(err); got != tt.reason {
				t.Fatalf("reason: got %q (%v), want %q", got, err, tt.reason)
			}
			if err != nil && strings.Contains(err.Error(), "session=") {
				t.Errorf("error leaks the cookie: %v", err)
			}
			if tt.cookie == "alice" {
				want := time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC)
				if res.Identity != "alice" || !res.HasPermissions || !slices.Equal(res.Subscribe, []string{"users/alice/#"}) ||
					res.Publish == nil || len(res.Publish) != 0 || !res.Expiry.Equal(want) {
					t.Errorf("got %+v", res)
				}
			}
			if tt.cookie == "plain" && (res.Identity != "carol" || res.HasPermissions || !res.Expiry.IsZero()) {
				t.Errorf("got %+v, want carol without permissions or expiry", res)
			}
		})
	}
}

func TestCheckForwardsHeaders(t *testing.T) {
	app := &appSessions{}
	srv := httptest.NewServer(app)
	t.Cleanup(srv.Close)
	c := newChecker(t, srv.URL+"/session", time.Second)
	r := upgradeRequest("alice")
	r.Header.Set("Authorization", "Bearer abc")
	if _, err := c.Check(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	h := app.sent()
	for name, want := range map[string]string{
		"Cookie":           "session=alice",
		"Authorization":    "Bearer abc",
		"X-Forwarded-For":  "203.0.113.7",
		"X-Forwarded-Host": "gw.example:8443",
		"Origin":           "https://gw.example:8443",
		"X-Secret":         "",
	} {
		if got := h.Get(name); got != want {
			t.Errorf("%s: got %q, want %q", name, got, want)
		}
	}
}

func TestCheckServerStopped(t *testing.T) {
	srv := httptest.NewServer(&appSessions{})
	url := srv.URL + "/session"
	srv.Close()
	c := newChecker(t, url, time.Second)
	_, err := c.Check(context.Background(), upgradeRequest("alice"))
	if HTTPStatus(err) != 503 || Reason(err) != ReasonCheckUnavailable {
		t.Fatalf("got %v (status %d), want 503 check_unavailable", err, HTTPStatus(err))
	}
}

func TestNewCheckerErrors(t *testing.T) {
	for _, u := range []string{"", "ftp://x/", "http://"} {
		if _, err := NewChecker(config.Check{URL: u}); err == nil || !strings.Contains(err.Error(), "check.url") {
			t.Errorf("NewChecker(%q): got %v, want an error naming check.url", u, err)
		}
	}
}
