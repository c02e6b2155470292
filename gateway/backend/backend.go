// Package backend adapts a running gateway to the admin API's interfaces
// (package admin), so that neither depends on the other: admin sees only
// its small interfaces, the gateway only its own types.
//
// Every method is safe for concurrent use; the streams it starts
// (WatchSessions, Subscribe) run until their stop function returns.
package backend

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/gobwas/ws"

	"github.com/wssgate/wssgate/admin"
	"github.com/wssgate/wssgate/gateway"
	"github.com/wssgate/wssgate/gateway/certs"
	"github.com/wssgate/wssgate/gateway/hub"
	"github.com/wssgate/wssgate/gateway/listener"
	"github.com/wssgate/wssgate/gateway/session"
	"github.com/wssgate/wssgate/gateway/wire"
)

// Backend serves the admin API from one gateway.
type Backend struct {
	g       *gateway.Gateway
	version string
	log     *slog.Logger
}

var (
	_ admin.Certificates = (*Backend)(nil)
	_ admin.Sessions     = (*Backend)(nil)
	_ admin.Messages     = (*Backend)(nil)
	_ admin.Stats        = (*Backend)(nil)
)

// New returns the admin backends of g.
func New(g *gateway.Gateway, version string, log *slog.Logger) admin.Backends {
	b := &Backend{g: g, version: version, log: log}
	return admin.Backends{Certificates: b, Sessions: b, Messages: b, Stats: b}
}

// Certificates describes the bundle served now.
func (b *Backend) Certificates(context.Context) (admin.CertificateBundle, error) {
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
		info := admin.CertificateInfoOf(c.Leaf)
		info.CertFile, info.KeyFile, info.ChainLength = c.CertFile, c.KeyFile, len(c.Chain)
		out = append(out, info)
	}
	return out
}

// ReloadCertificates re-reads the files, or takes the PEM bytes given;
// an invalid bundle is refused with its reason and the old one stays.
func (b *Backend) ReloadCertificates(_ context.Context, r admin.ReloadRequest) (admin.ReloadResult, error) {
	src := certs.Source{CertPEM: r.CertPEM, KeyPEM: r.KeyPEM, ClientCAPEM: r.ClientCAPEM}
	bn, err := b.g.ReloadFrom(src, r.DryRun, "admin")
	if err != nil {
		// Unreadable files included, a failed load is the bundle's fault.
		return admin.ReloadResult{}, admin.Invalid(err)
	}
	gen := bn.Generation
	if r.DryRun {
		gen = b.g.Certs().Current().Generation
	}
	return admin.ReloadResult{Generation: gen, Warnings: bn.Warnings, Certificates: certInfos(bn), Refused: b.refused(bn)}, nil
}

// refused lists the live sessions with a client certificate that bn's
// client CAs and CRLs would not accept: they stay up, but could not
// connect again.
func (b *Backend) refused(bn *certs.Bundle) []admin.SessionImpact {
	var out []admin.SessionImpact
	now := time.Now()
	for _, s := range b.g.Registry().List(func(s *session.Session) bool { return s.Info().PeerChain != nil }) {
		info := s.Info()
		if err := bn.VerifyClientCert(info.PeerChain, now); err != nil {
			out = append(out, admin.SessionImpact{
				SessionID: info.ID, Identity: info.Identity, PeerCertSubject: info.PeerSubject,
				Reason: certs.ClientCertRejectReason(err) + ": " + err.Error(),
			})
		}
	}
	return out
}

// ListSessions returns the sessions f selects.
func (b *Backend) ListSessions(_ context.Context, f admin.SessionFilter) ([]admin.SessionInfo, error) {
	all := b.g.Registry().List(nil)
	out := make([]admin.SessionInfo, 0, len(all))
	for _, s := range all {
		if info := sessionInfo(s); f.Match(info) {
			out = append(out, info)
		}
	}
	return out, nil
}

