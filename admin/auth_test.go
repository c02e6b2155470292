package admin_test

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	healthgrpc "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/wssgate/wssgate/admin"
	adminv1 "github.com/wssgate/wssgate/gen/wssgate/admin/v1"
)

func hashOf(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func TestTokens(t *testing.T) {
	e := startEnv(t, admin.Config{Tokens: []admin.Token{
		{Name: "viewer", SHA256: hashOf("read-secret"), Access: admin.AccessRead},
		{Name: "ops", SHA256: hashOf("admin-secret"), Access: admin.AccessAdmin},
	}})
	e.sessions.Connect(session("s1", "devices", admin.RoleDevice, "dev1", 1))
	e.sessions.Connect(session("s2", "devices", admin.RoleDevice, "dev2", 1))
	c := e.client(t)

	tests := []struct {
		name  string
		token string // "" → none
		call  rpc
		want  codes.Code
	}{
		{"no token list", "", listCall, codes.Unauthenticated},
		{"unknown token", "guess", listCall, codes.Unauthenticated},
		{"read token list", "read-secret", listCall, codes.OK},
		{"read token close", "read-secret", closeCall("s1"), codes.PermissionDenied},
		{"read token publish", "read-secret", publishCall, codes.PermissionDenied},
		{"admin token list", "admin-secret", listCall, codes.OK},
		{"admin token close", "admin-secret", closeCall("s2"), codes.OK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testCtx(t)
			if tt.token != "" {
				ctx = withToken(ctx, tt.token)
			}
			wantCode(t, tt.call(ctx, c), tt.want)
		})
	}

	t.Run("health is public", func(t *testing.T) {
		h := healthgrpc.NewHealthClient(dial(t, e.addr))
		r, err := h.Check(testCtx(t), &healthgrpc.HealthCheckRequest{})
		if err != nil || r.GetStatus() != healthgrpc.HealthCheckResponse_SERVING {
			t.Errorf("got %v, %v; want SERVING", r.GetStatus(), err)
		}
	})

	t.Run("audit", func(t *testing.T) {
		log := e.log.String()
		for _, want := range []string{
			`msg=audit who=token:viewer method=CloseSession session=s1 close_code=0 reason="" code=PermissionDenied`,
			`msg=audit who=token:ops method=CloseSession session=s2 close_code=0 reason="" code=OK`,
			`msg=audit who=token:viewer method=Publish channel=devices/1/down binary=false bytes=1 code=PermissionDenied`,
		} {
			if !strings.Contains(log, want) {
				t.Errorf("audit log lacks %q; got:\n%s", want, log)
			}
		}
		if n := strings.Count(log, "msg=audit"); n != 3 {
			t.Errorf("got %d audit lines, want 3 (one per mutating call, none for reads)", n)
		}
	})
}

// rpc is one call used in the access tables.
type rpc func(ctx context.Context, c adminv1.AdminServiceClient) error

func listCall(ctx context.Context, c adminv1.AdminServiceClient) error {
	_, err := c.ListSessions(ctx, &adminv1.ListSessionsRequest{})
	return err
}

func closeCall(id string) rpc {
	return func(ctx context.Context, c adminv1.AdminServiceClient) error {
		_, err := c.CloseSession(ctx, &adminv1.CloseSessionRequest{Id: id})
		return err
	}
}

func publishCall(ctx context.Context, c adminv1.AdminServiceClient) error {
	_, err := c.Publish(ctx, &adminv1.PublishRequest{Channel: "devices/1/down", Payload: &adminv1.PublishRequest_Text{Text: "x"}})
	return err
}

