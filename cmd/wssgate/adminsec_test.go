package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"math/big"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws/wsutil"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/wssgate/wssgate/gateway"
	"github.com/wssgate/wssgate/gateway/certs/certstest"
	"github.com/wssgate/wssgate/gateway/config"
	adminv1 "github.com/wssgate/wssgate/gen/wssgate/admin/v1"
)

// TestAdminClientCertificates: admin mTLS maps certificate identities (device identity
// rules) to roles; an unlisted certificate and a listed one revoked by tls.crl_files are
// refused; sharing the device CA draws a warning.
func TestAdminClientCertificates(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	ca := certstest.NewCA(t, "shared CA") // device and admin CA at once: the warned case
	localhostLeaf(t, ca).Write(t, dir, "server")
	caFile := ca.WriteCA(t, dir)
	client := func(cn string, serial int64) tls.Certificate {
		return ca.Issue(t, certstest.LeafOptions{CN: cn, Client: true, Serial: big.NewInt(serial)}).TLS
	}
	ops, viewer, stranger, gone := client("ops-1", 11), client("viewer", 12), client("stranger", 13), client("ops-2", 14)
	certstest.WriteFile(t, filepath.Join(dir, "crl.pem"), ca.CRL(t, gone.Leaf), 0o644)
	cfg := writeConfig(t, dir, "tls:\n  certificates: [{cert: server.pem, key: server-key.pem}]\n  hostnames: [localhost]\n"+
		"  client_ca: "+caFile+"\n  crl_files: [crl.pem]\n"+
		"app: {address: '127.0.0.1:0'}\ndevice: {address: '127.0.0.1:0'}\nops: {address: 'off'}\n"+
		"admin:\n  address: '127.0.0.1:0'\n  client_ca: "+caFile+"\n"+
		"  clients: [{identity: ops-1, role: admin}, {identity: viewer, role: read}, {identity: ops-2, role: admin}]\n")
	d := start(t, bin, nil, "--config", cfg)

	tests := []struct {
		name    string
		cert    tls.Certificate
		call    func(context.Context, adminv1.AdminServiceClient) error
		want    codes.Code
		wantMsg string
	}{
		{"listed admin closes", ops, closeSession, codes.NotFound, "nope"}, // authorized: the session is unknown
		{"listed reader lists", viewer, listSessions, codes.OK, ""},
		{"reader cannot close", viewer, closeSession, codes.PermissionDenied, `needs the "admin" role`},
		{"unlisted refused", stranger, listSessions, codes.PermissionDenied, `identity "stranger" is not listed`},
		{"revoked refused", gone, listSessions, codes.Unauthenticated, "revoked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mtlsClient(t, d.Admin, ca.Pool, tt.cert)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := tt.call(ctx, c)
			if status.Code(err) != tt.want || !strings.Contains(status.Convert(err).Message(), tt.wantMsg) {
				t.Fatalf("got %v, want %v containing %q", err, tt.want, tt.wantMsg)
			}
		})
	}
	if logs := strings.Join(d.Logs(), "\n"); !strings.Contains(logs, "admin.client_ca is the same file as tls.client_ca") {
		t.Errorf("no warning about the shared CA in:\n%s", logs)
	}
}

func mtlsClient(t *testing.T, addr string, roots *x509.CertPool, cert tls.Certificate) adminv1.AdminServiceClient {
	t.Helper()
	tc := &tls.Config{ServerName: "localhost", RootCAs: roots, Certificates: []tls.Certificate{cert}}
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(tc)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return adminv1.NewAdminServiceClient(cc)
}

func closeSession(ctx context.Context, c adminv1.AdminServiceClient) error {
	_, err := c.CloseSession(ctx, &adminv1.CloseSessionRequest{Id: "nope", Code: 1000})
	return err
}

func listSessions(ctx context.Context, c adminv1.AdminServiceClient) error {
	_, err := c.ListSessions(ctx, &adminv1.ListSessionsRequest{})
	return err
}

