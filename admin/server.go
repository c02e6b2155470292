package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthgrpc "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"

	adminv1 "github.com/wssgate/wssgate/gen/wssgate/admin/v1"
)

// Server is the admin gRPC server: AdminService, grpc.health.v1 and server reflection on a
// TCP listener (TLS optional) and an optional Unix socket.
type Server struct {
	cfg      Config
	b        Backends
	auth     *authenticator
	log      *slog.Logger
	grpc     *grpc.Server
	health   *health.Server
	stopping chan struct{} // closed by Stop: ends every stream
	stopOnce sync.Once
	now      func() time.Time

	mu        sync.Mutex // guards listeners and tcpAddr
	listeners []net.Listener
	tcpAddr   net.Addr
}

// New builds a Server from cfg and the backends. It fails when cfg is invalid, in
// particular when the TCP address is not loopback and neither mTLS nor a token is
// configured (ErrInsecure) or TLS is not (ErrPlaintext). It does not listen yet: see
// Listen and Serve.
func New(cfg Config, b Backends) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Server{
		cfg:      cfg,
		b:        b,
		auth:     newAuthenticator(cfg),
		log:      cfg.Logger,
		health:   health.NewServer(),
		stopping: make(chan struct{}),
		now:      time.Now,
	}
	opts := []grpc.ServerOption{
		grpc.InTapHandle(s.tap), // authentication, before any message is read
		grpc.MaxRecvMsgSize(cfg.MaxMessage),
		grpc.MaxSendMsgSize(cfg.MaxMessage),
		grpc.MaxConcurrentStreams(cfg.MaxConcurrentStreams),
		grpc.ChainUnaryInterceptor(s.unary),
		grpc.ChainStreamInterceptor(s.stream),
		// Long-lived streams (watch, subscribe): let clients ping every 10 s or more, and
		// ping idle clients ourselves so that a vanished one releases its subscription.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: time.Minute, Timeout: 20 * time.Second}),
	}
	if cfg.TLS != nil {
		opts = append(opts, grpc.Creds(tcpOnlyTLS{credentials.NewTLS(cfg.TLS)}))
	}
	s.grpc = grpc.NewServer(opts...)
	adminv1.RegisterAdminServiceServer(s.grpc, &service{s: s})
	healthgrpc.RegisterHealthServer(s.grpc, s.health)
	reflection.Register(s.grpc)
	s.health.SetServingStatus("", healthgrpc.HealthCheckResponse_SERVING)
	s.health.SetServingStatus(adminv1.AdminService_ServiceDesc.ServiceName, healthgrpc.HealthCheckResponse_SERVING)
	return s, nil
}

// Listen binds the configured listeners. Serve calls it when it was not called before;
// call it first to learn Addr before serving.
func (s *Server) Listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listeners != nil {
		return errors.New("admin: already listening")
	}
	var lns []net.Listener
	if s.cfg.Addr != AddrOff {
		ln, err := net.Listen("tcp", s.cfg.Addr)
		if err != nil {
			return fmt.Errorf("listen admin: %w", err)
		}
		lns = append(lns, ln)
		s.tcpAddr = ln.Addr()
	}
	if s.cfg.UnixSocket != "" {
		ln, err := listenUnix(s.cfg.UnixSocket, s.cfg.UnixSocketMode)
		if err != nil {
			closeAll(lns)
			return err
		}
		lns = append(lns, ln)
	}
	s.listeners = lns
	return nil
}

// listenUnix listens on path, replacing a stale socket file (one nobody accepts on).
func listenUnix(path string, mode os.FileMode) (net.Listener, error) {
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("listen admin unix %s: exists and is not a socket", path)
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("listen admin unix %s: socket in use", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("remove stale socket: %w", err)
		}
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen admin unix: %w", err)
	}
	if err := os.Chmod(path, mode); err != nil {
		ln.Close()
		return nil, fmt.Errorf("chmod admin socket: %w", err)
	}
	return ln, nil
}

func closeAll(lns []net.Listener) {
	for _, ln := range lns {
		ln.Close()
	}
}

// Addr is the bound TCP address after Listen, or nil.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tcpAddr
}

// Serve serves on the configured listeners (calling Listen if needed) until ctx is done,
// Stop is called or a listener fails. When ctx ends it stops with cfg.ShutdownTimeout.
// It returns nil after a stop and the listener's error otherwise.
func (s *Server) Serve(ctx context.Context) error {
	s.mu.Lock()
	listening := s.listeners != nil
	s.mu.Unlock()
	if !listening {
		if err := s.Listen(); err != nil {
			return err
		}
	}
	s.mu.Lock()
	lns := s.listeners
	s.mu.Unlock()
	errc := make(chan error, len(lns))
	for _, ln := range lns {
		go func() { errc <- s.grpc.Serve(ln) }()
	}
	var first error
	pending := len(lns)
	select {
	case <-ctx.Done():
	case first = <-errc:
		pending--
	}
	s.Stop(s.cfg.ShutdownTimeout)
	for ; pending > 0; pending-- {
		if err := <-errc; first == nil {
			first = err
		}
	}
	if first != nil && !errors.Is(first, grpc.ErrServerStopped) {
		return fmt.Errorf("serve admin: %w", first)
	}
	return nil
}

// Drain reports NOT_SERVING on the health service (for every service name) from now on.
// Calls keep being served until Stop.
func (s *Server) Drain() {
	s.health.Shutdown()
}

// Stop drains, ends every stream with UNAVAILABLE, then stops gracefully, waiting at most
// timeout for running calls before closing every connection. It is idempotent; concurrent
// callers return when the first stop is complete.
func (s *Server) Stop(timeout time.Duration) {
	s.stopOnce.Do(func() {
		s.Drain()
		close(s.stopping)
		done := make(chan struct{})
		go func() {
			s.grpc.GracefulStop()
			close(done)
		}()
		t := time.NewTimer(timeout)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
			s.log.Warn("admin: graceful stop timed out; closing connections", "timeout", timeout)
			s.grpc.Stop()
			<-done
		}
		s.mu.Lock()
		closeAll(s.listeners) // bound by Listen but maybe never served
		s.mu.Unlock()
	})
}
