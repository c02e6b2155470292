// Package gateway is one wssgate node: it wires one certificate store
// shared by every listener, the app and device listeners, the session
// registry, the protocols and the hub that routes channels between them,
// and offers the operations an operator runs on it (reload, rolling
// reconnect, reload impact, failures, sessions; see operations.go).
//
// With cfg.Cluster.Enabled() the node joins a NATS cluster (clusternode.go):
// the hub runs over a cluster.Broker, acknowledged publishes count reached
// on every node, the newest device session wins across nodes, and the
// cluster-wide operations of the admin API (clusterops.go, clusterstats.go)
// are scatter-gather requests that every node answers for its own sessions.
// Alone, the same operations answer for this node. The broker's goroutines
// are the broker's; the cluster node owns the background reconnects it runs
// for other nodes, stopped by Shutdown after the broker is closed.
//
// Lifecycle: New builds everything and binds nothing; Start binds both
// listeners and serves them on goroutines the Gateway owns (accept loops,
// the certificate file watcher, the JWT verifiers' JWKS refresh of
// appauth.go, which authenticates app clients as app.auth says); Shutdown
// stops accepting, sends 1001 Going Away to every session, closes the
// Socket.IO transports (socketio.go), waits (bounded) and stops those
// goroutines. Sessions run on goroutines the registry tracks; Socket.IO
// WebSocket transports on goroutines counted in sioWG. Every method is safe for
// concurrent use.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"

	"github.com/wssgate/wssgate/gateway/auth"
	"github.com/wssgate/wssgate/gateway/certs"
	"github.com/wssgate/wssgate/gateway/config"
	"github.com/wssgate/wssgate/gateway/hub"
	"github.com/wssgate/wssgate/gateway/limit"
	"github.com/wssgate/wssgate/gateway/listener"
	"github.com/wssgate/wssgate/gateway/protocol"
	"github.com/wssgate/wssgate/gateway/protocol/socketio"
	"github.com/wssgate/wssgate/gateway/session"
	"github.com/wssgate/wssgate/gateway/web"
	"github.com/wssgate/wssgate/internal/logsample"
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
	appProto *protocol.App
	devProto *protocol.Device
	devAuth  *auth.Device
	names    *certs.NameLog     // names of successful handshakes, checked by reloads
	sio      *socketio.Server   // nil when app.socketio.enabled is false
	sioProto *protocol.SocketIO // its events → channels
	sioWG    sync.WaitGroup     // Socket.IO WebSocket transports (sessions not in the registry)
	appAuth  *appAuth
	stopAuth context.CancelFunc    // ends the verifiers' JWKS refresh (set by Start)
	cl       *clusterNode          // nil when this node runs alone; see clusternode.go
	handlers map[string]rpcHandler // cluster-wide operations by method; see clusterops.go

	appLimits, deviceLimits, sioLimits session.Limits
	budget                             *limit.Budget      // process-wide, shared by every session
	flap                               *limit.Flapping    // nil: flapping detection off
	sample                             *logsample.Sampler // the gateway's floodable lines (replaced, limits)

	started       time.Time
	draining      atomic.Bool
	wg            sync.WaitGroup // listener Serve goroutines and the file watcher
	stopWatch     context.CancelFunc
	reloads       map[string]*reloadCounts // by trigger; the map is fixed at New
	revokedCloses atomic.Uint64            // sessions closed 4003 by a CRL reload (reload.go)
	shutdownOnce  sync.Once
	shutdownErr   error
}

// New builds a gateway from a validated configuration whose certificates
// are set (cmd/wssgate makes the development certificate when needed).
func New(cfg *config.Config, log *slog.Logger) (*Gateway, error) {
	g := &Gateway{cfg: cfg, log: log, registry: session.NewRegistry(), reloads: map[string]*reloadCounts{}}
	for _, t := range ReloadTriggers {
		g.reloads[t] = &reloadCounts{}
	}
	var err error
	if g.devAuth, err = auth.NewDevice(cfg, log); err != nil {
		return nil, err
	}
	if g.appAuth, err = newAppAuth(cfg, log); err != nil {
		return nil, err
	}
	if g.certs, err = NewCertStore(cfg); err != nil {
		return nil, err
	}
	for _, w := range g.certs.Current().Warnings {
		log.Warn("certificate warning", "warning", w)
	}
	g.names = certs.NewNameLog(0)
	g.certs.SetNameLog(g.names, cfg.TLS.NamesWindow)
	g.newLimits()
	if err := g.newHub(); err != nil {
		return nil, err
	}
	g.hub.SetDirect(g.deviceFor)
	g.appProto = &protocol.App{Hub: g.hub, Route: g.route, Subscribe: cfg.App.Subscribe, Publish: cfg.App.Publish, Log: log, Ended: g.ended,
		Refresh: g.appAuth.refresher()}
	g.devProto = &protocol.Device{Hub: g.hub, Log: log, Ended: g.ended}
	if err := g.newListeners(); err != nil {
		return nil, err
	}
	if err := g.newSocketIO(); err != nil {
		return nil, err
	}
	return g, nil
}

