package gateway

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/gobwas/ws"

	"github.com/wssgate/wssgate/gateway/hub"
	"github.com/wssgate/wssgate/gateway/listener"
	"github.com/wssgate/wssgate/gateway/protocol"
	"github.com/wssgate/wssgate/gateway/session"
	"github.com/wssgate/wssgate/gateway/wire"
)

// Errors of the operations, for callers to map (the admin adapter maps
// them to gRPC codes).
var (
	// ErrNotFound: no live session has the id.
	ErrNotFound = errors.New("gateway: no such session")
	// ErrQueueFull: the session is closing or its outbound queue is full.
	ErrQueueFull = errors.New("gateway: session closing or outbound queue full")
	// ErrInvalid: a channel, pattern or close code is malformed.
	ErrInvalid = errors.New("gateway: invalid argument")
)

// SessionView is one reading of a live session.
type SessionView struct {
	Info          session.Info
	Live          session.Snapshot
	Subscriptions []string
	// AuthExpiresAt is when the session's credentials expire (as last
	// refreshed); zero if never.
	AuthExpiresAt time.Time
}

func view(s session.Entry) SessionView {
	return SessionView{Info: s.Info(), Live: s.Snapshot(), Subscriptions: protocol.Subscriptions(s), AuthExpiresAt: protocol.AuthExpiry(s)}
}

// Sessions returns every live session, oldest first (ties by id).
func (g *Gateway) Sessions() []SessionView {
	all := g.registry.List(nil)
	out := make([]SessionView, len(all))
	for i, s := range all {
		out[i] = view(s)
	}
	return out
}

// Session returns one live session, or an error wrapping ErrNotFound.
func (g *Gateway) Session(id string) (SessionView, error) {
	s, err := g.find(id)
	if err != nil {
		return SessionView{}, err
	}
	return view(s), nil
}

func (g *Gateway) find(id string) (session.Entry, error) {
	s, ok := g.registry.Get(id)
	if !ok {
		return nil, fmt.Errorf("session %q: %w", id, ErrNotFound)
	}
	return s, nil
}

// CloseSession closes a session with a close code a server may send.
func (g *Gateway) CloseSession(id string, code ws.StatusCode, reason string) error {
	if !wire.ValidCloseCode(code) {
		return fmt.Errorf("close code %d: want 1000-1003, 1007-1014 or 3000-4999: %w", code, ErrInvalid)
	}
	s, err := g.find(id)
	if err != nil {
		return err
	}
	s.Close(code, reason)
	return nil
}

// CloseIdentity closes every live session of identity (on any listener)
// with a close code a server may send, and returns how many it closed.
func (g *Gateway) CloseIdentity(identity string, code ws.StatusCode, reason string) (int, error) {
	if !wire.ValidCloseCode(code) {
		return 0, fmt.Errorf("close code %d: want 1000-1003, 1007-1014 or 3000-4999: %w", code, ErrInvalid)
	}
	if identity == "" {
		return 0, fmt.Errorf("identity is empty: %w", ErrInvalid)
	}
	targets := g.registry.List(func(s session.Entry) bool { return s.Info().Identity == identity })
	for _, s := range targets {
		s.Close(code, reason)
	}
	return len(targets), nil
}

// SendToSession queues one frame to a session, as is (no envelope).
func (g *Gateway) SendToSession(id string, binary bool, data []byte) error {
	e, err := g.find(id)
	if err != nil {
		return err
	}
	s, ok := e.(*session.Session)
	if !ok {
		return fmt.Errorf("session %q is a Socket.IO client, which receives events, not frames: publish to a channel it subscribed to: %w", id, ErrInvalid)
	}
	op := ws.OpText
	if binary {
		op = ws.OpBinary
	}
	if !s.Send(wire.Frame(op, data)) {
		return fmt.Errorf("send to session %q: %w", id, ErrQueueFull)
	}
	return nil
}

// WatchSessions calls fn for every connect and disconnect until cancel
// returns (see session.Registry.Watch: fn must not block).
func (g *Gateway) WatchSessions(fn func(session.Event)) (cancel func()) { return g.registry.Watch(fn) }

// Reconnect closes with 1012 (Service Restart) the sessions that
// handshook with a certificate generation below below (0: the current
// one), on one listener ("" for all), at most rate per second (0: no
// limit) with ±50 % jitter, so that clients come back onto the new
// certificate without a stampede. It returns how many it closed, early
// with ctx's error when ctx ends.
func (g *Gateway) Reconnect(ctx context.Context, below uint64, listenerName string, rate float64) (int, error) {
	if below == 0 {
		below = g.certs.Current().Generation
	}
	targets := g.registry.List(func(s session.Entry) bool {
		info := s.Info()
		return info.CertGeneration < below && (listenerName == "" || info.Listener == listenerName)
	})
	for i, s := range targets {
		if i > 0 && rate > 0 {
			gap := time.Duration(float64(time.Second) / rate * (0.5 + rand.Float64()))
			t := time.NewTimer(gap)
			select {
			case <-ctx.Done():
				t.Stop()
				return i, ctx.Err()
			case <-t.C:
			}
		}
		s.Close(session.CodeServiceRestart, "certificate changed: reconnect")
	}
	return len(targets), nil
}

// Publish publishes m and returns how many sessions accepted it, on every
// node of a cluster (see route; with NATS away, on this node).
func (g *Gateway) Publish(ctx context.Context, m hub.Message) (int, error) {
	if err := hub.ValidChannel(m.Channel); err != nil {
		return 0, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return g.route(ctx, m)
}

// Subscribe calls fn, one call at a time, for every message on a channel
// matching pattern until stop returns; fn must not block.
func (g *Gateway) Subscribe(pattern string, fn func(hub.Message)) (stop func(), err error) {
	if err := hub.ValidPattern(pattern); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	sub := &funcSubscriber{fn: fn}
	if err := g.hub.Subscribe(sub, pattern); err != nil {
		return nil, err
	}
	return func() {
		g.hub.UnsubscribeAll(sub)
		sub.stop()
	}, nil
}

// ListenerFailure is one failed handshake and the listener it failed on.
type ListenerFailure struct {
	Listener string
	listener.Failure
}

// Failures returns the failed handshakes every listener remembers, newest
// first.
func (g *Gateway) Failures() []ListenerFailure {
	var out []ListenerFailure
	for _, l := range g.Listeners() {
		for _, f := range l.Recent() {
			out = append(out, ListenerFailure{Listener: l.Name, Failure: f})
		}
	}
	slices.SortStableFunc(out, func(a, b ListenerFailure) int { return b.Time.Compare(a.Time) })
	return out
}

// OpenConnections is the number of sessions open now on every listener
// (proxied WebSockets included).
func (g *Gateway) OpenConnections() int64 {
	var n int64
	for _, l := range g.Listeners() {
		n += max(l.Open.Load(), 0)
	}
	return n
}
