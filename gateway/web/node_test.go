package web

import (
	"context"
	"os/exec"
	"testing"
	"time"
)

// nodePath returns the node binary, or skips the test when there is none.
func nodePath(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not on PATH; skipping JavaScript checks")
	}
	return node
}

func runNode(t *testing.T, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, nodePath(t), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("node %v: %v\n%s", args, err, out)
	}
	if testing.Verbose() {
		t.Logf("node %v:\n%s", args, out)
	}
}

func TestJavaScriptSyntax(t *testing.T) {
	for _, file := range []string{"static/wssgate.js", "static/app.js", "testdata/client_harness.js", "testdata/app_harness.js"} {
		t.Run(file, func(t *testing.T) {
			runNode(t, "--check", file)
		})
	}
}

// TestClientBehavior runs wssgate.js in node against a scripted fake socket:
// well-known lookup, acks, errors, timeouts, reconnect and resubscribe, close.
func TestClientBehavior(t *testing.T) {
	runNode(t, "testdata/client_harness.js", "static/wssgate.js")
}

// TestDemoPageBehavior runs wssgate.js and app.js in node over a minimal fake
// DOM and socket: status text, endpoints, message list, send command, bound.
func TestDemoPageBehavior(t *testing.T) {
	runNode(t, "testdata/app_harness.js", "static/wssgate.js", "static/app.js")
}
