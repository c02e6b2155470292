package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/wssgate/wssgate/gateway/certs/certstest"
	adminv1 "github.com/wssgate/wssgate/gen/wssgate/admin/v1"
	"github.com/wssgate/wssgate/internal/daemontest"
)

// TestDevHostnamesAndRealAddress: in development mode the generated
// certificate covers the configured hostnames, and the start-up hint names
// the app listener's real port.
func TestDevHostnamesAndRealAddress(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	cfg := writeConfig(t, dir, "dev: true\ntls: {hostnames: [gw.test]}\napp: {address: '127.0.0.1:0'}\ndevice: {address: '127.0.0.1:0'}\nadmin: {address: 'off'}\nops: {address: 'off'}\n")
	d := start(t, bin, []string{"WSSGATE_STATE_DIR=" + state}, "--config", cfg)
	_, port, _ := net.SplitHostPort(d.App)
	hint := d.WaitLog(t, 5*time.Second, func(l daemontest.Line) bool { return strings.HasPrefix(l.Str("msg"), "development CA") })
	if want := "https://localhost:" + port + "/.well-known/wssgate"; !strings.HasSuffix(hint.Str("curl"), want) {
		t.Errorf("curl hint: got %q, want it to end in %s", hint.Str("curl"), want)
	}
	if !strings.Contains(hint.Str("chromium"), "--ignore-certificate-errors-spki-list=") {
		t.Errorf("chromium hint: got %q", hint.Str("chromium"))
	}
	caPEM, err := os.ReadFile(filepath.Join(state, "dev-ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	c, err := tls.Dial("tcp", d.App, &tls.Config{RootCAs: roots, ServerName: "gw.test"})
	if err != nil {
		t.Fatalf("handshake as gw.test: %v", err)
	}
	c.Close()
}

// TestNamesThroughTheAdminAPI: a real gateway remembers the names clients
// used; ListNames reports them, and a reload dropping one is refused over
// the admin API with the name and count unless forced.
func TestNamesThroughTheAdminAPI(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	ca := certstest.NewCA(t, "test CA")
	ca.Issue(t, certstest.LeafOptions{CN: "localhost", DNS: []string{"localhost", "socket.example"}}).Write(t, dir, "server")
	cfg := writeConfig(t, dir, "dev: true\ntls:\n  certificates: [{cert: server.pem, key: server-key.pem}]\n  watch: false\n"+
		"app: {address: '127.0.0.1:0'}\ndevice: {address: '127.0.0.1:0'}\nadmin: {address: '127.0.0.1:0'}\nops: {address: 'off'}\n")
	d := start(t, bin, nil, "--config", cfg)
	for range 2 {
		dialWS(t, &tls.Config{RootCAs: ca.Pool, ServerName: "socket.example"}, "wss://"+d.Device+"/device?device_id=d1").Close()
	}
	cc, err := grpc.NewClient(d.Admin, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	c := adminv1.NewAdminServiceClient(cc)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	names, err := c.ListNames(ctx, &adminv1.ListNamesRequest{})
	if err != nil || len(names.Names) != 1 || names.Names[0].Name != "socket.example" || names.Names[0].Handshakes != 2 || !names.Names[0].Covered {
		t.Fatalf("ListNames: got %v (%v), want socket.example, 2 handshakes, covered", names, err)
	}
	narrow := localhostLeaf(t, ca)
	req := &adminv1.ReloadCertificatesRequest{CertPem: narrow.CertPEM, KeyPem: narrow.KeyPEM}
	_, err = c.ReloadCertificates(ctx, req)
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), `"socket.example": 2 handshakes, last `) {
		t.Fatalf("reload dropping socket.example: got %v, want INVALID_ARGUMENT naming it and its count", err)
	}
	req.DryRun = true
	resp, err := c.ReloadCertificates(ctx, req)
	if err != nil || !strings.Contains(strings.Join(resp.Warnings, "\n"), `"socket.example": 2 handshakes`) {
		t.Fatalf("dry run: got %v (%v), want a warning naming the name and count", resp, err)
	}
	req.DryRun, req.Force = false, true
	if resp, err = c.ReloadCertificates(ctx, req); err != nil || resp.Generation != 2 {
		t.Fatalf("forced reload: got %v (%v), want generation 2", resp, err)
	}
	names, err = c.ListNames(ctx, &adminv1.ListNamesRequest{})
	if err != nil || len(names.Names) != 1 || names.Names[0].Covered {
		t.Fatalf("ListNames after the forced reload: got %v (%v), want socket.example not covered", names, err)
	}
}

// TestCheckNamesAndURLs: `wssgate check` handshakes with each configured
// name, prints the advertised URLs, and warns about a name clients used
// that the certificate on disk no longer covers.
func TestCheckNamesAndURLs(t *testing.T) {
	dir := t.TempDir()
	ca := certstest.NewCA(t, "test CA")
	caFile := ca.WriteCA(t, dir)
	ca.Issue(t, certstest.LeafOptions{CN: "localhost", DNS: []string{"localhost", "example.com", "socket.example"}}).Write(t, dir, "server")
	app, dev, adm := freePort(t), freePort(t), freePort(t)
	cfg := writeConfig(t, dir, "tls:\n  certificates: [{cert: server.pem, key: server-key.pem}]\n  root_ca: "+caFile+"\n  watch: false\n"+
		"  hostnames: [localhost, example.com]\ndevice: {address: '"+dev+"', client_auth: none, tokens: [{device: d1, sha256: "+
		"'2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b'}]}\n"+
		"app: {address: '"+app+"', auth: {mode: none}}\nadmin: {address: '"+adm+"'}\nops: {address: 'off'}\n")
	start(t, binary(t), nil, "--config", cfg)
	c, err := tls.Dial("tcp", dev, &tls.Config{RootCAs: ca.Pool, ServerName: "socket.example"})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	// A renewal on disk that drops socket.example (not reloaded: watch is off).
	ca.Issue(t, certstest.LeafOptions{CN: "localhost", DNS: []string{"localhost", "example.com"}}).Write(t, dir, "server")
	var out strings.Builder
	waitUntil(t, "the name reported", func() bool {
		out.Reset()
		run(context.Background(), []string{"check", "--config", cfg}, &out, &out)
		return strings.Contains(out.String(), `WARN  clients used "socket.example": 1 handshake, last `)
	})
	_, appPort, _ := net.SplitHostPort(app)
	_, devPort, _ := net.SplitHostPort(dev)
	// The live handshakes (one per configured name and listener) see the
	// certificate still served, not the one on disk.
	for _, w := range []string{`app listener ` + app, `as "localhost", not the certificate on disk`, `as "example.com", not the certificate on disk`,
		"opens wss://localhost:" + appPort + "/ws; devices connect to wss://localhost:" + devPort + "/device",
		"names clients used recently (admin API " + adm + ") are covered"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("check output lacks %q:\n%s", w, out.String())
		}
	}
	if n := strings.Count(out.String(), "not the certificate on disk"); n != 4 {
		t.Errorf("live handshakes: got %d, want 2 names × 2 listeners:\n%s", n, out.String())
	}
}
