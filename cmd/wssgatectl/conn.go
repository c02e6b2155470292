package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/wssgate/wssgate/gateway/config"
	adminv1 "github.com/wssgate/wssgate/gen/wssgate/admin/v1"
)

// client dials the admin API on first use and returns its client.
func (c *cli) client() (adminv1.AdminServiceClient, error) {
	if c.conn == nil {
		conn, err := c.dial()
		if err != nil {
			return nil, err
		}
		c.conn = conn
	}
	return adminv1.NewAdminServiceClient(c.conn), nil
}

// dial builds the connection from the global flags. gRPC connects lazily, so an
// unreachable server shows up as UNAVAILABLE on the first call.
func (c *cli) dial() (*grpc.ClientConn, error) {
	g := &c.g
	g.resolve()
	target, unix := dialTarget(g.addr)
	if (g.cert == "") != (g.key == "") {
		return nil, &usageError{msg: "--cert and --key must be given together"}
	}
	if g.cert != "" && g.cacert == "" {
		return nil, &usageError{msg: "--cert/--key (mTLS) need --cacert"}
	}
	creds := insecure.NewCredentials()
	if g.cacert != "" && !unix {
		cfg, err := g.tlsConfig()
		if err != nil {
			return nil, err
		}
		creds = credentials.NewTLS(cfg)
	}
	opts := []grpc.DialOption{grpc.WithTransportCredentials(creds)}
	if g.token != "" {
		if g.cacert == "" && !unix && !config.OnLoopback(g.addr) {
			fmt.Fprintf(c.stderr, "wssgatectl: warning: sending the token over plaintext to %s; use --cacert\n", g.addr)
		}
		opts = append(opts, grpc.WithPerRPCCredentials(bearer(g.token)))
	}
	conn, err := grpc.NewClient(target, opts...)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", g.addr, err)
	}
	return conn, nil
}

// dialTarget turns --addr into a gRPC target: "unix:///p", "unix:/p", "unix:rel" and a bare
// absolute path name a Unix socket; anything else is host:port, dialed as is.
func dialTarget(addr string) (target string, unix bool) {
	switch {
	case strings.HasPrefix(addr, "unix:"): // gRPC's own syntax: unix:///abs, unix:/abs, unix:rel
		return addr, true
	case strings.HasPrefix(addr, "/"):
		return "unix://" + addr, true
	}
	return "passthrough:///" + addr, false
}

// tlsConfig reads --cacert and, for mTLS, --cert and --key.
func (g *globals) tlsConfig() (*tls.Config, error) {
	pem, err := os.ReadFile(g.cacert)
	if err != nil {
		return nil, fmt.Errorf("read --cacert: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("read --cacert %s: no PEM certificate found", g.cacert)
	}
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if g.cert != "" {
		pair, err := tls.LoadX509KeyPair(g.cert, g.key)
		if err != nil {
			return nil, fmt.Errorf("load client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// bearer sends a token as "authorization: Bearer <token>" on every call. It does not
// require transport security: the default admin address is plaintext loopback.
type bearer string

// GetRequestMetadata returns the authorization metadata.
func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

// RequireTransportSecurity reports false: see bearer.
func (b bearer) RequireTransportSecurity() bool { return false }

// callCtx bounds one unary call by --timeout (0: no bound).
func (c *cli) callCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	if c.g.timeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, c.g.timeout)
}
