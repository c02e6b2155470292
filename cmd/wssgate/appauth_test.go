package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wssgate/wssgate/gateway/certs/certstest"
)

// TestAppOffLoopbackWithoutAuthRefused: an app address with an empty host
// (every interface) and no app.auth is refused at start by the real binary,
// naming app.auth.mode; nothing is bound.
func TestAppOffLoopbackWithoutAuthRefused(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	ca := certstest.NewCA(t, "test CA")
	leaf := localhostLeaf(t, ca)
	leaf.Write(t, dir, "server")
	cfg := writeConfig(t, dir, "tls:\n  certificates: [{cert: server.pem, key: server-key.pem}]\n  root_ca: "+ca.WriteCA(t, dir)+"\n"+
		"app: {address: '"+strings.TrimPrefix(freePort(t), "127.0.0.1")+"'}\ndevice: {address: '127.0.0.1:0'}\nadmin: {address: 'off'}\nops: {address: 'off'}\n")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "serve", "--config", cfg)
	cmd.Env = append(cmd.Environ(), "WSSGATE_STATE_DIR="+filepath.Join(dir, "state"))
	out, err := cmd.CombinedOutput()
	if err == nil || ctx.Err() != nil {
		t.Fatalf("serve: got %v (timeout %v), want a non-zero exit\n%s", err, ctx.Err(), out)
	}
	if o := string(out); !strings.Contains(o, "app.auth.mode: required") || !strings.Contains(o, "reachable off loopback") {
		t.Fatalf("output does not name app.auth.mode:\n%s", out)
	}
}