// NewCertStore loads and validates the certificate bundle of cfg, as
// every listener shares it (and `wssgate check` checks it).
func NewCertStore(cfg *config.Config) (*certs.Store, error) {
	pairs := make([]certs.Pair, 0, len(cfg.TLS.Certificates))
	for _, p := range cfg.TLS.Certificates {
		pairs = append(pairs, certs.Pair{CertFile: p.Cert, KeyFile: p.Key})
	}
	return certs.NewStore(certs.Options{
		Pairs:        pairs,
		ClientCAFile: cfg.TLS.ClientCA,
		RootCAFile:   cfg.TLS.RootCA,
		CRLFiles:     cfg.TLS.CRLFiles,
		Hostnames:    Hostnames(cfg),
		MinRemaining: cfg.TLS.MinRemaining,

		MinRemainingIsError: cfg.TLS.MinRemainingError,
		AllowSelfSignedCA:   cfg.Dev,
	})
}

// newListeners builds (and binds nothing of) the app and device listeners.
func (g *Gateway) newListeners() error {
	cfg := g.cfg
	root, err := appRoot(cfg.App)
	if err != nil {
		return err
	}
	appLog := g.log.With("listener", AppListener)
	appCounters := &listener.Counters{Name: AppListener, Role: session.RoleApp, Sample: newSampler(appLog)}
	appCover := listener.NewCoverage(g.certs.Current, g.names, appCounters, appLog, 0)
	g.app = &listener.App{
		Name:             AppListener,
		TLS:              appCover.Config(g.certs.TLSConfig(certs.Profile{NextProtos: []string{"h2", "http/1.1"}})),
		Coverage:         appCover,
		WSPath:           cfg.App.WSPath,
		Root:             root,
		ClientJS:         web.ClientJS(),
		AllowedOrigins:   cfg.App.AllowedOrigins,
		HandshakeTimeout: cfg.App.Limits.HandshakeTimeout,
		Limits:           acceptLimits(cfg.App.Limits),
		CertGeneration:   g.generation,
		Authenticate:     g.appAuth.authenticate,
		Upgraded:         g.appUpgraded,
		Log:              appLog,
		Counters:         appCounters,
		HTTP: listener.HTTPLimits{ReadTimeout: cfg.App.HTTP.ReadTimeout, WriteTimeout: cfg.App.HTTP.WriteTimeout,
			IdleTimeout: cfg.App.Limits.IdleTimeout, ProxiedWriteTimeout: cfg.App.Limits.WriteTimeout},
	}
	clientAuth := map[string]certs.ClientAuth{"none": certs.ClientAuthNone, "optional": certs.ClientAuthOptional, "require": certs.ClientAuthRequire}
	devLog := g.log.With("listener", DeviceListener)
	devCounters := &listener.Counters{Name: DeviceListener, Role: session.RoleDevice, Sample: newSampler(devLog)}
	devCover := listener.NewCoverage(g.certs.Current, g.names, devCounters, devLog, 0)
	g.device = &listener.Device{
		Name:             DeviceListener,
		TLS:              devCover.Config(g.certs.TLSConfig(certs.Profile{ClientAuth: clientAuth[cfg.Device.ClientAuth], NextProtos: []string{"http/1.1"}})),
		Coverage:         devCover,
		Path:             cfg.Device.Path,
		Auth:             g.devAuth.Authenticate,
		HandshakeTimeout: cfg.Device.Limits.HandshakeTimeout,
		MaxRequestBytes:  int(cfg.Device.MaxRequestBytes),
		Limits:           acceptLimits(cfg.Device.Limits),
		CertGeneration:   g.generation,
		Upgraded:         g.deviceUpgraded,
		Log:              devLog,
		Counters:         devCounters,
	}
	return nil
}