func TestMutualTLS(t *testing.T) {
	ca := newTestCA(t, "admin CA")
	serverCert := ca.keyPair(t, "admin server", 10, false)
	cfg := admin.Config{
		Addr: "127.0.0.1:0",
		TLS: &tls.Config{
			Certificates: []tls.Certificate{serverCert},
			ClientCAs:    ca.Pool,
			ClientAuth:   tls.RequireAndVerifyClientCert,
		},
		ClientAccess: map[string]admin.Access{"ops": admin.AccessAdmin, "viewer": admin.AccessRead},
	}
	e := startEnv(t, cfg)
	e.ca = ca // clients trust the admin CA
	e.sessions.Connect(session("s1", "devices", admin.RoleDevice, "dev1", 1))

	tests := []struct {
		name string
		cn   string
		call rpc
		want codes.Code
	}{
		{"viewer lists", "viewer", listCall, codes.OK},
		{"viewer closes", "viewer", closeCall("s1"), codes.PermissionDenied},
		{"stranger lists", "stranger", listCall, codes.PermissionDenied},
		{"ops closes", "ops", closeCall("s1"), codes.OK},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.tlsClient(t, ca.keyPair(t, tt.cn, int64(100+i), true))
			wantCode(t, tt.call(testCtx(t), c), tt.want)
		})
	}

	t.Run("unix socket stays plaintext", func(t *testing.T) {
		dir, err := os.MkdirTemp("", "wssgate-admin")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		cfg.UnixSocket = filepath.Join(dir, "admin.sock")
		u := startEnv(t, cfg)
		c := adminv1.NewAdminServiceClient(dial(t, "unix://"+cfg.UnixSocket))
		wantCode(t, listCall(testCtx(t), c), codes.OK) // local, no tokens configured: admin
		u.ca = ca
		tc := u.tlsClient(t, ca.keyPair(t, "viewer", 99, true))
		wantCode(t, listCall(testCtx(t), tc), codes.OK) // and TCP is still mTLS
	})

	t.Run("no client certificate", func(t *testing.T) {
		c := e.tlsClient(t, tls.Certificate{})
		wantCode(t, listCall(testCtx(t), c), codes.Unavailable) // the TLS handshake fails
	})
}

func TestOffLoopbackNeedsAuth(t *testing.T) {
	ca := newTestCA(t, "admin CA")
	serverCert := ca.keyPair(t, "admin server", 10, false)
	mtls := &tls.Config{Certificates: []tls.Certificate{serverCert}, ClientCAs: ca.Pool, ClientAuth: tls.RequireAndVerifyClientCert}
	serverOnly := &tls.Config{Certificates: []tls.Certificate{serverCert}}
	tests := []struct {
		name    string
		cfg     admin.Config
		wantErr error // nil: New succeeds
	}{
		{"loopback default", admin.Config{}, nil},
		{"loopback v6", admin.Config{Addr: "[::1]:0"}, nil},
		{"localhost", admin.Config{Addr: "localhost:0"}, nil},
		{"all interfaces bare", admin.Config{Addr: ":0"}, admin.ErrInsecure},
		{"wildcard bare", admin.Config{Addr: "0.0.0.0:0"}, admin.ErrInsecure},
		{"server TLS only", admin.Config{Addr: "0.0.0.0:0", TLS: serverOnly}, admin.ErrInsecure},
		{"mTLS", admin.Config{Addr: "0.0.0.0:0", TLS: mtls}, nil},
		{"token", admin.Config{Addr: "0.0.0.0:0", TLS: serverOnly, Tokens: []admin.Token{{SHA256: hashOf("x"), Access: admin.AccessRead}}}, nil},
		{"token over plaintext", admin.Config{Addr: "0.0.0.0:0", Tokens: []admin.Token{{SHA256: hashOf("x"), Access: admin.AccessRead}}}, admin.ErrPlaintext},
		{"token over plaintext, all interfaces", admin.Config{Addr: ":0", Tokens: []admin.Token{{SHA256: hashOf("x"), Access: admin.AccessRead}}}, admin.ErrPlaintext},
		{"mTLS if given", admin.Config{Addr: "0.0.0.0:0", TLS: &tls.Config{Certificates: []tls.Certificate{serverCert}, ClientCAs: ca.Pool, ClientAuth: tls.VerifyClientCertIfGiven}}, nil},
		{"token on loopback plaintext", admin.Config{Tokens: []admin.Token{{SHA256: hashOf("x"), Access: admin.AccessRead}}}, nil},
		{"bad token hash", admin.Config{Tokens: []admin.Token{{SHA256: "abc", Access: admin.AccessRead}}}, errAny},
		{"bad token access", admin.Config{Tokens: []admin.Token{{SHA256: hashOf("x"), Access: "root"}}}, errAny},
		{"nothing to listen on", admin.Config{Addr: admin.AddrOff}, errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := admin.New(tt.cfg, admin.Backends{})
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("got error %v, want none", err)
			case tt.wantErr == errAny && err == nil, tt.wantErr != nil && tt.wantErr != errAny && !errors.Is(err, tt.wantErr):
				t.Fatalf("got error %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// errAny stands for "some error" in tables.
var errAny = errors.New("any error")
