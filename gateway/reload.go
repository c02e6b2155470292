package gateway

import (
	"sync/atomic"
	"time"

	"github.com/wssgate/wssgate/gateway/certs"
	"github.com/wssgate/wssgate/gateway/session"
)

// ReloadTriggers name what can ask for a certificate reload.
var ReloadTriggers = []string{"admin", "sighup", "file"}

type reloadCounts struct{ ok, failed atomic.Uint64 }

// ReloadCounts returns, by trigger, how many reloads were made and how
// many were refused.
func (g *Gateway) ReloadCounts() map[string][2]uint64 {
	m := make(map[string][2]uint64, len(g.reloads))
	for t, c := range g.reloads {
		m[t] = [2]uint64{c.ok.Load(), c.failed.Load()}
	}
	return m
}

// ReloadRequest asks for a certificate reload.
type ReloadRequest struct {
	Trigger string       // what asked: "admin", "sighup", "file" (counted and logged)
	Source  certs.Source // PEM bytes in place of some files; zero: re-read the files
	DryRun  bool         // validate and report, do not swap
	// Force applies a bundle that stops covering names clients used
	// recently (with a warning). SIGHUP and file reloads take tls.reload_force.
	Force bool
}

// ReloadResult is a validated bundle and what it would change.
type ReloadResult struct {
	Bundle *certs.Bundle
	// Generation is the new generation, or the current one after a dry run.
	Generation uint64
	// Refused are live sessions with a client certificate that the new
	// bundle's client CAs or CRLs would refuse: they stay up, but could not
	// connect again.
	Refused []RefusedSession
}

// RefusedSession is a live session that a bundle would refuse, and why.
type RefusedSession struct {
	Info   session.Info
	Reason string // certs.Reject* reason, then the detail
}

// Reload re-reads the certificate files (or takes r.Source), validates and,
// unless r.DryRun, swaps them; on failure the old bundle keeps serving and
// the error says why.
func (g *Gateway) Reload(r ReloadRequest) (ReloadResult, error) {
	force := r.Force || (r.Trigger == "sighup" || r.Trigger == "file") && g.cfg.TLS.ReloadForce
	b, err := g.certs.Reload(r.Source, certs.ReloadOptions{DryRun: r.DryRun, Force: force})
	if c := g.reloads[r.Trigger]; c != nil && !r.DryRun {
		if err != nil {
			c.failed.Add(1)
		} else {
			c.ok.Add(1)
		}
	}
	if err != nil {
		g.log.Error("certificate reload refused; still serving the previous certificate",
			"trigger", r.Trigger, "dry_run", r.DryRun, "generation", g.certs.Current().Generation, "err", err)
		return ReloadResult{}, err
	}
	if !r.DryRun {
		g.log.Info("certificates reloaded", "trigger", r.Trigger, "generation", b.Generation,
			"serial", b.Certs[0].Leaf.SerialNumber.Text(16))
	}
	for _, w := range b.Warnings {
		g.log.Warn("certificate warning", "warning", w, "dry_run", r.DryRun)
	}
	res := ReloadResult{Bundle: b, Generation: b.Generation, Refused: g.refusedBy(b)}
	if r.DryRun {
		res.Generation = g.certs.Current().Generation
	}
	return res, nil
}

// refusedBy lists the live sessions with a client certificate that b's
// client CAs and CRLs would not accept.
func (g *Gateway) refusedBy(b *certs.Bundle) []RefusedSession {
	var out []RefusedSession
	now := time.Now()
	for _, s := range g.registry.List(func(s session.Entry) bool { return s.Info().PeerChain != nil }) {
		info := s.Info()
		if err := b.VerifyClientCert(info.PeerChain, now); err != nil {
			out = append(out, RefusedSession{Info: info, Reason: certs.ClientCertRejectReason(err) + ": " + err.Error()})
		}
	}
	return out
}
