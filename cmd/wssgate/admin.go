package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/wssgate/wssgate/admin"
	"github.com/wssgate/wssgate/gateway"
	"github.com/wssgate/wssgate/gateway/certs"
	"github.com/wssgate/wssgate/gateway/config"
)

// newAdmin builds the gRPC admin server of g from the configuration; nil
// when it is configured off.
func newAdmin(cfg *config.Config, g *gateway.Gateway, log *slog.Logger) (*admin.Server, error) {
	ad := cfg.Admin
	if ad.Address == "off" && ad.UnixSocket == "" {
		return nil, nil
	}
	alog := log.With("component", "admin")
	ac := admin.Config{
		Addr:                 ad.Address,
		UnixSocket:           ad.UnixSocket,
		Logger:               alog,
		MaxMessage:           int(ad.MaxMessage),
		MaxConcurrentStreams: ad.MaxConcurrentStreams,
	}
	for _, t := range ad.Tokens {
		ac.Tokens = append(ac.Tokens, admin.Token{Name: t.Name, SHA256: t.SHA256, Access: admin.Access(t.Role)})
	}
	tc, err := adminTLS(cfg, g, alog)
	if err != nil {
		return nil, err
	}
	ac.TLS = tc
	if ad.ClientCA != "" {
		if err := adminClientAuth(&ac, cfg, g); err != nil {
			return nil, err
		}
		warnSharedCA(cfg, alog)
	}
	srv, err := admin.New(ac, newBackends(g, version))
	if err != nil {
		return nil, fmt.Errorf("admin.address %s: %w", ad.Address, err)
	}
	return srv, nil
}

// adminTLS is the admin listener's TLS configuration: nil (plaintext) on
// loopback without admin.tls and admin.client_ca; else the certificate of
// admin.tls or, by default, the gateway's bundle (reloads included).
func adminTLS(cfg *config.Config, g *gateway.Gateway, log *slog.Logger) (*tls.Config, error) {
	ad := cfg.Admin
	if ad.TLS == nil && ad.ClientCA == "" && (ad.Address == "off" || config.OnLoopback(ad.Address)) {
		return nil, nil
	}
	tc := &tls.Config{
		MinVersion:     tls.VersionTLS12,
		CipherSuites:   certs.CipherSuites(),
		GetCertificate: g.Certs().GetCertificate,
		NextProtos:     []string{"h2"},
	}
	if ad.TLS != nil {
		st, err := certs.NewStore(certs.Options{Pairs: []certs.Pair{{CertFile: ad.TLS.Cert, KeyFile: ad.TLS.Key}}})
		if err != nil {
			return nil, fmt.Errorf("admin.tls: %w", err)
		}
		for _, w := range st.Current().Warnings {
			log.Warn("admin.tls: "+w, "cert", ad.TLS.Cert)
		}
		tc.GetCertificate = st.GetCertificate
	}
	return tc, nil
}

// adminClientAuth sets up admin mTLS on ac (whose TLS is set): client
// certificates verified against admin.client_ca, named by the device
// identity rules, mapped to roles by admin.clients, and checked on every
// call against the CRLs of tls.crl_files as the certificate store has
// them now.
func adminClientAuth(ac *admin.Config, cfg *config.Config, g *gateway.Gateway) error {
	ad := cfg.Admin
	pool, _, err := certs.LoadCAPool(ad.ClientCA)
	if err != nil {
		return fmt.Errorf("admin.client_ca: %w", err)
	}
	ac.TLS.ClientCAs = pool
	ac.TLS.ClientAuth = tls.RequireAndVerifyClientCert
	if len(ad.Tokens) > 0 {
		ac.TLS.ClientAuth = tls.VerifyClientCertIfGiven // token holders need no certificate
	}
	order, err := certs.ParseIdentityOrder(cfg.Device.Identity)
	if err != nil {
		return fmt.Errorf("device.identity: %w", err)
	}
	ac.ClientIdentity = func(leaf *x509.Certificate) (string, error) { return certs.Identity(leaf, order) }
	ac.ClientAccess = make(map[string]admin.Access, len(ad.Clients))
	for _, c := range ad.Clients {
		ac.ClientAccess[c.Identity] = admin.Access(c.Role)
	}
	if len(cfg.TLS.CRLFiles) > 0 {
		ac.CheckClientCert = func(chain []*x509.Certificate) error { return revoked(g.Certs().Current(), chain) }
	}
	return nil
}

// revoked returns the error of a certificate that the bundle's CRLs revoke,
// nil otherwise. The CRLs of tls.crl_files are signed by device client CAs,
// so only a chain that verifies to one of them can be revoked by them;
// another verification error is not a revocation (the admin CA verified
// the chain in the handshake).
func revoked(b *certs.Bundle, chain []*x509.Certificate) error {
	if err := b.VerifyClientCert(chain, time.Now()); errors.Is(err, certs.ErrRevoked) {
		return err
	}
	return nil
}

// warnSharedCA warns when the admin client CA is, or shares a CA with, the
// device client CA: a device certificate could then claim an admin identity.
func warnSharedCA(cfg *config.Config, log *slog.Logger) {
	if cfg.TLS.ClientCA == "" {
		return
	}
	if sameFile(cfg.Admin.ClientCA, cfg.TLS.ClientCA) {
		log.Warn("admin.client_ca is the same file as tls.client_ca (the device CA): a device whose certificate names an identity of admin.clients gets its role; use a separate admin CA",
			"file", cfg.Admin.ClientCA)
		return
	}
	_, adminSubjects, err1 := certs.LoadCAPool(cfg.Admin.ClientCA)
	_, deviceSubjects, err2 := certs.LoadCAPool(cfg.TLS.ClientCA)
	if err1 != nil || err2 != nil {
		return // reported where the files are loaded
	}
	for _, s := range adminSubjects {
		if slices.Contains(deviceSubjects, s) {
			log.Warn("admin.client_ca shares a CA with tls.client_ca (the device CA): a device whose certificate names an identity of admin.clients gets its role; use a separate admin CA",
				"ca", s)
			return
		}
	}
}

// sameFile reports whether a and b name the same file.
func sameFile(a, b string) bool {
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}

// newOps builds the operations HTTP server: /metrics, /healthz, /readyz,
// and /debug/pprof/ when it listens on loopback only.
func newOps(addr string, g *gateway.Gateway, stats admin.Stats) (*http.Server, net.Listener, error) {
	if addr == "off" {
		return nil, nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("listen ops %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", admin.OpsHandler(stats, func() bool { return !g.Draining() }))
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) { readiness(w, g) })
	if ip := ln.Addr().(*net.TCPAddr).IP; ip.IsLoopback() {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, ln, nil
}

// readiness answers /readyz: 503 while draining, else 200, with the
// cluster link in the body. With NATS down a node stays ready (it still
// serves its own sessions behind the load balancer) and says "cluster: down".
func readiness(w http.ResponseWriter, g *gateway.Gateway) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if g.Draining() {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("not ready\n"))
		return
	}
	body := "ready\n"
	if c := g.ClusterLink(); c.Enabled && c.LinkUp {
		body += fmt.Sprintf("cluster: up (%d nodes up)\n", c.NodesUp)
	} else if c.Enabled {
		body += "cluster: down (serving this node's sessions only)\n"
	}
	w.Write([]byte(body))
}

// serveOps runs the ops server until ctx ends.
func serveOps(ctx context.Context, srv *http.Server, ln net.Listener, log *slog.Logger) {
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("ops listener stopped", "err", err)
	}
}
