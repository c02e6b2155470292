package e2e

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/wssgate/wssgate/internal/daemontest"
)

// TestBrowserTrustsDevCAPin: `wssgate devcert --json` names the
// development CA's SPKI pin; a headless Chromium started with only that pin
// (not the leaf's) loads the demo page of `wssgate serve` in development
// mode and connects its WebSocket, because the gateway serves the leaf
// followed by the CA.
func TestBrowserTrustsDevCAPin(t *testing.T) {
	needE2E(t)
	bin := daemontest.Binary(t)
	state := filepath.Join(t.TempDir(), "state")
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "devcert", "--dir", state, "--json").Output()
	if err != nil {
		t.Fatalf("wssgate devcert: %v\n%s", err, out)
	}
	var info struct {
		CAPin        string `json:"ca_spki_pin"`
		ChromiumFlag string `json:"chromium_flag"`
	}
	if err := json.Unmarshal(out, &info); err != nil || info.CAPin == "" || !strings.Contains(info.ChromiumFlag, info.CAPin) {
		t.Fatalf("devcert --json: %v %s, want the CA pin in the Chromium flag", err, out)
	}
	d := daemontest.Start(t, bin, "dev: true\napp: {address: '127.0.0.1:0'}\ndevice: {address: '127.0.0.1:0'}\n"+
		"admin: {address: 'off'}\nops: {address: 'off'}\n", "WSSGATE_STATE_DIR="+state)
	browser := newBrowser(t, info.CAPin)
	run(t, browser, "load the demo page", chromedp.Navigate(localURL(t, "https", d.App, "/")))
	waitJS(t, browser, `#status "connected"`, `document.getElementById("status").textContent === "connected"`)
}
