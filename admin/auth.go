package admin

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"strings"

	adminv1 "github.com/wssgate/wssgate/gen/wssgate/admin/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// caller is an authenticated identity and what it may do.
type caller struct {
	who    string // "token:ops", "cert:CN=gw-admin", "local:unix", "unknown"
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
}

// newAuthenticator parses validated config.
func newAuthenticator(c Config) *authenticator {
	a := &authenticator{clientAccess: c.ClientAccess}
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

// authenticate identifies the caller of ctx: a bearer token first, then a verified client
// certificate, then (only when no tokens are configured) an anonymous local caller.
func (a *authenticator) authenticate(ctx context.Context) (caller, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	if vals := md.Get("authorization"); len(vals) > 0 {
		return a.token(vals[0])
	}
	if c, ok, err := a.clientCert(ctx); ok || err != nil {
		return c, err
	}
	if len(a.tokens) > 0 {
		return caller{who: "unknown"}, status.Error(codes.Unauthenticated,
			"admin: unauthenticated: missing bearer token (metadata \"authorization: Bearer <token>\") or client certificate")
	}
	who := "local"
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		who = "local:" + p.Addr.String()
	}
	return caller{who: who, access: AccessAdmin}, nil
}

// token checks an authorization header value in constant time against every token.
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

// clientCert identifies a verified client certificate by its subject common name.
func (a *authenticator) clientCert(ctx context.Context) (caller, bool, error) {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return caller{}, false, nil
	}
	ti, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(ti.State.VerifiedChains) == 0 || len(ti.State.PeerCertificates) == 0 {
		return caller{}, false, nil
	}
	cn := ti.State.PeerCertificates[0].Subject.CommonName
	c := caller{who: "cert:CN=" + cn, access: AccessAdmin}
	if a.clientAccess == nil {
		return c, true, nil
	}
	acc, ok := a.clientAccess[cn]
	if !ok {
		return caller{who: c.who}, true, status.Errorf(codes.PermissionDenied,
			"admin: permission denied: client certificate CN=%q has no access", cn)
	}
	c.access = acc
	return c, true, nil
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

// authorize authenticates ctx's caller and checks its access to method.
func (a *authenticator) authorize(ctx context.Context, method string) (caller, error) {
	c, err := a.authenticate(ctx)
	if err != nil {
		return c, err
	}
	if required(method) == AccessAdmin && c.access != AccessAdmin {
		return c, status.Errorf(codes.PermissionDenied,
			"admin: permission denied: %s needs the %q role, %s has %q", shortMethod(method), AccessAdmin, c.who, c.access)
	}
	return c, nil
}

// shortMethod turns "/wssgate.admin.v1.AdminService/CloseSession" into "CloseSession".
func shortMethod(full string) string {
	return full[strings.LastIndexByte(full, '/')+1:]
}

type callerKey struct{}

// Caller returns who makes the admin call of ctx, e.g. "token:ops", "cert:CN=ops" or
// "local:127.0.0.1:51234", for backends that record it (a close reason, a log line).
// It returns "" outside an admin call.
func Caller(ctx context.Context) string {
	c, _ := ctx.Value(callerKey{}).(caller)
	return c.who
}
