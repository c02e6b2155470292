package gateway

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/wssgate/wssgate/internal/sioclient"
)

// A Socket.IO client authenticates with its CONNECT payload's token, as a
// /ws client with its upgrade: no token or a bad one is refused with a
// CONNECT_ERROR naming the sub-reason (never the token), counted as
// unauthenticated; a valid one connects with the token's permissions and
// is closed when the token expires.
func TestSocketIOAuthentication(t *testing.T) {
	dir := t.TempDir()
	keys := newTokenKeys(t, dir)
	h := jwtHarness(t, keys, dir)
	dial := func(auth any) (*sioclient.Client, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return sioclient.Dial(ctx, "https://"+h.app, "/socket.io/", h.tlsConfig(nil), auth)
	}
	other := newTokenKeys(t, t.TempDir())["ES256"]
	for name, auth := range map[string]any{
		"none":          nil,
		"garbage":       map[string]string{"token": "not-a-jwt"},
		"another key":   map[string]string{"token": signToken(t, other, "", "mallory", time.Minute, nil)},
		"expired token": map[string]string{"token": signToken(t, keys["HS256"], "", "bob", -time.Minute, nil)},
	} {
		c, err := dial(auth)
		if err == nil {
			c.Close()
			t.Fatalf("%s: CONNECT accepted, want CONNECT_ERROR", name)
		}
		if !strings.Contains(err.Error(), `"44`) && !strings.Contains(err.Error(), "44{") {
			t.Fatalf("%s: got %v, want a CONNECT_ERROR (44) packet", name, err)
		}
		if tok, ok := auth.(map[string]string); ok && strings.Contains(err.Error(), tok["token"]) {
			t.Fatalf("%s: the CONNECT_ERROR echoes the token: %v", name, err)
		}
	}
	waitFor(t, "4 refusals counted", func() bool {
		n := uint64(0)
		for _, v := range h.g.app.Counters.AuthFailures() {
			n += v
		}
		return n >= 4
	})

	tok := signToken(t, keys["ES256"], "", "alice", 3*time.Second, map[string][]string{"subscribe": {"devices/d1/up"}})
	connected := time.Now()
	c, err := dial(map[string]string{"token": tok})
	if err != nil {
		t.Fatalf("valid token: %v", err)
	}
	defer c.Close()
	if open, total := h.g.ProxiedWebSockets(); open != 0 || total != 0 {
		t.Fatalf("a Socket.IO WebSocket counted as proxied (open %d, total %d): it is a session of the listener", open, total)
	}
	if got := sioCall(t, c, "subscribe", "devices/d1/up"); got != "[{}]" {
		t.Fatalf("subscribe inside the claim: got %s, want [{}]", got)
	}
	if got := sioCall(t, c, "subscribe", "devices/+/up"); !strings.Contains(got, `"forbidden"`) {
		t.Fatalf("subscribe outside the claim: got %s, want forbidden", got)
	}
	var alice string
	for _, v := range h.g.Sessions() {
		if v.Info.Identity == "alice" {
			alice = v.Info.AuthMethod
		}
	}
	if alice != "jwt" {
		t.Fatalf("alice's session: auth method %q, want jwt", alice)
	}
	// The token lapses 2 to 3 s from now (exp is in whole seconds; leeway
	// 0): the transport is closed then.
	_ = c.Conn().SetReadDeadline(time.Now().Add(10 * time.Second))
	var readErr error
	for readErr == nil {
		_, readErr = c.Next()
	}
	if d := time.Since(connected); d < 1900*time.Millisecond {
		t.Fatalf("transport ended after %s (%v), want it to last until the token expires (2-3 s)", d, readErr)
	}
	waitFor(t, "alice gone", func() bool {
		for _, v := range h.g.Sessions() {
			if v.Info.Identity == "alice" {
				return false
			}
		}
		return true
	})
}
