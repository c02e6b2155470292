package main

import (
	"cmp"
	"context"
	"errors"
	"time"

	"github.com/gobwas/ws"

	"github.com/wssgate/wssgate/admin"
	"github.com/wssgate/wssgate/gateway"
	"github.com/wssgate/wssgate/gateway/auth"
	"github.com/wssgate/wssgate/gateway/certs"
	"github.com/wssgate/wssgate/gateway/hub"
	"github.com/wssgate/wssgate/gateway/listener"
	"github.com/wssgate/wssgate/gateway/session"
)

// backend is the thin adapter between the admin API (package admin) and
// one gateway: it maps gateway values to admin types and gateway errors to
// admin's; every decision is the gateway's.
type backend struct {
	g       *gateway.Gateway
	version string
}

var (
	_ admin.Certificates = (*backend)(nil)
	_ admin.Sessions     = (*backend)(nil)
	_ admin.Messages     = (*backend)(nil)
	_ admin.Stats        = (*backend)(nil)
	_ admin.Names        = (*backend)(nil)
)

// newBackends returns the admin backends of g.
func newBackends(g *gateway.Gateway, version string) admin.Backends {
	b := &backend{g: g, version: version}
	return admin.Backends{Certificates: b, Sessions: b, Messages: b, Stats: b, Names: b}
}

// adminErr maps the gateway's errors to the admin API's.
func adminErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gateway.ErrNotFound):
		return marked{err, admin.ErrNotFound}
	case errors.Is(err, gateway.ErrQueueFull):
		return marked{err, admin.ErrResourceExhausted}
	case errors.Is(err, gateway.ErrInvalid):
		return admin.Invalid(err)
	}
	return err
}

// marked is err, as is, that also matches an admin sentinel.
type marked struct{ err, kind error }

func (e marked) Error() string   { return e.err.Error() }
func (e marked) Unwrap() []error { return []error{e.err, e.kind} }

func (b *backend) Certificates(context.Context) (admin.CertificateBundle, error) {
	cur := b.g.Certs().Current()
	return admin.CertificateBundle{
		Generation:       cur.Generation,
		LoadedAt:         cur.LoadedAt,
		Certificates:     certInfos(cur),
		ClientCASubjects: cur.ClientCASubjects,
		Warnings:         cur.Warnings,
	}, nil
}

func certInfos(bn *certs.Bundle) []admin.CertificateInfo {
	out := make([]admin.CertificateInfo, 0, len(bn.Certs))
	for _, c := range bn.Certs {
		info := admin.CertificateInfo{
			Subject:           c.Leaf.Subject.String(),
			DNSNames:          c.Leaf.DNSNames,
			Issuer:            c.Leaf.Issuer.String(),
			Serial:            c.Leaf.SerialNumber.Text(16),
			NotBefore:         c.Leaf.NotBefore,
			NotAfter:          c.Leaf.NotAfter,
			SHA256Fingerprint: c.FingerprintHex(),
			KeyType:           c.KeyType,
			CertFile:          c.CertFile,
			KeyFile:           c.KeyFile,
			ChainLength:       len(c.Chain),
		}
		for _, ip := range c.Leaf.IPAddresses {
			info.IPAddresses = append(info.IPAddresses, ip.String())
		}
		for _, u := range c.Leaf.URIs {
			info.URIs = append(info.URIs, u.String())
		}
		out = append(out, info)
	}
	return out
}

func (b *backend) ReloadCertificates(_ context.Context, r admin.ReloadRequest) (admin.ReloadResult, error) {
	res, err := b.g.Reload(gateway.ReloadRequest{
		Trigger: "admin",
		Source:  certs.Source{CertPEM: r.CertPEM, KeyPEM: r.KeyPEM, ClientCAPEM: r.ClientCAPEM},
		DryRun:  r.DryRun,
		Force:   r.Force,
	})
	if err != nil {
		// Unreadable files included, a failed load is the bundle's fault.
		return admin.ReloadResult{}, admin.Invalid(err)
	}
	out := admin.ReloadResult{Generation: res.Generation, Warnings: res.Bundle.Warnings, Certificates: certInfos(res.Bundle)}
	for _, s := range res.Refused {
		out.Refused = append(out.Refused, admin.SessionImpact{
			SessionID: s.Info.ID, Identity: s.Info.Identity, PeerCertSubject: s.Info.PeerCertSubject, Reason: s.Reason,
		})
	}
	return out, nil
}

