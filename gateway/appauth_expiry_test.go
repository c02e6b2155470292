package gateway

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/gobwas/ws"

	"github.com/wssgate/wssgate/gateway/config"
	"github.com/wssgate/wssgate/gateway/session"
)

func TestAppTokenExpiryAndRefresh(t *testing.T) {
	dir := t.TempDir()
	keys := newTokenKeys(t, dir)
	h := jwtHarness(t, keys, dir)
	start := time.Now()
	plain := h.dial("wss://"+h.app+"/ws?token="+signToken(t, keys["ES256"], "", "alice", 3*time.Second, nil), nil, nil)
	refreshed := h.dial("wss://"+h.app+"/ws?token="+signToken(t, keys["HS256"], "", "alice", 3*time.Second, nil), nil, nil)

	// A refresh for another subject, or with a bad token, keeps the old expiry.
	bob := signToken(t, keys["ES256"], "", "bob", time.Hour, nil)
	if m := request(t, refreshed, `{"type":"refresh","id":7,"token":"`+bob+`"}`); m.Type != "error" || m.Code != "unauthenticated" {
		t.Fatalf("refresh as bob: got %+v, want error unauthenticated", m)
	}
	if m := request(t, refreshed, `{"type":"refresh","id":8,"token":"x.y.z"}`); m.Code != "unauthenticated" {
		t.Fatalf("refresh with garbage: got %+v, want error unauthenticated", m)
	}
	time.Sleep(time.Until(start.Add(1500 * time.Millisecond)))
	next := time.Now().Add(time.Hour).Truncate(time.Second)
	if m := request(t, refreshed, `{"type":"refresh","id":9,"token":"`+signToken(t, keys["RS256"], "", "alice", time.Hour, nil)+`"}`); m.Type != "ack" {
		t.Fatalf("refresh: got %+v, want ack", m)
	}

	code, reason := readClose(t, plain)
	if code != session.CodeTokenExpired || reason != "token expired" {
		t.Errorf("close: got %d %q, want 4003 token expired", code, reason)
	}
	if d := time.Since(start); d < time.Second || d > 8*time.Second {
		t.Errorf("closed after %s, want about 3 s (exp has 1 s granularity)", d)
	}
	time.Sleep(time.Until(start.Add(4500 * time.Millisecond)))
	subscribe(t, refreshed, "users/alice/#") // still open past the old expiry
	_ = plain.Close()
	waitFor(t, "the expired session to end", func() bool { return h.g.Registry().Len() == 1 })
	views := h.g.Sessions()
	if len(views) != 1 || views[0].AuthExpiresAt.Before(next) {
		t.Errorf("sessions after refresh: got %+v, want one expiring at or after %s", views, next)
	}
}

// jwksServer is an in-process HTTPS JWKS endpoint whose key set can change.
type jwksServer struct {
	srv    *httptest.Server
	caFile string
	mu     sync.Mutex // guards body
	body   []byte
}

func newJWKSServer(t *testing.T, dir string) *jwksServer {
	s := &jwksServer{}
	s.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_, _ = w.Write(s.body)
	}))
	t.Cleanup(s.srv.Close)
	s.caFile = writeFile(t, dir, "jwks-ca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw}))
	return s
}

func (s *jwksServer) serve(t *testing.T, kid string, k *ecdsa.PrivateKey) {
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &k.PublicKey, KeyID: kid, Algorithm: "ES256", Use: "sig"}}})
	must(t, err)
	s.mu.Lock()
	s.body = b
	s.mu.Unlock()
}

func TestAppJWKSRotation(t *testing.T) {
	dir := t.TempDir()
	js := newJWKSServer(t, dir)
	k1, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	k2, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	js.serve(t, "k1", k1)
	h := newHarness(t, func(c *config.Config, h *harness) {
		c.App.Auth.Mode = "jwt"
		c.App.Auth.JWT.JWKSURL = js.srv.URL + "/.well-known/jwks.json"
		c.App.Auth.JWT.JWKSCA = js.caFile
	})
	url := func(k *ecdsa.PrivateKey, kid string) string {
		return "wss://" + h.app + "/ws?token=" + signToken(t, tokenKey{alg: jose.ES256, priv: k}, kid, "alice", time.Hour, nil)
	}
	h.dial(url(k1, "k1"), nil, nil)
	js.serve(t, "k2", k2) // rotated: the gateway learns k2 from the first token naming it
	h.dial(url(k2, "k2"), nil, nil)
	if _, err := h.tryDial(url(k1, "k1"), nil, nil); err == nil {
		t.Fatal("a token of the rotated-out key was accepted")
	}
	if got := h.g.app.Counters.AuthFailures()["unknown_kid"]; got != 1 {
		t.Errorf("unknown_kid failures: got %d, want 1", got)
	}
}

