// Package gateway wires wssgate together: one certificate store shared by
// every listener, the app and device listeners, the session registry and
// the hub that routes channels between them.
//
// Lifecycle: New builds everything and binds nothing; Start binds both
// listeners and serves them on goroutines the Gateway owns; Shutdown stops
// accepting, sends 1001 Going Away to every session, waits (bounded) and
// stops the goroutines. Accessors are safe for concurrent use.
package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"

	"github.com/wssgate/wssgate/gateway/certs"
	"github.com/wssgate/wssgate/gateway/config"
	"github.com/wssgate/wssgate/gateway/hub"
	"github.com/wssgate/wssgate/gateway/listener"
	"github.com/wssgate/wssgate/gateway/session"
	"github.com/wssgate/wssgate/gateway/web"
)

// Listener names, as the admin API and metrics report them.
const (
	AppListener    = "app"
	DeviceListener = "device"
)

// Gateway is one wssgate node.
type Gateway struct {
	cfg      *config.Config
	log      *slog.Logger
	certs    *certs.Store
	hub      *hub.Hub
	registry *session.Registry
	app      *listener.App
	device   *listener.Device
	appProto *appProtocol
	devProto *deviceProtocol

	appLimits, deviceLimits session.Limits
	devWarn                 rateLimit // the development-mode identity warning

	identityOrder []certs.IdentitySource
	tokens        map[string]string // hex SHA-256 of token → device identity

	started      time.Time
	draining     atomic.Bool
	wg           sync.WaitGroup // listener Serve goroutines and the file watcher
	stopWatch    context.CancelFunc
	reloads      map[string]*reloadCounts // by trigger; the map is fixed at New
	shutdownOnce sync.Once
	shutdownErr  error
}

// New builds a gateway from a validated configuration. In development mode
// without certificates it makes (or reuses) a development CA and leaf in
// cfg.StateDir and records them in cfg.TLS.
func New(cfg *config.Config, log *slog.Logger) (*Gateway, error) {
	g := &Gateway{cfg: cfg, log: log, registry: session.NewRegistry(), tokens: map[string]string{},
		reloads: map[string]*reloadCounts{}}
	for _, t := range ReloadTriggers {
		g.reloads[t] = &reloadCounts{}
	}
	order, err := certs.ParseIdentityOrder(cfg.Device.Identity)
	if err != nil {
		return nil, fmt.Errorf("device.identity: %w", err)
	}
	g.identityOrder = order
	g.appLimits, g.deviceLimits = limits(cfg.App.Limits), limits(cfg.Device.Limits)
	for _, t := range cfg.Device.Tokens {
		g.tokens[t.SHA256] = t.Device
	}
	pairs := make([]certs.Pair, 0, len(cfg.TLS.Certificates))
	for _, p := range cfg.TLS.Certificates {
		pairs = append(pairs, certs.Pair{CertFile: p.Cert, KeyFile: p.Key})
	}
	g.certs, err = certs.NewStore(certs.Options{
		Pairs:        pairs,
		ClientCAFile: cfg.TLS.ClientCA,
		RootCAFile:   cfg.TLS.RootCA,
		CRLFiles:     cfg.TLS.CRLFiles,
		Hostnames:    hostnames(cfg),
		MinRemaining: cfg.TLS.MinRemaining,

		MinRemainingIsError: cfg.TLS.MinRemainingError,
		AllowSelfSignedCA:   cfg.Dev,
	})
	if err != nil {
		return nil, err
	}
	for _, w := range g.certs.Current().Warnings {
		log.Warn("certificate warning", "warning", w)
	}
	g.hub = hub.New(cfg.Node, nil)
	g.hub.SetDirect(g.deviceFor)
	g.appProto = &appProtocol{g: g, subscribe: cfg.App.Subscribe, publish: cfg.App.Publish}
	g.devProto = &deviceProtocol{g: g}
	root, err := appRoot(cfg.App)
	if err != nil {
		return nil, err
	}
	g.app = &listener.App{
		Name:             AppListener,
		TLS:              g.certs.TLSConfig(certs.Profile{NextProtos: []string{"h2", "http/1.1"}}),
		WSPath:           cfg.App.WSPath,
		Root:             root,
		ClientJS:         web.ClientJS(),
		AllowedOrigins:   cfg.App.AllowedOrigins,
		HandshakeTimeout: cfg.App.Limits.HandshakeTimeout,
		MaxConnections:   cfg.App.Limits.MaxConnections,
		CertGeneration:   g.generation,
		Start:            g.startApp,
		Log:              log.With("listener", AppListener),
		Stats:            &listener.Stats{Name: AppListener, Role: session.RoleApp},
	}
	clientAuth := map[string]certs.ClientAuth{"none": certs.ClientAuthNone, "optional": certs.ClientAuthOptional, "require": certs.ClientAuthRequire}
	g.device = &listener.Device{
		Name:             DeviceListener,
		TLS:              g.certs.TLSConfig(certs.Profile{ClientAuth: clientAuth[cfg.Device.ClientAuth], NextProtos: []string{"http/1.1"}}),
		Path:             cfg.Device.Path,
		Auth:             g.authDevice,
		HandshakeTimeout: cfg.Device.Limits.HandshakeTimeout,
		MaxRequestBytes:  int(cfg.Device.MaxRequestBytes),
		MaxConnections:   cfg.Device.Limits.MaxConnections,
		CertGeneration:   g.generation,
		Start:            g.startDevice,
		Log:              log.With("listener", DeviceListener),
		Stats:            &listener.Stats{Name: DeviceListener, Role: session.RoleDevice},
	}
	return g, nil
}

