// Package admin is the gRPC admin server of wssgate (service wssgate.admin.v1.AdminService)
// and its ops HTTP handler (/metrics, /healthz, /readyz).
//
// The server depends only on the small interfaces declared in backend.go (Certificates,
// Sessions, Messages, Stats) and on the plain structs that cross them; the gateway provides
// an adapter. It never reaches into gateway internals.
//
// Every call is authenticated by a grpc.InTapHandle (tap.go) from its header metadata and
// its connection's verified client certificate, before gRPC reads its message; the
// interceptors then check the caller's role per method and write the audit lines.
//
// Concurrency contract: a *Server is safe for concurrent use once New returns. Backends are
// called concurrently from gRPC handler goroutines and must be safe for that. The callbacks
// that a backend receives from WatchSessions and Subscribe never block: they copy the value
// into a bounded per-stream buffer (or mark the stream as overflowed) and return, so a slow
// gRPC consumer cannot stall the gateway; an overflowed stream ends with RESOURCE_EXHAUSTED.
// Streams end when the client goes away or when the server stops. The tap, and with it
// Config.CheckClientCert and Config.ClientIdentity, runs on gRPC's connection reader
// goroutine under the transport's lock: those functions must be fast and never block.
//
// Errors returned by backends are mapped to gRPC status codes by one function (toStatus):
// wrap ErrNotFound, ErrInvalidArgument (or use Invalid), ErrUnavailable, ErrResourceExhausted,
// ErrFailedPrecondition to choose the code; anything else is INTERNAL.
package admin