func TestAppSessionCheck(t *testing.T) {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie("session")
		switch {
		case err == nil && c.Value == "alice-secret":
			exp := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
			fmt.Fprintf(w, `{"identity":"alice","subscribe":["users/alice/#"],"publish":[],"expires_at":%q}`, exp)
		default:
			http.Error(w, "log in first", http.StatusUnauthorized)
		}
	}))
	h := newHarness(t, func(c *config.Config, h *harness) {
		c.App.Auth.Mode = "check"
		c.App.Auth.Check.URL = app.URL + "/session"
		c.App.Subscribe = []string{"devices/+/up", "users/{sub}/#"}
	})
	c := h.dial("wss://"+h.app+"/ws", http.Header{"Cookie": {"session=alice-secret"}}, nil)
	subscribe(t, c, "users/alice/inbox")
	if m := request(t, c, `{"type":"subscribe","id":2,"channel":"devices/+/up"}`); m.Code != "forbidden" {
		t.Errorf("subscribe outside the check's list: got %+v, want forbidden", m)
	}
	v := h.g.Sessions()[0]
	if v.Info.Identity != "alice" || v.Info.AuthMethod != "check" || v.AuthExpiresAt.IsZero() {
		t.Errorf("session: got identity %q method %q expiry %v", v.Info.Identity, v.Info.AuthMethod, v.AuthExpiresAt)
	}
	if resp, _ := h.upgrade("/ws", http.Header{"Cookie": {"session=mallory"}}); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("refused by the check: got %d, want 401", resp.StatusCode)
	}
	app.Close()
	if resp, _ := h.upgrade("/ws", http.Header{"Cookie": {"session=alice-secret"}}); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("check stopped: got %d, want 503", resp.StatusCode)
	}
	got := h.g.app.Counters.AuthFailures()
	if got["check_refused"] != 1 || got["check_unavailable"] != 1 {
		t.Errorf("auth failures: got %v, want check_refused 1, check_unavailable 1", got)
	}
}

func TestCloseIdentity(t *testing.T) {
	dir := t.TempDir()
	keys := newTokenKeys(t, dir)
	h := jwtHarness(t, keys, dir)
	tok := func(sub string) string {
		return "wss://" + h.app + "/ws?token=" + signToken(t, keys["HS256"], "", sub, time.Hour, nil)
	}
	a1, a2, b := h.dial(tok("alice"), nil, nil), h.dial(tok("alice"), nil, nil), h.dial(tok("bob"), nil, nil)
	waitFor(t, "3 sessions", func() bool { return h.g.Registry().Len() == 3 })
	n, err := h.g.CloseIdentity("alice", 4000, "logged out")
	if err != nil || n != 2 {
		t.Fatalf("CloseIdentity: got %d, %v, want 2", n, err)
	}
	for _, c := range []net.Conn{a1, a2} {
		if code, reason := readClose(t, c); code != 4000 || reason != "logged out" {
			t.Errorf("close: got %d %q, want 4000 logged out", code, reason)
		}
	}
	subscribe(t, b, "users/bob/#")
	if n, err := h.g.CloseIdentity("nobody", 4000, ""); n != 0 || err != nil {
		t.Errorf("CloseIdentity(nobody): got %d, %v, want 0, nil", n, err)
	}
	if _, err := h.g.CloseIdentity("alice", ws.StatusCode(999), ""); err == nil {
		t.Error("CloseIdentity with close code 999: no error")
	}
}

func TestDeviceJWT(t *testing.T) {
	dir := t.TempDir()
	keys := newTokenKeys(t, dir)
	h := newHarness(t, func(c *config.Config, h *harness) {
		zero := time.Duration(0)
		c.Device.Auth.JWT = &config.JWT{Keys: []string{keys["ES256"].file}, Algorithms: config.DefaultJWTAlgorithms,
			Leeway: &zero, PermissionsClaim: config.DefaultPermissionsClaim}
	})
	start := time.Now()
	tok := signToken(t, keys["ES256"], "", "dev-7", 2*time.Second, nil)
	dev := h.dial("wss://"+h.device+"/device", http.Header{"Authorization": {"Bearer " + tok}}, nil)
	waitFor(t, "device dev-7", func() bool { _, ok := h.g.Registry().Device("dev-7"); return ok })
	s, _ := h.g.Registry().Device("dev-7")
	if m := s.Info().AuthMethod; m != "jwt" {
		t.Errorf("auth method: got %q, want jwt", m)
	}
	app := h.dialApp()
	subscribe(t, app, "devices/+/up")
	send(t, dev, `{"t":1}`) // a client frame: the device's own channel
	if m := readApp(t, app); m.Channel != "devices/dev-7/up" {
		t.Errorf("telemetry on %q, want devices/dev-7/up", m.Channel)
	}
	if code, _ := readClose(t, dev); code != session.CodeTokenExpired {
		t.Errorf("device close: got %d, want 4003", code)
	}
	if d := time.Since(start); d > 8*time.Second {
		t.Errorf("closed after %s, want about 2 s", d)
	}
	other := newTokenKeys(t, t.TempDir())
	if _, err := h.tryDial("wss://"+h.device+"/device?token="+signToken(t, other["ES256"], "", "dev-8", time.Hour, nil), nil, nil); err == nil {
		t.Fatal("a device JWT signed by another key was accepted")
	}
	if got := h.g.device.Counters.AuthFailures()["bad_signature"]; got != 1 {
		t.Errorf("device bad_signature failures: got %d, want 1", got)
	}
}