// hostnames are the configured public names every certificate check
// must find in the SANs.
func hostnames(cfg *config.Config) []string {
	if len(cfg.TLS.Hostnames) > 0 {
		return cfg.TLS.Hostnames
	}
	var hs []string
	for _, h := range []string{cfg.App.PublicHost, cfg.Device.PublicHost} {
		if h != "" {
			hs = append(hs, h)
		}
	}
	return hs
}

// appRoot is what "/" serves: static files, a reverse proxy, or the demo.
func appRoot(c config.App) (http.Handler, error) {
	switch {
	case c.StaticDir != "":
		return http.FileServer(http.Dir(c.StaticDir)), nil
	case c.Upstream != "":
		u, err := url.Parse(c.Upstream)
		if err != nil {
			return nil, fmt.Errorf("app.upstream: %w", err)
		}
		// ReverseProxy passes WebSocket upgrades on other paths through.
		return &httputil.ReverseProxy{
			Rewrite: func(r *httputil.ProxyRequest) {
				r.SetURL(u)
				r.SetXForwarded()
				r.Out.Host = r.In.Host
			},
		}, nil
	}
	return web.Handler(), nil
}

// Start binds both listeners and serves them until Shutdown.
func (g *Gateway) Start(ctx context.Context) error {
	if err := g.hub.Start(ctx); err != nil {
		return fmt.Errorf("start hub: %w", err)
	}
	if err := g.app.Listen(g.cfg.App.Address); err != nil {
		return err
	}
	if err := g.device.Listen(g.cfg.Device.Address); err != nil {
		g.app.Close(ctx)
		return err
	}
	g.app.Endpoints = listener.Endpoints{
		PublicHost: g.cfg.App.PublicHost,
		AppPort:    publicPort(g.cfg.App.PublicPort, g.app.Addr()),
		WSPath:     g.cfg.App.WSPath,
		DevicePort: publicPort(g.cfg.Device.PublicPort, g.device.Addr()),
		DevicePath: g.cfg.Device.Path,
	}
	g.started = time.Now()
	g.serve("app", g.app.Serve)
	g.serve("device", g.device.Serve)
	if g.cfg.TLS.Watching() {
		fw, err := certs.WatchFiles(g.watchedFiles())
		if err != nil {
			g.log.Error("certificate files are not watched; reload with SIGHUP or the admin API (or set tls.watch: false)", "err", err)
			return nil
		}
		wctx, cancel := context.WithCancel(context.Background())
		g.stopWatch = cancel
		g.serve("certificate watch", func() error {
			fw.Run(wctx, g.cfg.TLS.WatchDebounce, g.log, func() {
				_, _ = g.Reload("file") // logged; the old bundle stays on error
			})
			return nil
		})
	}
	return nil
}

