package admin

import (
	"context"

	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/tap"
)

// tap authenticates every call from its header metadata and its connection (token or
// client certificate) before gRPC reads a byte of the request message: an
// unauthenticated caller is refused with UNAUTHENTICATED (or PERMISSION_DENIED for an
// unlisted certificate) and its stream is reset, so the message it sends is never
// buffered or decoded. The role check per method stays in the interceptors, which see the
// decoded request for the audit line.
//
// gRPC calls it on the connection's reader goroutine while holding the transport's lock,
// so it only compares hashes, looks up maps and runs Config.CheckClientCert.
func (s *Server) tap(ctx context.Context, info *tap.Info) (context.Context, error) {
	if isPublic(info.FullMethodName) {
		return ctx, nil
	}
	md := info.Header
	if md == nil {
		md, _ = metadata.FromIncomingContext(ctx)
	}
	c, err := s.auth.authenticate(ctx, md)
	if err != nil {
		if required(info.FullMethodName) == AccessAdmin {
			s.audit(c, info.FullMethodName, nil, err, 0)
		}
		return ctx, err
	}
	return context.WithValue(ctx, callerKey{}, c), nil
}

// callerOf returns the caller the tap authenticated, authenticating again when the tap
// did not run (it always does on a Server's listeners; this keeps the interceptors safe
// on their own).
func (s *Server) callerOf(ctx context.Context) (caller, error) {
	if c, ok := ctx.Value(callerKey{}).(caller); ok {
		return c, nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	return s.auth.authenticate(ctx, md)
}
