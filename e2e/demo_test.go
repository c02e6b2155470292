package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/wssgate/wssgate/internal/daemontest"
)

// TestBrowserDemoPage drives the built-in demo page in Chromium: it connects
// over wss:// from its own https:// origin, lists a device's telemetry,
// sends the device a command, refuses pages from other origins, publishes only
// wss:// URLs, and reconnects after the gateway restarts.
func TestBrowserDemoPage(t *testing.T) {
	needE2E(t)
	bin := daemontest.Binary(t)
	p := newPKI(t)
	d := daemontest.Start(t, bin, gatewayConfig{dev: true}.yaml(p))
	ctx := newBrowser(t, p.spkiPin)
	pageURL := localURL(t, "https", d.App, "/")

	run(t, ctx, "load the demo page", chromedp.Navigate(pageURL))
	waitJS(t, ctx, `#status "connected"`, `document.getElementById("status").textContent === "connected"`)

	t.Run("only wss URLs", func(t *testing.T) { checkURLs(t, ctx, d) })

	const devID = "e2e-browser-1"
	dev := dialWS(t, p.tls, localURL(t, "wss", d.Device, "/device?device_id="+devID), nil)
	// Each step below needs the one before.
	ok := t.Run("device message shown", func(t *testing.T) {
		sendTelemetry(t, dev, `{"t":21.5,"src":"e2e"}`)
		waitMessage(t, ctx, devID, `{"t":21.5,"src":"e2e"}`)
	})
	ok = ok && t.Run("send command", func(t *testing.T) {
		// Empty the inputs (chromedp.Clear resets only the attribute, and
		// SetValue cannot set ""), then type as a user does, and click.
		eval[bool](t, ctx, "empty the inputs", `(() => {
			for (const id of ["device-id", "command"]) document.getElementById(id).value = "";
			return true;
		})()`)
		run(t, ctx, "type the command and click", chromedp.Steps(
			chromedp.SendKeys(chromedp.ID("device-id"), devID),
			chromedp.SendKeys(chromedp.ID("command"), `{"led":"on","from":"e2e"}`),
			chromedp.Click(chromedp.ID("send-command")),
		))
		waitJS(t, ctx, `#command-result "sent (reached 1)"`,
			`document.getElementById("command-result").textContent === "sent (reached 1)"`)
		got, op := readDevice(t, dev)
		var cmd map[string]any
		if err := json.Unmarshal([]byte(got), &cmd); op != ws.OpText || err != nil ||
			!reflect.DeepEqual(cmd, map[string]any{"led": "on", "from": "e2e"}) {
			t.Fatalf("device got opcode %d frame %q, want text {\"led\":\"on\",\"from\":\"e2e\"}", op, got)
		}
	})
	if !ok {
		return
	}
	screenshot(t, ctx, "demo-page.png")

	t.Run("other origin refused", func(t *testing.T) { checkOtherOrigin(t, ctx, p, d) })

	t.Run("reconnect after restart", func(t *testing.T) {
		eval[bool](t, ctx, "watch #status", `(() => {
			const el = document.getElementById("status");
			window.e2eStates = [el.textContent];
			new MutationObserver(() => window.e2eStates.push(el.textContent))
				.observe(el, {childList: true, characterData: true, subtree: true});
			return true;
		})()`)
		// The test device leaves; a peer that never answers the close
		// handshake would hold the shutdown for the whole shutdown_grace.
		dev.Close()
		d.Stop(t, 10*time.Second)
		// The same ports: the page reconnects to the URL it knows.
		d2 := daemontest.Start(t, bin, gatewayConfig{dev: true, app: d.App, device: d.Device}.yaml(p))
		waitJS(t, ctx, "disconnected, then connected again", `(() => {
			const s = window.e2eStates || [];
			return s.indexOf("disconnected") >= 0 && s.lastIndexOf("connected") > s.indexOf("disconnected") &&
				document.getElementById("status").textContent === "connected";
		})()`)
		states := eval[[]string](t, ctx, "read the states", `window.e2eStates`)
		t.Logf("#status went %s", strings.Join(states, " → "))
		// The page subscribed again: a new device's message shows.
		dev2 := dialWS(t, p.tls, localURL(t, "wss", d2.Device, "/device?device_id=e2e-browser-2"), nil)
		sendTelemetry(t, dev2, `after restart`)
		waitMessage(t, ctx, "e2e-browser-2", "after restart")
		screenshot(t, ctx, "demo-page-after-restart.png")
	})
}