// watchedFiles are every file the certificate bundle is read from.
func (g *Gateway) watchedFiles() []string {
	var fs []string
	for _, p := range g.cfg.TLS.Certificates {
		fs = append(fs, p.Cert, p.Key)
	}
	for _, f := range append([]string{g.cfg.TLS.ClientCA, g.cfg.TLS.RootCA}, g.cfg.TLS.CRLFiles...) {
		if f != "" {
			fs = append(fs, f)
		}
	}
	return fs
}

func publicPort(configured int, a net.Addr) int {
	if configured != 0 {
		return configured
	}
	_, p, _ := net.SplitHostPort(a.String())
	n, _ := strconv.Atoi(p)
	return n
}

func (g *Gateway) serve(name string, serve func() error) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		if err := serve(); err != nil {
			g.log.Error("listener stopped", "listener", name, "err", err)
		}
	}()
}

// Shutdown stops accepting, sends 1001 Going Away to every session and
// waits until they end or ctx is done, then stops the hub.
// Later calls return the first call's result.
func (g *Gateway) Shutdown(ctx context.Context) error {
	g.shutdownOnce.Do(func() { g.shutdownErr = g.shutdown(ctx) })
	return g.shutdownErr
}

func (g *Gateway) shutdown(ctx context.Context) error {
	g.draining.Store(true) // sessions that start from now on are closed at once
	errs := []error{g.device.Close()}
	// http.Server.Shutdown waits for HTTP requests in flight (a proxied
	// stream, a slow download): run it beside the sessions' close, not
	// before it, so that every session hears 1001 within the grace.
	appDone := make(chan error, 1)
	go func() { appDone <- g.app.Close(ctx) }()
	if g.stopWatch != nil {
		g.stopWatch()
	}
	n := g.registry.CloseAll(ws.StatusGoingAway, "server shutting down")
	g.log.Info("shutting down", "sessions", n)
	if err := g.registry.WaitEmpty(ctx); err != nil {
		errs = append(errs, fmt.Errorf("wait for %d sessions: %w", g.registry.Len(), err))
	}
	errs = append(errs, <-appDone)
	g.wg.Wait()
	errs = append(errs, g.hub.Close())
	return errors.Join(errs...)
}

// Draining reports whether Shutdown has begun.
func (g *Gateway) Draining() bool { return g.draining.Load() }

// Certs returns the certificate store.
func (g *Gateway) Certs() *certs.Store { return g.certs }

// Hub returns the channel hub.
func (g *Gateway) Hub() *hub.Hub { return g.hub }

// Registry returns the session registry.
func (g *Gateway) Registry() *session.Registry { return g.registry }

// Listeners returns the stats of every listener.
func (g *Gateway) Listeners() []*listener.Stats {
	return []*listener.Stats{g.app.Stats, g.device.Stats}
}

// AppAddr and DeviceAddr return the bound addresses (after Start).
func (g *Gateway) AppAddr() net.Addr    { return g.app.Addr() }
func (g *Gateway) DeviceAddr() net.Addr { return g.device.Addr() }

// Started returns when Start bound the listeners.
func (g *Gateway) Started() time.Time { return g.started }

// ReloadTriggers name what can ask for a certificate reload.
var ReloadTriggers = []string{"admin", "sighup", "file"}

type reloadCounts struct{ ok, failed atomic.Uint64 }