// TestAdminLargePublish: with admin.max_message 32MiB and a device max_message of 32MiB,
// a 16 MiB Publish reaches the device whole.
func TestAdminLargePublish(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	ca := certstest.NewCA(t, "test CA")
	localhostLeaf(t, ca).Write(t, dir, "server")
	cfg := writeConfig(t, dir, "dev: true\ntls:\n  certificates: [{cert: server.pem, key: server-key.pem}]\n  hostnames: [localhost]\n"+
		"app: {address: '127.0.0.1:0'}\ndevice: {address: '127.0.0.1:0', limits: {max_message: 32MiB, queue_bytes: 32MiB}}\n"+
		"admin: {address: '127.0.0.1:0', max_message: 32MiB}\nops: {address: 'off'}\n")
	d := start(t, bin, nil, "--config", cfg)
	dev := dialWS(t, &tls.Config{RootCAs: ca.Pool, ServerName: "localhost"}, "wss://"+d.Device+"/device?device_id=big")
	cc, err := grpc.NewClient(d.Admin, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	c := adminv1.NewAdminServiceClient(cc)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	waitUntil(t, "device session", func() bool {
		l, err := c.ListSessions(ctx, &adminv1.ListSessionsRequest{Identity: "big"})
		return err == nil && len(l.Sessions) == 1
	})
	payload := bytes.Repeat([]byte("0123456789abcdef"), 1<<20) // 16 MiB
	r, err := c.Publish(ctx, &adminv1.PublishRequest{Channel: "devices/big/down", Payload: &adminv1.PublishRequest_Binary{Binary: payload}})
	if err != nil || r.Reached != 1 {
		t.Fatalf("publish 16 MiB: got %v %v, want reached 1", r, err)
	}
	_ = dev.SetReadDeadline(time.Now().Add(20 * time.Second))
	got, _, err := wsutil.ReadServerData(dev)
	if err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("device got %d bytes, %v; want the 16 MiB payload", len(got), err)
	}
	// Above admin.max_message: a clear RESOURCE_EXHAUSTED.
	_, err = c.Publish(ctx, &adminv1.PublishRequest{Channel: "devices/big/down", Payload: &adminv1.PublishRequest_Binary{Binary: make([]byte, 33<<20)}})
	if status.Code(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), "larger than max") {
		t.Fatalf("publish 33 MiB: got %v, want ResourceExhausted (larger than max)", err)
	}
}

// TestAdminOffLoopbackWithoutAuthRefused: an admin address off loopback with neither
// tokens nor client certificates is refused at start, naming admin.address.
func TestAdminOffLoopbackWithoutAuthRefused(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "dev: true\napp: {address: '127.0.0.1:0'}\ndevice: {address: '127.0.0.1:0'}\n"+
		"admin: {address: '0.0.0.0:0'}\nops: {address: 'off'}\n")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "serve", "--config", cfg)
	cmd.Env = append(cmd.Environ(), "WSSGATE_STATE_DIR="+filepath.Join(dir, "state"))
	out, err := cmd.CombinedOutput()
	if err == nil || ctx.Err() != nil {
		t.Fatalf("serve: got %v (timeout %v), want a non-zero exit\n%s", err, ctx.Err(), out)
	}
	if o := string(out); !strings.Contains(o, "admin.address") || !strings.Contains(o, "is not loopback") {
		t.Fatalf("output does not name admin.address:\n%s", out)
	}
}

// TestAdminTLSOffLoopback: off loopback the admin server always gets TLS, with the
// gateway's certificate by default (tokens never travel in clear text).
func TestAdminTLSOffLoopback(t *testing.T) {
	dir := t.TempDir()
	ca := certstest.NewCA(t, "test CA")
	cert, key := localhostLeaf(t, ca).Write(t, dir, "server")
	otherCert, otherKey := ca.Issue(t, certstest.LeafOptions{CN: "admin.example", DNS: []string{"admin.example"}}).Write(t, dir, "admin")
	token := "tokens: [{name: ops, role: admin, sha256: " + strings.Repeat("ab", 32) + "}]"
	tests := []struct {
		name, admin string
		wantCN      string // "": plaintext
	}{
		{"loopback stays plaintext", "{address: '127.0.0.1:9090'}", ""},
		{"off loopback: the gateway's certificate", "{address: '0.0.0.0:9090', " + token + "}", "localhost"},
		{"admin.tls", "{address: '0.0.0.0:9090', tls: {cert: " + otherCert + ", key: " + otherKey + "}, " + token + "}", "admin.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.Parse([]byte("tls: {certificates: [{cert: " + cert + ", key: " + key + "}]}\napp: {address: '127.0.0.1:0'}\nadmin: " + tt.admin + "\n"))
			if err != nil {
				t.Fatal(err)
			}
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			g, err := gateway.New(c, log)
			if err != nil {
				t.Fatal(err)
			}
			tc, err := adminTLS(c, g, log)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.wantCN == "" && tc != nil:
				t.Fatalf("got TLS, want plaintext")
			case tt.wantCN == "":
				return
			case tc == nil:
				t.Fatalf("got plaintext, want TLS with %s", tt.wantCN)
			}
			crt, err := tc.GetCertificate(&tls.ClientHelloInfo{ServerName: tt.wantCN})
			if err != nil || crt.Leaf == nil || crt.Leaf.Subject.CommonName != tt.wantCN {
				t.Fatalf("served %v %v, want CN=%s", crt, err, tt.wantCN)
			}
		})
	}
}