// checkURLs checks what the page sees: /.well-known/wssgate and /wssgate.js
// name only wss:// WebSocket URLs and the client connected to app_ws_url.
func checkURLs(t *testing.T, ctx context.Context, d *daemontest.Daemon) {
	type seen struct {
		WellKnown map[string]string `json:"wellKnown"`
		Insecure  []string          `json:"insecure"`
		ClientURL string            `json:"clientURL"`
		Protocol  string            `json:"protocol"`
	}
	got := eval[seen](t, ctx, "fetch the endpoints", `(async () => {
		const get = (path) => fetch(path, {cache: "no-store"}).then((r) => r.text());
		const wellKnown = JSON.parse(await get("/.well-known/wssgate"));
		const insecure = [];
		for (const path of ["/", "/wssgate.js", "/app.js", "/.well-known/wssgate"]) {
			for (const m of (await get(path)).match(/ws:\/\/[^\s"'<]*/g) || []) insecure.push(path + ": " + m);
		}
		const protocol = performance.getEntriesByType("navigation")[0].nextHopProtocol;
		return {wellKnown, insecure, clientURL: window.wssgateDemo.gw.url, protocol};
	})()`)
	want := map[string]string{
		"app_url":       localURL(t, "https", d.App, "/"),
		"app_ws_url":    localURL(t, "wss", d.App, "/ws"),
		"device_ws_url": localURL(t, "wss", d.Device, "/device"),
	}
	if !reflect.DeepEqual(got.WellKnown, want) {
		t.Errorf("/.well-known/wssgate in the page: got %v, want %v", got.WellKnown, want)
	}
	if len(got.Insecure) > 0 {
		t.Errorf("ws:// URLs served to the page: %q", got.Insecure)
	}
	// The page came over HTTP/2 (ALPN h2 on the app port); the WebSocket
	// still works, over its own HTTP/1.1 connection.
	if got.Protocol != "h2" {
		t.Errorf("page loaded over %q, want h2", got.Protocol)
	}
	if got.ClientURL != want["app_ws_url"] {
		t.Errorf("wssgate.js connected to %q, want %q", got.ClientURL, want["app_ws_url"])
	}
}

// sendTelemetry writes one text frame as a device.
func sendTelemetry(t *testing.T, dev net.Conn, text string) {
	t.Helper()
	if err := wsutil.WriteClientText(dev, []byte(text)); err != nil {
		t.Fatalf("device write: %v", err)
	}
}

// waitMessage waits until #messages lists payload from device.
func waitMessage(t *testing.T, ctx context.Context, device, payload string) {
	t.Helper()
	waitJS(t, ctx, fmt.Sprintf("%s in #messages", payload), fmt.Sprintf(`Array.from(document.querySelectorAll("#messages li")).some(
		(li) => li.dataset.device === %s && li.querySelector(".payload").textContent === %s)`, jsString(device), jsString(payload)))
}

// screenshot saves a PNG of the whole page and logs its path.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png := run(t, ctx, "screenshot", chromedp.FullScreenshot(100))
	file := filepath.Join(artifactDir(t), name)
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Fatalf("save screenshot: %v", err)
	}
	t.Logf("screenshot: %s", file)
}

// checkOtherOrigin serves a page from a second origin (another port on
// localhost) and checks that it cannot open the gateway's /ws, that the
// gateway logged why, and that the refusal is a 403 to a Go client sending
// the same Origin.
func checkOtherOrigin(t *testing.T, ctx context.Context, p *pki, d *daemontest.Daemon) {
	other := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<!doctype html><title>other origin</title><p>other origin</p>")
	}))
	other.TLS = p.tlsServerConfig()
	other.StartTLS()
	t.Cleanup(other.Close)
	otherURL := localURL(t, "https", other.Listener.Addr().String(), "/")
	origin := strings.TrimSuffix(otherURL, "/")
	wsURL := localURL(t, "wss", d.App, "/ws")

	tab := newTab(t, ctx)
	run(t, tab, "load the other origin's page", chromedp.Navigate(otherURL))
	got := eval[string](t, tab, "open /ws from the other origin", `new Promise((resolve) => {
		const events = [];
		const ws = new WebSocket(`+jsString(wsURL)+`);
		const timer = setTimeout(() => resolve(events.concat("no close within 10 s").join(",")), 10000);
		ws.onopen = () => { events.push("open"); ws.close(); };
		ws.onerror = () => events.push("error");
		ws.onclose = (e) => { clearTimeout(timer); events.push("close " + e.code); resolve(events.join(",")); };
	})`)
	if got != "error,close 1006" {
		t.Errorf("WebSocket from %s: got events %q, want \"error,close 1006\" (refused)", origin, got)
	}
	line := d.WaitLog(t, ioTimeout, func(l daemontest.Line) bool {
		return l.Str("msg") == "handshake failed" && strings.Contains(l.Str("detail"), `"`+origin+`"`)
	})
	if line.Str("reason") != "bad_origin" {
		t.Errorf("gateway logged %v for the other origin, want reason bad_origin", line)
	}

	// What the browser cannot show: the status code.
	_, _, _, err := ws.Dialer{TLSConfig: p.tls, Timeout: ioTimeout, Header: ws.HandshakeHeaderHTTP(http.Header{"Origin": {origin}})}.Dial(ctx, wsURL)
	if statusOf(err) != http.StatusForbidden {
		t.Errorf("handshake with Origin %s: got %v, want HTTP 403", origin, err)
	}
	conn := dialWS(t, p.tls, wsURL, http.Header{"Origin": {localURL(t, "https", d.App, "")}})
	conn.Close()
}
