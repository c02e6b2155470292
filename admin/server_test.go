package admin_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthgrpc "google.golang.org/grpc/health/grpc_health_v1"
	reflectiongrpc "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	"github.com/wssgate/wssgate/admin"
	adminv1 "github.com/wssgate/wssgate/gen/wssgate/admin/v1"
)

func TestHealthDrain(t *testing.T) {
	e := startEnv(t, admin.Config{})
	h := healthgrpc.NewHealthClient(dial(t, e.addr))
	tests := []struct {
		name    string
		drain   bool
		service string
		want    healthgrpc.HealthCheckResponse_ServingStatus
	}{
		{"server before", false, "", healthgrpc.HealthCheckResponse_SERVING},
		{"service before", false, "wssgate.admin.v1.AdminService", healthgrpc.HealthCheckResponse_SERVING},
		{"server after drain", true, "", healthgrpc.HealthCheckResponse_NOT_SERVING},
		{"service after drain", true, "wssgate.admin.v1.AdminService", healthgrpc.HealthCheckResponse_NOT_SERVING},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.drain {
				e.srv.Drain()
			}
			r, err := h.Check(testCtx(t), &healthgrpc.HealthCheckRequest{Service: tt.service})
			if err != nil {
				t.Fatal(err)
			}
			if r.GetStatus() != tt.want {
				t.Errorf("got %v, want %v", r.GetStatus(), tt.want)
			}
		})
	}
	// Calls are still served while draining.
	if _, err := e.client(t).GetStats(testCtx(t), &adminv1.GetStatsRequest{}); err != nil {
		t.Errorf("GetStats while draining: %v", err)
	}
}

func TestReflection(t *testing.T) {
	e := startEnv(t, admin.Config{})
	r := reflectiongrpc.NewServerReflectionClient(dial(t, e.addr))
	st, err := r.ServerReflectionInfo(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	req := &reflectiongrpc.ServerReflectionRequest{MessageRequest: &reflectiongrpc.ServerReflectionRequest_ListServices{}}
	if err := st.Send(req); err != nil {
		t.Fatal(err)
	}
	resp, err := st.Recv()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, s := range resp.GetListServicesResponse().GetService() {
		got[s.GetName()] = true
	}
	for _, want := range []string{"wssgate.admin.v1.AdminService", "grpc.health.v1.Health"} {
		if !got[want] {
			t.Errorf("reflection lists %v, want it to include %s", got, want)
		}
	}
	// describe: the file holding the service resolves.
	if err := st.Send(&reflectiongrpc.ServerReflectionRequest{MessageRequest: &reflectiongrpc.ServerReflectionRequest_FileContainingSymbol{
		FileContainingSymbol: "wssgate.admin.v1.AdminService"}}); err != nil {
		t.Fatal(err)
	}
	resp, err = st.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(resp.GetFileDescriptorResponse().GetFileDescriptorProto()); n == 0 {
		t.Errorf("got no file descriptor for AdminService, want admin.proto")
	}
}

func TestUnixSocket(t *testing.T) {
	dir, err := os.MkdirTemp("", "wssgate-admin") // short path: sun_path is ~108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "admin.sock")
	// A stale socket file from a previous run is replaced.
	stale, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	stale.Close()

	e := startEnv(t, admin.Config{Addr: admin.AddrOff, UnixSocket: path})
	if e.srv.Addr() != nil {
		t.Errorf("got TCP address %v, want none", e.srv.Addr())
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("got socket mode %v, want 0600", got)
	}
	c := adminv1.NewAdminServiceClient(dial(t, "unix://"+path))
	if _, err := c.GetCertificates(testCtx(t), &adminv1.GetCertificatesRequest{}); err != nil {
		t.Fatalf("GetCertificates over the socket: %v", err)
	}
	// A second server on the same live socket refuses to start.
	s2, err := admin.New(admin.Config{Addr: admin.AddrOff, UnixSocket: path}, admin.Backends{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.Listen(); err == nil {
		t.Error("got a second listener on a live socket, want an error")
	}
}

// errBackend returns a fixed error from every call (for the error mapping test).
type errBackend struct{ err error }

func (b errBackend) Stats(context.Context) (admin.StatsSnapshot, error) {
	return admin.StatsSnapshot{}, b.err
}
func (b errBackend) Failures(context.Context, admin.FailureFilter) ([]admin.Failure, error) {
	return nil, b.err
}

func TestErrorMapping(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want codes.Code
	}{
		{"not found", fmt.Errorf("get session %q: %w", "x", admin.ErrNotFound), codes.NotFound},
		{"invalid wrapped", fmt.Errorf("subscribe: %w", admin.ErrInvalidArgument), codes.InvalidArgument},
		{"invalid marked", admin.Invalid(errors.New("certs: key does not match certificate")), codes.InvalidArgument},
		{"failed precondition", admin.ErrFailedPrecondition, codes.FailedPrecondition},
		{"exhausted", fmt.Errorf("send: %w", admin.ErrResourceExhausted), codes.ResourceExhausted},
		{"unavailable", fmt.Errorf("stats: %w", admin.ErrUnavailable), codes.Unavailable},
		{"unimplemented", admin.ErrUnimplemented, codes.Unimplemented},
		{"unauthenticated", admin.ErrUnauthenticated, codes.Unauthenticated},
		{"permission", admin.ErrPermissionDenied, codes.PermissionDenied},
		{"canceled", fmt.Errorf("x: %w", context.Canceled), codes.Canceled},
		{"deadline", context.DeadlineExceeded, codes.DeadlineExceeded},
		{"status passes", status.Error(codes.Aborted, "aborted"), codes.Aborted},
		{"other", errors.New("disk on fire"), codes.Internal},
	}
	lis := bufconn.Listen(1 << 20)
	b := &errBackend{}
	srv, err := admin.New(admin.Config{}, admin.Backends{Stats: b})
	if err != nil {
		t.Fatal(err)
	}
	go srv.ServeOn(lis)
	t.Cleanup(func() { srv.Stop(time.Second) })
	cc := dial(t, "passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	c := adminv1.NewAdminServiceClient(cc)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := status.Code(admin.ToStatus(tt.err)); got != tt.want {
				t.Errorf("toStatus: got %v, want %v", got, tt.want)
			}
			b.err = tt.err
			_, err := c.GetStats(testCtx(t), &adminv1.GetStatsRequest{})
			if got := status.Code(err); got != tt.want {
				t.Errorf("over gRPC: got %v (%v), want %v", got, err, tt.want)
			}
			if tt.name == "invalid marked" && status.Convert(err).Message() != "certs: key does not match certificate" {
				t.Errorf("got message %q, want the reason unchanged", status.Convert(err).Message())
			}
		})
	}
	if admin.ToStatus(nil) != nil {
		t.Error("admin.ToStatus(nil) is not nil")
	}
}
