package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/wssgate/wssgate/admin"
	"github.com/wssgate/wssgate/gateway"
	"github.com/wssgate/wssgate/gateway/certs"
	"github.com/wssgate/wssgate/gateway/config"
)

// newAdmin builds the gRPC admin server of g from the configuration; nil
// when it is configured off.
func newAdmin(cfg config.Admin, g *gateway.Gateway, log *slog.Logger) (*admin.Server, error) {
	if cfg.Address == "off" && cfg.UnixSocket == "" {
		return nil, nil
	}
	ac := admin.Config{
		Addr:       cfg.Address,
		UnixSocket: cfg.UnixSocket,
		Logger:     log.With("component", "admin"),
	}
	for _, t := range cfg.Tokens {
		ac.Tokens = append(ac.Tokens, admin.Token{Name: t.Name, SHA256: t.SHA256, Access: admin.Access(t.Role)})
	}
	if cfg.ClientCA != "" {
		pool, _, err := certs.LoadCAPool(cfg.ClientCA)
		if err != nil {
			return nil, fmt.Errorf("admin.client_ca: %w", err)
		}
		ac.TLS = &tls.Config{
			MinVersion:     tls.VersionTLS12,
			GetCertificate: g.Certs().GetCertificate, // the shared bundle, reloads included
			ClientAuth:     tls.RequireAndVerifyClientCert,
			ClientCAs:      pool,
			NextProtos:     []string{"h2"},
		}
	}
	srv, err := admin.New(ac, newBackends(g, version))
	if err != nil {
		return nil, fmt.Errorf("admin: %w", err)
	}
	return srv, nil
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
	if ip := ln.Addr().(*net.TCPAddr).IP; ip.IsLoopback() {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, ln, nil
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
