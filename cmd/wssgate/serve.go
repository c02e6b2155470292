package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/wssgate/wssgate/admin"
	"github.com/wssgate/wssgate/gateway"
	"github.com/wssgate/wssgate/gateway/certs"
	"github.com/wssgate/wssgate/gateway/config"
	"github.com/wssgate/wssgate/internal/gcfloor"
	"github.com/wssgate/wssgate/internal/memlimit"
)

func runServe(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "configuration file (YAML); none: development mode")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	log, err := newLogger(stderr, *logFormat, *logLevel)
	if err != nil {
		return err
	}
	cfg, dev, err := loadConfig(*cfgPath, log)
	if err != nil {
		return err
	}
	if os.Getenv("GOGC") == "" && os.Getenv("GOMEMLIMIT") == "" { // an operator's GC settings win
		defer gcfloor.Start(gcfloor.DefaultFloor)()
	}
	if cfg.Dev {
		log.Warn("development mode: devices may connect with ?device_id=ID and no proof of identity; do not expose this gateway")
	}
	g, err := gateway.New(cfg, log)
	if err != nil {
		return err
	}
	if os.Getenv("GOMEMLIMIT") == "" { // the runtime's soft limit follows the budget and the connections
		defer memlimit.Start(g.Budget().Total(), g.OpenConnections)()
	}
	adm, err := newAdmin(cfg, g, log)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := g.Start(ctx); err != nil {
		return err
	}
	aux, err := startAux(cfg, g, adm, log)
	if err != nil {
		shutdownNow(g)
		return err
	}
	defer aux.stop()
	logServing(cfg, g, aux, log)
	logDevHint(dev, g, log)
	return serveUntilSignal(ctx, stop, cfg, g, adm, aux, log)
}

// aux are the admin and ops servers: they run until the gateway has
// drained, then stop.
type aux struct {
	adminAddr, opsAddr string
	cancel             context.CancelFunc
	wg                 sync.WaitGroup
}

func (a *aux) stop() {
	a.cancel()
	a.wg.Wait()
}

// startAux binds and serves the admin API and the ops listener.
func startAux(cfg *config.Config, g *gateway.Gateway, adm *admin.Server, log *slog.Logger) (*aux, error) {
	ctx, cancel := context.WithCancel(context.Background())
	a := &aux{adminAddr: "off", opsAddr: "off", cancel: cancel}
	if adm != nil {
		if err := adm.Listen(); err != nil {
			cancel()
			return nil, fmt.Errorf("admin: %w", err)
		}
		if addr := adm.Addr(); addr != nil {
			a.adminAddr = addr.String()
		}
		a.wg.Go(func() {
			if err := adm.Serve(ctx); err != nil {
				log.Error("admin API stopped", "err", err)
			}
		})
	}
	ops, opsLn, err := newOps(cfg.Ops.Address, g, newBackends(g, version).Stats)
	if err != nil {
		a.stop()
		return nil, err
	}
	if ops != nil {
		a.opsAddr = opsLn.Addr().String()
		a.wg.Go(func() { serveOps(ctx, ops, opsLn, log) })
	}
	return a, nil
}

// logServing writes the one "wssgate serving" line.
func logServing(cfg *config.Config, g *gateway.Gateway, a *aux, log *slog.Logger) {
	b := g.Certs().Current()
	log.Info("wssgate serving",
		"app", "https://"+g.AppAddr().String()+"/",
		"app_ws", "wss://"+g.AppAddr().String()+cfg.App.WSPath,
		"device_ws", "wss://"+g.DeviceAddr().String()+cfg.Device.Path,
		"admin", a.adminAddr,
		"ops", a.opsAddr,
		"certificate", b.Certs[0].Leaf.Subject.String(),
		"fingerprint", b.Certs[0].FingerprintHex(),
		"generation", b.Generation)
}

// serveUntilSignal reloads on SIGHUP and shuts down on SIGTERM/SIGINT.
func serveUntilSignal(ctx context.Context, stop func(), cfg *config.Config, g *gateway.Gateway, adm *admin.Server, a *aux, log *slog.Logger) error {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-hup:
			log.Info("SIGHUP: reloading certificates")
			_, _ = g.Reload(gateway.ReloadRequest{Trigger: "sighup"}) // logged by Reload; the old bundle stays on error
		case <-ctx.Done():
			stop() // a second signal kills the process the default way
			log.Info("signal received: shutting down", "grace", cfg.ShutdownGrace)
			if adm != nil {
				adm.Drain() // health: NOT_SERVING while sessions close
			}
			sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
			defer cancel()
			if err := g.Shutdown(sctx); err != nil {
				log.Warn("shutdown incomplete", "err", err)
			}
			a.stop()
			log.Info("stopped")
			return nil
		}
	}
}

// shutdownNow stops a gateway that could not finish starting.
func shutdownNow(g *gateway.Gateway) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = g.Shutdown(ctx)
}

// loadConfig reads the file, or builds the development configuration
// with a generated certificate (dev is then non-nil). A file with dev: true
// and no certificates gets the generated one too, covering its configured
// hostnames where the development CA permits them.
func loadConfig(path string, log *slog.Logger) (cfg *config.Config, dev *certs.DevFiles, err error) {
	cfg = config.Dev()
	if path != "" {
		if cfg, err = config.Load(path); err != nil {
			return nil, nil, err
		}
		if !cfg.Dev || len(cfg.TLS.Certificates) > 0 {
			return cfg, nil, nil
		}
	}
	f, err := certs.EnsureDevWith(cfg.StateDir, certs.DevOptions{Hostnames: gateway.Hostnames(cfg)})
	if err != nil {
		return nil, nil, fmt.Errorf("development certificate: %w", err)
	}
	if len(f.NotPermitted) > 0 {
		log.Warn("the development CA's name constraints exclude these hostnames, so the development certificate does not cover them: "+
			"delete dev-ca.pem and dev-ca-key.pem to make a CA that permits them (and trust it anew)",
			"hostnames", f.NotPermitted, "ca", f.CAFile)
	}
	cfg.TLS.Certificates = []config.CertPair{{Cert: f.CertFile, Key: f.KeyFile}}
	return cfg, &f, nil
}

// logDevHint names the development CA and how to use it with the app
// listener's real address, once it is bound.
func logDevHint(dev *certs.DevFiles, g *gateway.Gateway, log *slog.Logger) {
	if dev == nil {
		return
	}
	_, port, _ := net.SplitHostPort(g.AppAddr().String())
	app := "https://" + net.JoinHostPort("localhost", port) + "/"
	log.Info("development CA: trust it in your browser or device to connect without warnings (wssgate devcert prints the pins and --install trusts it)",
		"ca", dev.CAFile, "created", dev.CACreated,
		"curl", "curl --cacert "+dev.CAFile+" "+app+".well-known/wssgate",
		"chromium", "chromium --ignore-certificate-errors-spki-list="+certs.SPKIPin(dev.CA)+","+certs.SPKIPin(dev.Leaf)+" "+app,
		"node", "NODE_EXTRA_CA_CERTS="+dev.CAFile+" node device.js")
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format: want text or json, got %q: %w", format, errUsage)
}