func (b *backend) ListSessions(_ context.Context, f admin.SessionFilter) ([]admin.SessionInfo, error) {
	var out []admin.SessionInfo
	for _, v := range b.g.Sessions() {
		if info := sessionInfo(v); f.Match(info) {
			out = append(out, info)
		}
	}
	return out, nil
}

func (b *backend) Session(_ context.Context, id string) (admin.SessionInfo, error) {
	v, err := b.g.Session(id)
	return sessionInfo(v), adminErr(err)
}

func (b *backend) CloseSession(_ context.Context, id string, code int, reason string) error {
	return adminErr(b.g.CloseSession(id, ws.StatusCode(code), reason))
}

func (b *backend) CloseIdentity(_ context.Context, identity string, code int, reason string) (int, error) {
	n, err := b.g.CloseIdentity(identity, ws.StatusCode(code), reason)
	return n, adminErr(err)
}

func (b *backend) SendToSession(_ context.Context, id string, f admin.Frame) error {
	return adminErr(b.g.SendToSession(id, f.Binary, f.Data))
}

func (b *backend) WatchSessions(_ context.Context, fn func(admin.SessionEvent)) (func(), error) {
	return b.g.WatchSessions(func(e session.Event) { fn(event(e)) }), nil
}

func (b *backend) ReconnectSessions(ctx context.Context, r admin.ReconnectRequest) (int, error) {
	return b.g.Reconnect(ctx, r.BelowGeneration, r.Listener, r.RatePerSecond)
}

func (b *backend) Publish(ctx context.Context, m admin.Message) (int, error) {
	n, err := b.g.Publish(ctx, hub.Message{Channel: m.Channel, Binary: m.Binary, Data: m.Data})
	return n, adminErr(err)
}

func (b *backend) Subscribe(_ context.Context, pattern string, fn func(admin.Message)) (func(), error) {
	stop, err := b.g.Subscribe(pattern, func(m hub.Message) {
		fn(admin.Message{Channel: m.Channel, Binary: m.Binary, Data: m.Data, Time: time.Now()})
	})
	return stop, adminErr(err)
}

// infoOf maps the fixed description of a session.
func infoOf(i session.Info) admin.SessionInfo {
	return admin.SessionInfo{
		ID:              i.ID,
		Listener:        i.Listener,
		Role:            admin.Role(i.Role),
		Identity:        i.Identity,
		AuthMethod:      i.AuthMethod,
		RemoteAddr:      i.RemoteAddr,
		LocalAddr:       i.LocalAddr,
		ConnectedAt:     i.ConnectedAt,
		TLSVersion:      i.TLSVersion,
		CipherSuite:     i.CipherSuite,
		ServerName:      i.ServerName,
		ALPN:            i.ALPN,
		PeerCertSubject: i.PeerCertSubject,
		PeerCertSHA256:  i.PeerCertSHA256,
		CertGeneration:  i.CertGeneration,
		Origin:          i.Origin,
		UserAgent:       i.UserAgent,
		Transport:       cmp.Or(i.Transport, "websocket"),
	}
}

func sessionInfo(v gateway.SessionView) admin.SessionInfo {
	info := infoOf(v.Info)
	info.LastActivity = v.Live.LastActivity
	info.AuthExpiresAt = v.AuthExpiresAt
	info.Subscriptions = v.Subscriptions
	info.MessagesIn, info.MessagesOut = v.Live.MsgsIn, v.Live.MsgsOut
	info.BytesIn, info.BytesOut = v.Live.BytesIn, v.Live.BytesOut
	info.QueueLen, info.Drops = v.Live.QueueLen, v.Live.Drops
	return info
}

func event(e session.Event) admin.SessionEvent {
	ev := admin.SessionEvent{Time: e.Time, Session: infoOf(e.Info)}
	switch e.Type {
	case session.Connected:
		ev.Type = admin.EventConnected
	case session.Disconnected:
		ev.Type = admin.EventDisconnected
		ev.CloseCode, ev.Reason = int(e.Code), e.Reason
		if e.Code == ws.StatusAbnormalClosure {
			ev.CloseCode = 0 // no close frame: the connection dropped
		}
	}
	return ev
}