// Hostnames are the configured public names every certificate check must
// find in the SANs: tls.hostnames, else the listeners' public_host.
func Hostnames(cfg *config.Config) []string {
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

func (g *Gateway) sessionLimits(l config.Limits) session.Limits {
	return session.Limits{
		MaxMessage:   int64(l.MaxMessage),
		QueueBytes:   int(l.QueueBytes),
		WriteTimeout: l.WriteTimeout,
		PingInterval: l.PingInterval,
		IdleTimeout:  l.IdleTimeout,
		Budget:       g.budget,
		MsgsPerSec:   l.MaxMessagesPerS,
		BytesPerSec:  float64(l.MaxBytesPerS),
		Sample:       g.sample,
	}
}

// acceptLimits are what a listener checks at accept.
func acceptLimits(l config.Limits) listener.Limits {
	return listener.Limits{
		MaxConnections:      l.MaxConnections,
		MaxConnectionsPerIP: l.MaxConnectionsPerIP,
		RatePerSecond:       l.HandshakeRate.PerSecond,
		RateBurst:           l.HandshakeRate.Burst,
	}
}

// Start binds both listeners and serves them until Shutdown.
func (g *Gateway) Start(ctx context.Context) error {
	if err := g.hub.Start(ctx); err != nil {
		return fmt.Errorf("start hub: %w", err)
	}
	if err := g.startAuth(); err != nil {
		return err
	}
	if err := g.app.Listen(g.cfg.App.Address); err != nil {
		g.stopAuthentication()
		return err
	}
	if err := g.device.Listen(g.cfg.Device.Address); err != nil {
		g.app.Close(ctx)
		g.stopAuthentication()
		return err
	}
	g.app.Endpoints = listener.Endpoints{
		PublicHost:       g.cfg.App.PublicHost,
		DevicePublicHost: g.cfg.Device.PublicHost,
		DeviceBindIP:     listener.BindIP(g.device.Addr()),
		AppPort:          publicPort(g.cfg.App.PublicPort, g.app.Addr()),
		WSPath:           g.cfg.App.WSPath,
		DevicePort:       publicPort(g.cfg.Device.PublicPort, g.device.Addr()),
		DevicePath:       g.cfg.Device.Path,
	}
	g.started = time.Now()
	g.serve("app", g.app.Serve)
	g.serve("device", g.device.Serve)
	if g.cfg.TLS.Watching() {
		g.watchCertificates()
	}
	return nil
}

// watchCertificates reloads when a certificate, key, CA or CRL file
// changes, on a goroutine the gateway owns until Shutdown.
func (g *Gateway) watchCertificates() {
	fw, err := certs.WatchFiles(g.watchedFiles())
	if err != nil {
		g.log.Error("certificate files are not watched; reload with SIGHUP or the admin API (or set tls.watch: false)", "err", err)
		return
	}
	wctx, cancel := context.WithCancel(context.Background())
	g.stopWatch = cancel
	g.serve("certificate watch", func() error {
		fw.Run(wctx, g.cfg.TLS.WatchDebounce, g.log, func() {
			_, _ = g.Reload(ReloadRequest{Trigger: "file"}) // logged; the old bundle stays on error
		})
		return nil
	})
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
	errs = append(errs, g.shutdownSocketIO(ctx)) // transports closed, never a Socket.IO DISCONNECT
	if err := g.registry.WaitEmpty(ctx); err != nil {
		errs = append(errs, fmt.Errorf("wait for %d sessions: %w", g.registry.Len(), err))
	}
	errs = append(errs, <-appDone)
	g.stopAuthentication()
	g.wg.Wait()
	errs = append(errs, g.hub.Close(), g.closeCluster())
	for _, s := range []*logsample.Sampler{g.app.Counters.Sample, g.device.Counters.Sample, g.sample} {
		s.Close() // writes the last summaries
	}
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

// Listeners returns the counters of every listener.
func (g *Gateway) Listeners() []*listener.Counters {
	return []*listener.Counters{g.app.Counters, g.device.Counters}
}

// ProxiedWebSockets returns how many reverse-proxied WebSockets the app
// listener holds open now and has opened in all.
func (g *Gateway) ProxiedWebSockets() (open int64, total uint64) {
	return g.app.Proxied.Open.Load(), g.app.Proxied.Total.Load()
}

// AppAddr and DeviceAddr return the bound addresses (after Start).
func (g *Gateway) AppAddr() net.Addr    { return g.app.Addr() }
func (g *Gateway) DeviceAddr() net.Addr { return g.device.Addr() }

// Started returns when Start bound the listeners.
func (g *Gateway) Started() time.Time { return g.started }

func (g *Gateway) generation() uint64 { return g.certs.Current().Generation }
