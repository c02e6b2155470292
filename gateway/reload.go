package gateway

import (
	"errors"
	"sync/atomic"
	"time"

	"github.com/wssgate/wssgate/gateway/certs"
	"github.com/wssgate/wssgate/gateway/session"
)

// codeRevoked closes a session whose client certificate a reloaded CRL
// revokes (4003 "certificate revoked"). It is the value the issue gives for
// credentials that stopped being valid; a literal here, not a session
// constant, so that it does not clash with session.CodeTokenExpired (also
// 4003) landing beside it.
const codeRevoked = 4003

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
	// RevokedClosed is how many of them a reload (not a dry run) closed
	// with 4003 because the new CRLs revoke their certificate.
	RevokedClosed int
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
	refused, revoked := g.refusedBy(b)
	res := ReloadResult{Bundle: b, Generation: b.Generation, Refused: refused}
	if r.DryRun {
		res.Generation = g.certs.Current().Generation
		return res, nil
	}
	res.RevokedClosed = g.closeRevoked(revoked)
	return res, nil
}

// closeRevoked closes the sessions whose certificate the new bundle's CRLs
// revoke, and counts them. Only revocation closes: a revoked certificate is
// one its issuer withdrew (a stolen key, a decommissioned device), which a
// live session must not outlast; the other refusals (a client CA rotated
// out, an expiry) stay up as documented and are moved over with a rolling
// reconnect, so that a CA change cannot drop a whole fleet at once.
func (g *Gateway) closeRevoked(revoked []session.Entry) int {
	for _, s := range revoked {
		info := s.Info()
		s.Close(codeRevoked, "certificate revoked")
		g.revokedCloses.Add(1)
		g.log.Warn("session closed: its client certificate is revoked by the reloaded CRLs",
			"session", info.ID, "listener", info.Listener, "identity", info.Identity,
			"client_cert", info.PeerCertSubject, "code", codeRevoked)
	}
	return len(revoked)
}

// RevokedCloses returns how many sessions certificate reloads closed
// because a CRL revoked their certificate.
func (g *Gateway) RevokedCloses() uint64 { return g.revokedCloses.Load() }

// refusedBy lists the live sessions with a client certificate that b's
// client CAs and CRLs would not accept, and those of them whose certificate
// b's CRLs revoke.
func (g *Gateway) refusedBy(b *certs.Bundle) (out []RefusedSession, revoked []session.Entry) {
	now := time.Now()
	for _, s := range g.registry.List(func(s session.Entry) bool { return s.Info().PeerChain != nil }) {
		info := s.Info()
		if err := b.VerifyClientCert(info.PeerChain, now); err != nil {
			out = append(out, RefusedSession{Info: info, Reason: certs.ClientCertRejectReason(err) + ": " + err.Error()})
			if errors.Is(err, certs.ErrRevoked) {
				revoked = append(revoked, s)
			}
		}
	}
	return out, revoked
}
