package admin_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	adminv1 "github.com/wssgate/wssgate/gen/wssgate/admin/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/wssgate/wssgate/admin"
	"github.com/wssgate/wssgate/admin/admintest"
)

// testCA is a throwaway CA for the tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t testing.TB, cn string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// issue returns a PEM leaf and key for cn (server: also DNS localhost and 127.0.0.1).
func (ca *testCA) issue(t testing.TB, cn string, serial int64, client bool) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(12 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	if client {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

func (ca *testCA) keyPair(t testing.TB, cn string, serial int64, client bool) tls.Certificate {
	t.Helper()
	c, k := ca.issue(t, cn, serial, client)
	pair, err := tls.X509KeyPair(c, k)
	if err != nil {
		t.Fatal(err)
	}
	return pair
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
	cfg := &tls.Config{RootCAs: e.ca.pool, Certificates: []tls.Certificate{cert}, ServerName: "localhost"}
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
