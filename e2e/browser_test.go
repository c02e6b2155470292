package e2e

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// stepTimeout bounds one browser action, polls included.
const stepTimeout = 15 * time.Second

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newBrowser starts a headless Chromium that trusts exactly the certificate
// with spkiPin (never all certificates) and returns the context of its first
// tab. Chromium's output and the pages' console are logged if t fails.
func newBrowser(t *testing.T, spkiPin string) context.Context {
	t.Helper()
	exe := findTool(t, "install Debian's chromium (apt-get install -y --no-install-recommends chromium)",
		"/usr/bin/chromium", "chromium")
	output := &syncBuffer{}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		// What works on a closed network: no first-run UI, no background
		// fetches, no component or sync traffic, no QUIC.
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("ignore-certificate-errors-spki-list", spkiPin),
		chromedp.WindowSize(1280, 1000),
		chromedp.CombinedOutput(output),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	console := &syncBuffer{}
	t.Cleanup(func() {
		cancel()
		cancelAlloc() // waits for Chromium to exit
		if t.Failed() {
			t.Logf("chromium output (without D-Bus noise):\n%s\npage console:\n%s", withoutDBus(output.String()), console)
		}
	})
	// The first Run starts the browser; it must not carry a timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v\n%s", err, output)
	}
	watchConsole(ctx, console)
	return ctx
}

// watchConsole copies the console messages and exceptions of ctx's tab to w
// until the tab is closed.
func watchConsole(ctx context.Context, w *syncBuffer) {
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			_, _ = w.Write([]byte(m.String() + "\n"))
		}
	}()
}

// newTab opens another tab in ctx's browser, closed when t ends.
func newTab(t *testing.T, ctx context.Context) context.Context {
	t.Helper()
	tab, cancel := chromedp.NewContext(ctx)
	t.Cleanup(cancel)
	// As for the browser, the tab lives as long as the context of its first
	// Run: that one must not carry a timeout.
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	return tab
}

// run runs one action on ctx's tab within stepTimeout, failing t on error.
func run[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(sctx, a)
	if err != nil {
		t.Fatalf("browser: %s: %v", what, err)
	}
	return v
}

// eval evaluates a JavaScript expression (awaiting a promise) into T.
func eval[T any](t *testing.T, ctx context.Context, what, expr string) T {
	t.Helper()
	return run(t, ctx, what, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
}

// waitJS polls a JavaScript predicate until it is truthy.
func waitJS(t *testing.T, ctx context.Context, what, predicate string) {
	t.Helper()
	run(t, ctx, "wait for "+what, chromedp.Poll[chromedp.Void](predicate,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(stepTimeout-time.Second)))
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "<", `\x3c`)
	return `"` + r.Replace(s) + `"`
}

// withoutDBus drops the lines about the missing D-Bus, which Chromium prints
// on machines without a desktop session.
func withoutDBus(out string) string {
	var keep []string
	for _, line := range strings.Split(out, "\n") {
		if !strings.Contains(line, "dbus") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}
