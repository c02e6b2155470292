package e2e

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/wssgate/wssgate/internal/daemontest"
)

// tokenLifetime is how long the test app's tokens live: the page must
// refresh (the gateway closes with 4003 at exp, leeway 0).
const tokenLifetime = 4 * time.Second

// authPage loads /wssgate.js with a token provider and records what happens.
const authPage = `<!doctype html><title>wssgate token e2e</title><script src="/wssgate.js"></script>
<script>
window.e2e = {states: [], msgs: [], errors: [], tokens: 0};
window.gw = new WSSGate({
  token: () => fetch("/my-token", {cache: "no-store"}).then((r) => { e2e.tokens++; return r.text(); }),
  onState: (s) => e2e.states.push(s),
  onError: (e) => e2e.errors.push(String(e && e.message)),
});
gw.subscribe("devices/+/up", (m) => e2e.msgs.push(m.channel + " " + JSON.stringify(m.data)));
</script>`

// TestBrowserTokenRefresh: a page behind app.upstream whose token provider
// fetches short-lived JWTs from the app stays connected across several token
// expiries (wssgate.js refreshes before exp), and reconnects with a new token
// after the gateway restarts.
func TestBrowserTokenRefresh(t *testing.T) {
	needE2E(t)
	bin := daemontest.Binary(t)
	p := newPKI(t)
	secret := make([]byte, 48)
	_, _ = rand.Read(secret)
	key := []byte(base64.RawStdEncoding.EncodeToString(secret))
	keyFile := filepath.Join(p.dir, "jwt-hs256.secret")
	if err := os.WriteFile(keyFile, key, 0o600); err != nil {
		t.Fatal(err)
	}
	var issued atomic.Int64
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/my-token" {
			issued.Add(1)
			fmt.Fprint(w, signHS256(t, key, "e2e-user", tokenLifetime))
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, authPage)
	}))
	t.Cleanup(app.Close)
	cfg := gatewayConfig{dev: true, appExtra: fmt.Sprintf(", upstream: %q, subscribe: [devices/+/up], auth: {mode: jwt, jwt: {keys: [%q], leeway: 0s}}", app.URL, keyFile)}
	d := daemontest.Start(t, bin, cfg.yaml(p))
	ctx := newBrowser(t, p.spkiPin)
	run(t, ctx, "load the token page", chromedp.Navigate(localURL(t, "https", d.App, "/")))
	waitJS(t, ctx, "connected", `e2e.states.includes("connected")`)

	// Past two token lifetimes: at least two refreshes, never disconnected.
	time.Sleep(2*tokenLifetime + time.Second)
	type seen struct {
		States []string `json:"states"`
		Tokens int      `json:"tokens"`
		Errors []string `json:"errors"`
	}
	got := eval[seen](t, ctx, "read the page's record", `e2e`)
	if got.Tokens < 3 || strings.Join(got.States, ",") != "connecting,connected" {
		t.Fatalf("after %s: tokens %d, states %v, errors %v; want >= 3 tokens and connected throughout",
			2*tokenLifetime+time.Second, got.Tokens, got.States, got.Errors)
	}
	dev := dialWS(t, p.tls, localURL(t, "wss", d.Device, "/device?device_id=tok-1"), nil)
	sendTelemetry(t, dev, `{"after":"refresh"}`)
	waitJS(t, ctx, "telemetry after the refreshes", `e2e.msgs.includes('devices/tok-1/up {"after":"refresh"}')`)

	t.Run("reconnect after restart", func(t *testing.T) {
		dev.Close()
		before := eval[int](t, ctx, "count tokens", `e2e.tokens`)
		d.Stop(t, 10*time.Second)
		cfg.app, cfg.device = d.App, d.Device
		d2 := daemontest.Start(t, bin, cfg.yaml(p))
		waitJS(t, ctx, "disconnected, then connected again", `(() => {
			const s = e2e.states, i = s.indexOf("disconnected");
			return i >= 0 && s.lastIndexOf("connected") > i && gw.state === "connected";
		})()`)
		if after := eval[int](t, ctx, "count tokens", `e2e.tokens`); after <= before {
			t.Errorf("tokens fetched: %d before the restart, %d after; want a new one for the reconnect", before, after)
		}
		dev2 := dialWS(t, p.tls, localURL(t, "wss", d2.Device, "/device?device_id=tok-2"), nil)
		sendTelemetry(t, dev2, `"after restart"`)
		waitJS(t, ctx, "telemetry after the restart", `e2e.msgs.includes('devices/tok-2/up "after restart"')`)
	})
	t.Logf("the app issued %d tokens", issued.Load())
}

// signHS256 makes a JWT for sub that expires in ttl.
func signHS256(t *testing.T, key []byte, sub string, ttl time.Duration) string {
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: key}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Error(err)
		return ""
	}
	tok, err := jwt.Signed(s).Claims(jwt.Claims{Subject: sub, Expiry: jwt.NewNumericDate(time.Now().Add(ttl))}).Serialize()
	if err != nil {
		t.Error(err)
	}
	return tok
}
