package admin

import (
	"context"
	"log/slog"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/status"

	adminv1 "github.com/wssgate/wssgate/gen/wssgate/admin/v1"
)

// unary authorizes every unary call of the caller the tap authenticated, and writes one
// audit line for each call that needs the admin role (the mutating ones), whether it was
// allowed or not (the tap writes the line of a call it refuses).
func (s *Server) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if isPublic(info.FullMethod) {
		return h(ctx, req)
	}
	start := time.Now()
	c, err := s.callerOf(ctx)
	if err == nil {
		err = permit(c, info.FullMethod)
	}
	var resp any
	if err == nil {
		resp, err = h(context.WithValue(ctx, callerKey{}, c), req)
	}
	if required(info.FullMethod) == AccessAdmin {
		s.audit(c, info.FullMethod, req, err, time.Since(start))
	}
	return resp, err
}

// stream authorizes every streaming call of the caller the tap authenticated. No stream
// mutates state.
func (s *Server) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	if isPublic(info.FullMethod) {
		return h(srv, ss)
	}
	c, err := s.callerOf(ss.Context())
	if err == nil {
		err = permit(c, info.FullMethod)
	}
	if err != nil {
		return err
	}
	return h(srv, &callerStream{ServerStream: ss, ctx: context.WithValue(ss.Context(), callerKey{}, c)})
}

// callerStream carries the caller in its context.
type callerStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (c *callerStream) Context() context.Context { return c.ctx }

// audit writes the one audit line of a mutating call: who, what, key arguments, result.
func (s *Server) audit(c caller, method string, req any, err error, d time.Duration) {
	attrs := []any{
		slog.String("who", c.who),
		slog.String("method", shortMethod(method)),
	}
	attrs = append(attrs, auditArgs(req)...)
	attrs = append(attrs, slog.String("code", status.Code(err).String()), slog.Duration("duration", d))
	if err != nil {
		attrs = append(attrs, slog.String("error", status.Convert(err).Message()))
	}
	s.log.Info("audit", attrs...)
}

// auditArgs are the key arguments of a mutating request (never payload bytes or keys).
func auditArgs(req any) []any {
	switch r := req.(type) {
	case *adminv1.ReloadCertificatesRequest:
		return []any{
			slog.Bool("dry_run", r.GetDryRun()),
			slog.Bool("cert_pem", len(r.GetCertPem()) > 0),
			slog.Bool("client_ca_pem", len(r.GetClientCaPem()) > 0),
		}
	case *adminv1.CloseSessionRequest:
		if r.GetIdentity() != "" {
			return []any{slog.String("identity", r.GetIdentity()), slog.Uint64("close_code", uint64(r.GetCode())), slog.String("reason", r.GetReason())}
		}
		return []any{slog.String("session", r.GetId()), slog.Uint64("close_code", uint64(r.GetCode())), slog.String("reason", r.GetReason())}
	case *adminv1.SendToSessionRequest:
		return []any{slog.String("session", r.GetId()), slog.Bool("binary", isBinarySend(r)), slog.Int("bytes", len(r.GetText())+len(r.GetBinary()))}
	case *adminv1.PublishRequest:
		return []any{slog.String("channel", r.GetChannel()), slog.Bool("binary", isBinaryPublish(r)), slog.Int("bytes", len(r.GetText())+len(r.GetBinary()))}
	case *adminv1.ReconnectSessionsRequest:
		return []any{slog.Uint64("below_generation", r.GetBelowGeneration()), slog.String("listener", r.GetListener()), slog.Float64("rate_per_second", r.GetRatePerSecond())}
	default:
		return nil
	}
}

func isBinarySend(r *adminv1.SendToSessionRequest) bool {
	_, ok := r.GetPayload().(*adminv1.SendToSessionRequest_Binary)
	return ok
}

func isBinaryPublish(r *adminv1.PublishRequest) bool {
	_, ok := r.GetPayload().(*adminv1.PublishRequest_Binary)
	return ok
}
