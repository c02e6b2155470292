package admin_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/wssgate/wssgate/admin"
	"github.com/wssgate/wssgate/admin/admintest"
	"github.com/wssgate/wssgate/gateway/certs/certstest"
	adminv1 "github.com/wssgate/wssgate/gen/wssgate/admin/v1"
)

// testCA issues the tests' certificates (gateway/certs/certstest, as the
// gateway's own tests do).
type testCA struct{ *certstest.CA }

func newTestCA(t testing.TB, cn string) *testCA { return &testCA{certstest.NewCA(t, cn)} }

// leaf issues a certificate for cn: a client certificate, or a server one
// for localhost and 127.0.0.1.
func (ca *testCA) leaf(t testing.TB, cn string, serial int64, client bool) *certstest.Leaf {
	t.Helper()
	o := certstest.LeafOptions{CN: cn, Serial: big.NewInt(serial), Client: client}
	if !client {
		o.DNS, o.IPs = []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	return ca.Issue(t, o)
}

// issue returns a PEM leaf and key (see leaf).
func (ca *testCA) issue(t testing.TB, cn string, serial int64, client bool) (certPEM, keyPEM []byte) {
	t.Helper()
	l := ca.leaf(t, cn, serial, client)
	return l.CertPEM, l.KeyPEM
}

func (ca *testCA) keyPair(t testing.TB, cn string, serial int64, client bool) tls.Certificate {
	t.Helper()
	return ca.leaf(t, cn, serial, client).TLS
}

// env is a running admin server with in-memory backends.
type env struct {
	srv      *admin.Server
	certs    *admintest.Certs
	sessions *admintest.Sessions
	hub      *admintest.Hub
	stats    *admintest.Stats
	ca       *testCA
	log      *syncBuffer
	addr     string
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startEnv starts a server on 127.0.0.1:0 (cfg.Addr empty) and stops it at cleanup.
func startEnv(t *testing.T, cfg admin.Config) *env {
	t.Helper()
	ca := newTestCA(t, "test CA")
	certPEM, keyPEM := ca.issue(t, "gateway", 100, false)
	certs, err := admintest.NewCerts(certPEM, keyPEM, "", "")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{certs: certs, sessions: newSessions(), hub: admintest.NewHub(), stats: &admintest.Stats{}, ca: ca, log: &syncBuffer{}}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	cfg.Logger = slog.New(slog.NewTextHandler(io.MultiWriter(e.log), nil))
	e.srv, err = admin.New(cfg, admin.Backends{Certificates: e.certs, Sessions: e.sessions, Messages: e.hub, Stats: e.stats})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := e.srv.Listen(); err != nil {
		t.Fatalf("Listen: %v", err)
	}
	if a := e.srv.Addr(); a != nil {
		e.addr = a.String()
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return e
}

// dial connects a plaintext client to target ("127.0.0.1:port" or "unix:///path").
func dial(t *testing.T, target string, opts ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	if len(opts) == 0 {
		opts = []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	}
	cc, err := grpc.NewClient(target, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return cc
}

func (e *env) client(t *testing.T) adminv1.AdminServiceClient {
	return adminv1.NewAdminServiceClient(dial(t, e.addr))
}

// tlsClient dials with mTLS using a client certificate issued by e.ca.
func (e *env) tlsClient(t *testing.T, cert tls.Certificate) adminv1.AdminServiceClient {
	cfg := &tls.Config{RootCAs: e.ca.Pool, Certificates: []tls.Certificate{cert}, ServerName: "localhost"}
	return adminv1.NewAdminServiceClient(dial(t, e.addr, grpc.WithTransportCredentials(credentials.NewTLS(cfg))))
}

// testCtx is a context bounded for one test step.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// withToken adds a bearer token to ctx.
func withToken(ctx context.Context, token string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
}

// newSessions is the in-memory registry with a small outbox bound, so that
// a full queue is easy to reach.
func newSessions() *admintest.Sessions {
	s := admintest.NewSessions()
	s.QueueCap = 4
	return s
}