// Stats reads every counter once.
func (b *backend) Stats(context.Context) (admin.StatsSnapshot, error) {
	snap := admin.StatsSnapshot{Process: admin.CurrentProcess(b.g.Started(), b.version)}
	for _, l := range b.g.Listeners() {
		ls := listenerStats(l)
		if l.Name == gateway.AppListener {
			open, total := b.g.ProxiedWebSockets()
			ls.ProxiedWebSocketsOpen, ls.ProxiedWebSocketsTotal = uint64(max(open, 0)), total
		}
		snap.Listeners = append(snap.Listeners, ls)
	}
	counts := b.g.ReloadCounts()
	for _, t := range gateway.ReloadTriggers {
		snap.Reloads = append(snap.Reloads, admin.ReloadStats{Trigger: t, OK: counts[t][0], Failed: counts[t][1]})
	}
	cur := b.g.Certs().Current()
	snap.CertificateGeneration = cur.Generation
	snap.MemoryBudgetBytes, snap.MemoryInUseBytes = uint64(b.g.Budget().Total()), uint64(max(b.g.Budget().InUse(), 0))
	for _, c := range cur.Certs {
		snap.Certificates = append(snap.Certificates, admin.CertificateExpiry{
			Subject: c.Leaf.Subject.String(), Serial: c.Leaf.SerialNumber.Text(16), NotAfter: c.Leaf.NotAfter,
		})
	}
	return snap, nil
}

// listenerStats maps one listener's counters; every failure reason is
// there, 0 included, so that rates work from the first failure on.
func listenerStats(l *listener.Counters) admin.ListenerStats {
	ls := admin.ListenerStats{
		Name:               l.Name,
		Address:            l.Address,
		Role:               admin.Role(l.Role),
		OpenSessions:       uint64(max(l.Open.Load(), 0)),
		HandshakesOK:       l.HandshakesOK.Load(),
		HandshakeFailures:  map[string]uint64{},
		MessagesIn:         l.Sessions.MsgsIn.Load(),
		MessagesOut:        l.Sessions.MsgsOut.Load(),
		BytesIn:            l.Sessions.BytesIn.Load(),
		BytesOut:           l.Sessions.BytesOut.Load(),
		SlowConsumerCloses: l.Sessions.SlowCloses.Load(),
		Drops:              l.Sessions.Drops.Load(),
		NamesNotCovered:    l.Failures(listener.NameNotCovered),

		ClientCertRejections: l.CertRejects(),
		AuthFailures:         map[string]uint64{},
		SessionCloses:        l.Sessions.Closes.ByCode(),
	}
	for _, r := range listener.Reasons() {
		ls.HandshakeFailures[r.String()] = l.Failures(r)
	}
	got := l.AuthFailures()
	for _, r := range auth.SubReasons() {
		ls.AuthFailures[string(r)] = got[string(r)]
	}
	return ls
}

// Failures returns recent failed handshakes, newest first.
func (b *backend) Failures(_ context.Context, f admin.FailureFilter) ([]admin.Failure, error) {
	var out []admin.Failure
	for _, x := range b.g.Failures() {
		af := admin.Failure{
			Time: x.Time, Listener: x.Listener, RemoteAddr: x.Remote, ServerName: x.ServerName, Stage: x.Stage,
			Reason: x.Reason.String(), Message: x.Message, ClientCertSubject: x.ClientCertSubject, SubReason: x.SubReason,
			ClientCertIssuer: x.ClientCertIssuer, ClientCertSerial: x.ClientCertSerial, ClientCertSHA256: x.ClientCertSHA256,
			CertificateSANs: x.CertificateSANs, Name: x.Name,
		}
		if f.Match(af) {
			out = append(out, af)
		}
		if f.Limit > 0 && len(out) == f.Limit {
			break
		}
	}
	return out, nil
}

// Names returns the names clients used within the last within (0: the
// reload window).
func (b *backend) Names(_ context.Context, within time.Duration) ([]admin.NameUse, error) {
	var out []admin.NameUse
	for _, n := range b.g.Names(within) {
		out = append(out, admin.NameUse{Name: n.Name, Handshakes: n.Count, LastSeen: n.LastSeen, Covered: n.Covered})
	}
	return out, nil
}