// Session describes one session.
func (b *Backend) Session(_ context.Context, id string) (admin.SessionInfo, error) {
	s, err := b.find(id)
	if err != nil {
		return admin.SessionInfo{}, err
	}
	return sessionInfo(s), nil
}

func (b *Backend) find(id string) (*session.Session, error) {
	s, ok := b.g.Registry().Get(id)
	if !ok {
		return nil, fmt.Errorf("session %q: %w", id, admin.ErrNotFound)
	}
	return s, nil
}

// CloseSession closes a session with code and reason.
func (b *Backend) CloseSession(_ context.Context, id string, code int, reason string) error {
	s, err := b.find(id)
	if err != nil {
		return err
	}
	s.Close(ws.StatusCode(code), reason)
	return nil
}

// SendToSession queues one frame to a session, as is.
func (b *Backend) SendToSession(_ context.Context, id string, f admin.Frame) error {
	s, err := b.find(id)
	if err != nil {
		return err
	}
	op := ws.OpText
	if f.Binary {
		op = ws.OpBinary
	}
	if !s.Send(wire.Frame(op, f.Data)) {
		return fmt.Errorf("send to session %q: closing or outbound queue full: %w", id, admin.ErrResourceExhausted)
	}
	return nil
}

// WatchSessions calls fn for each connect and disconnect until stop. The
// admin server's fn copies into its bounded stream buffer and ends the
// stream itself if the client falls behind, so nothing is lost silently.
func (b *Backend) WatchSessions(_ context.Context, fn func(admin.SessionEvent)) (func(), error) {
	return b.g.Registry().Watch(func(e session.Event) { fn(event(e)) }), nil
}

// ReconnectSessions closes the selected sessions with 1012 at a bounded
// rate, with jitter, so that clients come back without a stampede.
func (b *Backend) ReconnectSessions(ctx context.Context, r admin.ReconnectRequest) (int, error) {
	below := r.BelowGeneration
	if below == 0 {
		below = b.g.Certs().Current().Generation
	}
	targets := b.g.Registry().List(func(s *session.Session) bool {
		info := s.Info()
		return info.CertGeneration < below && (r.Listener == "" || info.Listener == r.Listener)
	})
	closed := 0
	for i, s := range targets {
		if i > 0 && r.RatePerSecond > 0 {
			gap := time.Duration(float64(time.Second) / r.RatePerSecond * (0.5 + rand.Float64()))
			t := time.NewTimer(gap)
			select {
			case <-ctx.Done():
				t.Stop()
				return closed, ctx.Err()
			case <-t.C:
			}
		}
		s.Close(session.CodeServiceRestart, "certificate changed: reconnect")
		closed++
	}
	return closed, nil
}

// Publish publishes m and returns how many local sessions accepted it.
func (b *Backend) Publish(ctx context.Context, m admin.Message) (int, error) {
	if err := hub.ValidChannel(m.Channel); err != nil {
		return 0, admin.Invalid(err)
	}
	return b.g.Hub().Publish(ctx, hub.Message{Channel: m.Channel, Binary: m.Binary, Data: m.Data})
}

// Subscribe calls fn for every message on channels matching pattern.
func (b *Backend) Subscribe(_ context.Context, pattern string, fn func(admin.Message)) (func(), error) {
	if err := hub.ValidPattern(pattern); err != nil {
		return nil, admin.Invalid(err)
	}
	sub := &subscriber{fn: fn}
	if err := b.g.Hub().Subscribe(sub, pattern); err != nil {
		return nil, err
	}
	return func() {
		b.g.Hub().UnsubscribeAll(sub)
		sub.mu.Lock()
		sub.stopped = true
		sub.mu.Unlock()
	}, nil
}

// subscriber hands hub deliveries to an admin stream, one at a time.
type subscriber struct {
	mu      sync.Mutex // serialises fn; guards stopped
	stopped bool
	fn      func(admin.Message)
}

func (s *subscriber) Deliver(d *hub.Delivery) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return false
	}
	m := d.Message
	s.fn(admin.Message{Channel: m.Channel, Binary: m.Binary, Data: m.Data, Time: time.Now()})
	return true
}

