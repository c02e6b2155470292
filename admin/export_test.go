package admin

import "net"

// Internals for the external tests (package admin_test).

// ToStatus is toStatus.
var ToStatus = toStatus

// ServeOn serves the gRPC API on l, e.g. an in-memory listener.
func (s *Server) ServeOn(l net.Listener) error { return s.grpc.Serve(l) }
