package admin

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	adminv1 "github.com/wssgate/wssgate/gen/wssgate/admin/v1"
)

// caller is an authenticated identity and what it may do.
type caller struct {
	who    string // "token:ops", "cert:ops-1", "local:unix", "unknown"
	access Access
}

// tokenEntry is a parsed Token.
type tokenEntry struct {
	who    string
	hash   []byte
	access Access
}

// authenticator checks credentials. It is immutable after newAuthenticator.
type authenticator struct {
	tokens       []tokenEntry
	clientAccess map[string]Access
	identity     func(*x509.Certificate) (string, error)
	checkCert    func([]*x509.Certificate) error
	mutualTLS    bool // the TCP listener verifies client certificates: no anonymous TLS callers
}

// newAuthenticator parses validated config.
func newAuthenticator(c Config) *authenticator {
	a := &authenticator{
		clientAccess: c.ClientAccess,
		identity:     c.ClientIdentity,
		checkCert:    c.CheckClientCert,
		mutualTLS:    c.mutualTLS(),
	}
	if a.identity == nil {
		a.identity = func(leaf *x509.Certificate) (string, error) { return leaf.Subject.CommonName, nil }
	}
	for _, t := range c.Tokens {
		h, _ := parseTokenHash(t.SHA256) // validated by Config.validate
		who := "token:" + t.Name
		if t.Name == "" {
			who = "token:" + strings.ToLower(strings.TrimSpace(t.SHA256))[:8]
		}
		a.tokens = append(a.tokens, tokenEntry{who: who, hash: h, access: t.Access})
	}
	return a
}

// authenticate identifies the caller from the call's header metadata md and the peer of
// ctx: a bearer token first, then a verified client certificate, then (only when no
// tokens are configured and the connection is not an mTLS one) an anonymous local caller.
// It reads no message: the tap calls it before the request body is decoded.
func (a *authenticator) authenticate(ctx context.Context, md metadata.MD) (caller, error) {
	if vals := md.Get("authorization"); len(vals) > 0 {
		return a.token(vals[0])
	}
	tlsInfo, isTLS := peerTLS(ctx)
	if isTLS && len(tlsInfo.State.VerifiedChains) > 0 {
		return a.clientCert(tlsInfo.State.VerifiedChains[0])
	}
	if len(a.tokens) > 0 || (isTLS && a.mutualTLS) {
		return caller{who: "unknown"}, status.Error(codes.Unauthenticated,
			"admin: unauthenticated: missing bearer token (metadata \"authorization: Bearer <token>\") or client certificate")
	}
	who := "local"
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		who = "local:" + p.Addr.String()
	}
	return caller{who: who, access: AccessAdmin}, nil
}

// peerTLS returns the TLS state of ctx's connection, if it is a TLS one.
func peerTLS(ctx context.Context) (credentials.TLSInfo, bool) {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return credentials.TLSInfo{}, false
	}
	ti, ok := p.AuthInfo.(credentials.TLSInfo)
	return ti, ok
}

// token checks an authorization header value in constant time against every token.
// The scheme "Bearer" is case-insensitive (RFC 9110 §11.1).
func (a *authenticator) token(header string) (caller, error) {
	scheme, value, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "bearer") || strings.TrimSpace(value) == "" {
		return caller{who: "unknown"}, status.Error(codes.Unauthenticated,
			"admin: unauthenticated: authorization metadata is not \"Bearer <token>\"")
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(value)))
	found := -1
	for i, t := range a.tokens {
		if subtle.ConstantTimeCompare(sum[:], t.hash) == 1 {
			found = i
		}
	}
	if found < 0 {
		return caller{who: "unknown"}, status.Error(codes.Unauthenticated, "admin: unauthenticated: unknown token")
	}
	t := a.tokens[found]
	return caller{who: t.who, access: t.access}, nil
}

// clientCert identifies a verified client certificate chain (leaf first): the revocation
// check, then the identity, then its access in clientAccess.
func (a *authenticator) clientCert(chain []*x509.Certificate) (caller, error) {
	leaf := chain[0]
	if a.checkCert != nil {
		if err := a.checkCert(chain); err != nil {
			return caller{who: "cert:" + leaf.Subject.String()}, status.Errorf(codes.Unauthenticated,
				"admin: unauthenticated: client certificate %q refused: %v", leaf.Subject.String(), err)
		}
	}
	id, err := a.identity(leaf)
	if err != nil {
		return caller{who: "cert:" + leaf.Subject.String()}, status.Errorf(codes.Unauthenticated,
			"admin: unauthenticated: client certificate %q: %v", leaf.Subject.String(), err)
	}
	c := caller{who: "cert:" + id, access: AccessAdmin}
	if a.clientAccess == nil {
		return c, nil
	}
	acc, ok := a.clientAccess[id]
	if !ok {
		return caller{who: c.who}, status.Errorf(codes.PermissionDenied,
			"admin: permission denied: client certificate identity %q is not listed in the admin clients", id)
	}
	c.access = acc
	return c, nil
}

// readMethods may be called with AccessRead.
var readMethods = map[string]bool{
	adminv1.AdminService_GetCertificates_FullMethodName: true,
	adminv1.AdminService_ListSessions_FullMethodName:    true,
	adminv1.AdminService_GetSession_FullMethodName:      true,
	adminv1.AdminService_WatchSessions_FullMethodName:   true,
	adminv1.AdminService_Subscribe_FullMethodName:       true,
	adminv1.AdminService_GetStats_FullMethodName:        true,
	adminv1.AdminService_ListFailures_FullMethodName:    true,
	adminv1.AdminService_ListNames_FullMethodName:       true,
}

// isPublic reports whether method needs no credentials (the gRPC health service, for load
// balancers and orchestrators).
func isPublic(method string) bool {
	return strings.HasPrefix(method, "/grpc.health.v1.Health/")
}

// required returns the access a method needs: read for the read methods and reflection,
// admin for everything else (including unknown methods).
func required(method string) Access {
	if readMethods[method] || strings.HasPrefix(method, "/grpc.reflection.") {
		return AccessRead
	}
	return AccessAdmin
}

// permit checks that an authenticated caller may call method.
func permit(c caller, method string) error {
	if required(method) == AccessAdmin && c.access != AccessAdmin {
		return status.Errorf(codes.PermissionDenied,
			"admin: permission denied: %s needs the %q role, %s has %q", shortMethod(method), AccessAdmin, c.who, c.access)
	}
	return nil
}

// shortMethod turns "/wssgate.admin.v1.AdminService/CloseSession" into "CloseSession".
func shortMethod(full string) string {
	return full[strings.LastIndexByte(full, '/')+1:]
}

type callerKey struct{}

// Caller returns who makes the admin call of ctx, e.g. "token:ops", "cert:ops-1" or
// "local:127.0.0.1:51234", for backends that record it (a close reason, a log line).
// It returns "" outside an admin call.
func Caller(ctx context.Context) string {
	c, _ := ctx.Value(callerKey{}).(caller)
	return c.who
}
