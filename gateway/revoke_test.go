package gateway

import (
	"context"
	"crypto/tls"
	"os"
	"testing"

	"github.com/gobwas/ws"

	"github.com/wssgate/wssgate/gateway/certs/certstest"
	"github.com/wssgate/wssgate/gateway/config"
	"github.com/wssgate/wssgate/gateway/hub"
)

func TestCRLReloadClosesRevokedSessions(t *testing.T) {
	var clientCA *certstest.CA
	var crlFile string
	h := newHarness(t, func(c *config.Config, h *harness) {
		c.Dev = false
		c.TLS.Watch = new(bool) // reloads come from the test only
		clientCA = certstest.NewCA(t, "device CA")
		c.TLS.ClientCA = clientCA.WriteCA(t, h.dir)
		crlFile = writeFile(t, h.dir, "devices.crl", clientCA.CRL(t))
		c.TLS.CRLFiles = []string{crlFile}
		c.Device.ClientAuth = "require"
	})
	bad := clientCA.Issue(t, certstest.LeafOptions{CN: "dev-bad", Client: true})
	good := clientCA.Issue(t, certstest.LeafOptions{CN: "dev-good", Client: true})
	dial := func(l *certstest.Leaf) *tls.Conn {
		c := h.dial("wss://"+h.device+"/device", nil, &l.TLS)
		waitFor(t, "device "+l.Cert.Subject.CommonName, func() bool { _, ok := h.g.Registry().Device(l.Cert.Subject.CommonName); return ok })
		return c.(*tls.Conn)
	}
	badConn, goodConn := dial(bad), dial(good)

	dry, err := h.g.Reload(ReloadRequest{Trigger: "admin", DryRun: true})
	if err != nil || len(dry.Refused) != 0 {
		t.Fatalf("dry run before the revocation: %v, refused %d, want none", err, len(dry.Refused))
	}
	must(t, os.WriteFile(crlFile, clientCA.CRL(t, bad.Cert), 0o600))
	res, err := h.g.Reload(ReloadRequest{Trigger: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Refused) != 1 || res.RevokedClosed != 1 || h.g.RevokedCloses() != 1 {
		t.Fatalf("reload: refused %d, closed %d, counted %d; want 1, 1, 1", len(res.Refused), res.RevokedClosed, h.g.RevokedCloses())
	}
	if code, reason := readClose(t, badConn); code != 4003 || reason != "certificate revoked" {
		t.Fatalf("revoked device: got close %d %q, want 4003 certificate revoked", code, reason)
	}
	waitFor(t, "revoked device gone", func() bool { _, ok := h.g.Registry().Device("dev-bad"); return !ok })
	// The other device stays up and still receives.
	if _, ok := h.g.Registry().Device("dev-good"); !ok {
		t.Fatal("dev-good was closed, want it kept")
	}
	if n, err := h.g.Publish(context.Background(), hub.Message{Channel: "devices/dev-good/down", Data: []byte("still here")}); err != nil || n != 1 {
		t.Fatalf("publish to dev-good reached %d (%v), want 1", n, err)
	}
	if p, op := read(t, goodConn); string(p) != "still here" || op != ws.OpText {
		t.Fatalf("dev-good got %q", p)
	}
}