func sessionInfo(s *session.Session) admin.SessionInfo {
	i, st := s.Info(), s.Stats()
	return admin.SessionInfo{
		ID:              i.ID,
		Listener:        i.Listener,
		Role:            admin.Role(i.Role),
		Identity:        i.Identity,
		RemoteAddr:      i.RemoteAddr,
		LocalAddr:       i.LocalAddr,
		ConnectedAt:     i.ConnectedAt,
		LastActivity:    st.LastActivity,
		TLSVersion:      i.TLSVersion,
		CipherSuite:     i.CipherSuite,
		ServerName:      i.SNI,
		ALPN:            i.ALPN,
		PeerCertSubject: i.PeerSubject,
		PeerCertSHA256:  i.PeerFingerprint,
		CertGeneration:  i.CertGeneration,
		Origin:          i.Origin,
		UserAgent:       i.UserAgent,
		Subscriptions:   st.Subscriptions,
		MessagesIn:      st.MsgsIn,
		MessagesOut:     st.MsgsOut,
		BytesIn:         st.BytesIn,
		BytesOut:        st.BytesOut,
		QueueLen:        st.QueueLen,
	}
}

func event(e session.Event) admin.SessionEvent {
	ev := admin.SessionEvent{Time: e.Time, Session: admin.SessionInfo{
		ID: e.Info.ID, Listener: e.Info.Listener, Role: admin.Role(e.Info.Role), Identity: e.Info.Identity,
		RemoteAddr: e.Info.RemoteAddr, LocalAddr: e.Info.LocalAddr, ConnectedAt: e.Info.ConnectedAt,
		TLSVersion: e.Info.TLSVersion, CipherSuite: e.Info.CipherSuite, ServerName: e.Info.SNI,
		ALPN: e.Info.ALPN, PeerCertSubject: e.Info.PeerSubject, PeerCertSHA256: e.Info.PeerFingerprint,
		CertGeneration: e.Info.CertGeneration, Origin: e.Info.Origin, UserAgent: e.Info.UserAgent,
	}}
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
func (b *Backend) Stats(context.Context) (admin.StatsSnapshot, error) {
	snap := admin.StatsSnapshot{Process: admin.CurrentProcess(b.g.Started(), b.version)}
	for _, l := range b.g.Listeners() {
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

			ClientCertRejections: l.CertRejects(),
		}
		for _, r := range listener.Reasons() {
			if n := l.Failures(r); n > 0 {
				ls.HandshakeFailures[r.String()] = n
			}
		}
		snap.Listeners = append(snap.Listeners, ls)
	}
	counts := b.g.ReloadCounts()
	for _, t := range gateway.ReloadTriggers {
		snap.Reloads = append(snap.Reloads, admin.ReloadStats{Trigger: t, OK: counts[t][0], Failed: counts[t][1]})
	}
	cur := b.g.Certs().Current()
	snap.CertificateGeneration = cur.Generation
	for _, c := range cur.Certs {
		snap.Certificates = append(snap.Certificates, admin.CertificateExpiry{
			Subject: c.Leaf.Subject.String(), Serial: c.Leaf.SerialNumber.Text(16), NotAfter: c.Leaf.NotAfter,
		})
	}
	return snap, nil
}

// Failures returns recent failed handshakes, newest first.
func (b *Backend) Failures(_ context.Context, f admin.FailureFilter) ([]admin.Failure, error) {
	var out []admin.Failure
	for _, l := range b.g.Listeners() {
		for _, x := range l.Recent() {
			af := admin.Failure{
				Time: x.Time, Listener: l.Name, RemoteAddr: x.Remote, ServerName: x.SNI, Stage: x.Stage,
				Reason: x.Reason.String(), Message: x.Message, ClientCertSubject: x.CertSubject,
			}
			if f.Match(af) {
				out = append(out, af)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b admin.Failure) int { return b.Time.Compare(a.Time) })
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}