// ReloadCounts returns how many reloads each trigger made, and how many
// were refused.
func (g *Gateway) ReloadCounts() map[string][2]uint64 {
	m := make(map[string][2]uint64, len(g.reloads))
	for t, c := range g.reloads {
		m[t] = [2]uint64{c.ok.Load(), c.failed.Load()}
	}
	return m
}

// Reload re-reads the certificate files, validates and swaps them; on
// failure the old bundle keeps serving and the error says why. trigger
// names what asked (sighup, admin, file) for the log.
func (g *Gateway) Reload(trigger string) (*certs.Bundle, error) {
	return g.ReloadFrom(certs.Source{}, false, trigger)
}

// ReloadFrom is Reload with PEM bytes in place of some files; a dry run
// validates and reports without swapping.
func (g *Gateway) ReloadFrom(src certs.Source, dryRun bool, trigger string) (*certs.Bundle, error) {
	b, err := g.certs.ReloadFrom(src, dryRun)
	if c := g.reloads[trigger]; c != nil && !dryRun {
		if err != nil {
			c.failed.Add(1)
		} else {
			c.ok.Add(1)
		}
	}
	if err != nil {
		g.log.Error("certificate reload refused; still serving the previous certificate",
			"trigger", trigger, "dry_run", dryRun, "generation", g.certs.Current().Generation, "err", err)
		return nil, err
	}
	if !dryRun {
		g.log.Info("certificates reloaded", "trigger", trigger, "generation", b.Generation,
			"serial", b.Certs[0].Leaf.SerialNumber.Text(16))
	}
	for _, w := range b.Warnings {
		g.log.Warn("certificate warning", "warning", w, "dry_run", dryRun)
	}
	return b, nil
}

func (g *Gateway) generation() uint64 { return g.certs.Current().Generation }

// authDevice names a device from its client certificate, else its token,
// else (development mode only) its ?device_id.
func (g *Gateway) authDevice(c listener.Credentials) (string, error) {
	switch {
	case c.PeerCert != nil:
		id, err := certs.Identity(c.PeerCert, g.identityOrder)
		if err != nil {
			return "", fmt.Errorf("client certificate %q names no usable identity: %w", c.PeerCert.Subject, err)
		}
		return id, nil
	case c.Token != "":
		sum := sha256.Sum256([]byte(c.Token))
		id, ok := g.tokens[hex.EncodeToString(sum[:])]
		if !ok {
			return "", errors.New("token not recognised")
		}
		return id, nil
	case c.DeviceID != "" && g.cfg.Dev:
		if err := validIdentity(c.DeviceID); err != nil {
			return "", err
		}
		if n, ok := g.devWarn.allow(10 * time.Second); ok {
			g.log.Warn("development mode: device connected by ?device_id without proof of identity",
				"identity", c.DeviceID, "remote", c.Remote, "similar_since_last_warning", n)
		}
		return c.DeviceID, nil
	case c.DeviceID != "":
		return "", errors.New("?device_id without proof is accepted in development mode only: present a client certificate or a token")
	}
	return "", errors.New("no credentials: present a client certificate, an Authorization: Bearer token, or ?token=")
}

// rateLimit lets one event through per interval and counts the others.
type rateLimit struct {
	mu         sync.Mutex // guards the fields below
	last       time.Time
	suppressed int
}

// allow reports whether to log now, and how many were held back since.
func (r *rateLimit) allow(every time.Duration) (int, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now := time.Now(); now.Sub(r.last) >= every {
		n := r.suppressed
		r.last, r.suppressed = now, 0
		return n, true
	}
	r.suppressed++
	return 0, false
}

func validIdentity(id string) error {
	if err := hub.ValidChannel("devices/" + id + "/up"); err != nil || strings.ContainsAny(id, "/+#") {
		return fmt.Errorf("device id %q is not usable as one channel level (no '/', '+', '#')", id)
	}
	return nil
}
