package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"

	"github.com/gobwas/ws"

	"github.com/wssgate/wssgate/gateway/config"
	"github.com/wssgate/wssgate/gateway/hub"
	"github.com/wssgate/wssgate/gateway/session"
	"github.com/wssgate/wssgate/gateway/wire"
)

// startApp starts one app (browser) session.
func (g *Gateway) startApp(conn net.Conn, info *session.Info, done func()) {
	g.start(session.New(conn, info, &g.appLimits, g.appProto, &g.app.Stats.Sessions, g.log), done)
}

// startDevice starts one device session: it receives devices/ID/down and
// publishes every frame to devices/ID/up.
func (g *Gateway) startDevice(conn net.Conn, info *session.Info, done func()) {
	s := session.New(conn, info, &g.deviceLimits, g.devProto, &g.device.Stats.Sessions, g.log)
	s.Data = "devices/" + info.Identity + "/up" // computed once, not per frame
	// devices/ID/down reaches the session through the hub's direct lookup
	// (deviceFor), not the subscription index: no index entry per device.
	s.AddSubscription("devices/" + info.Identity + "/down")
	g.start(s, done)
}

// deviceFor is the hub's direct lookup: the live device session that
// "devices/ID/down" is addressed to.
func (g *Gateway) deviceFor(channel string) hub.Subscriber {
	rest, ok := strings.CutPrefix(channel, "devices/")
	if !ok {
		return nil
	}
	id, ok := strings.CutSuffix(rest, "/down")
	if !ok || strings.IndexByte(id, '/') >= 0 {
		return nil
	}
	if s, ok := g.registry.Device(id); ok {
		return s
	}
	return nil
}

// start registers s and runs it on a new goroutine, which the registry
// owns: Shutdown closes every registered session and waits for them.
func (g *Gateway) start(s *session.Session, done func()) {
	if old := g.registry.Add(s); old != nil {
		old.Close(session.CodeReplaced, "replaced")
		g.log.Info("device session replaced by a newer one", "identity", s.Info().Identity, "old", old.ID(), "new", s.ID())
	}
	if g.draining.Load() {
		s.Close(ws.StatusGoingAway, "server shutting down")
	}
	if g.log.Enabled(context.Background(), slog.LevelDebug) {
		g.log.Debug("session connected", "session", s.ID(), "listener", s.Info().Listener, "identity", s.Info().Identity,
			"remote", s.Info().RemoteAddr, "tls", s.Info().TLSVersion)
	}
	go runSession(s, done)
}

// runSession is the session's reader goroutine. It is kept shallow: an
// idle session's stack is this frame, Run's and the read path's, so that
// the runtime can shrink it.
func runSession(s *session.Session, done func()) {
	s.Run()
	done()
}

// end is the common end of every session.
func (g *Gateway) end(s *session.Session) {
	g.hub.UnsubscribeAll(s)
	g.registry.Remove(s)
	if g.log.Enabled(context.Background(), slog.LevelDebug) {
		code, reason := s.CloseStatus()
		g.log.Debug("session closed", "session", s.ID(), "listener", s.Info().Listener, "identity", s.Info().Identity,
			"code", int(code), "reason", reason)
	}
}

func limits(l config.Limits) session.Limits {
	return session.Limits{
		MaxMessage:   int64(l.MaxMessage),
		QueueBytes:   int(l.QueueBytes),
		WriteTimeout: l.WriteTimeout,
		PingInterval: l.PingInterval,
		IdleTimeout:  l.IdleTimeout,
	}
}

// deviceProtocol: raw frames; every frame is published as is.
type deviceProtocol struct{ g *Gateway }

func (p *deviceProtocol) OnMessage(s *session.Session, op ws.OpCode, data []byte) {
	m := hub.Message{Channel: s.Data.(string), Binary: op == ws.OpBinary, Data: data}
	if _, err := p.g.hub.Publish(context.Background(), m); err != nil {
		p.g.log.Warn("device publish failed", "session", s.ID(), "channel", m.Channel, "err", err)
	}
}

func (p *deviceProtocol) OnClose(s *session.Session) { p.g.end(s) }

// MaxSubscriptions bounds the patterns one app session may hold, so that
// one client cannot grow the hub's index without limit.
const MaxSubscriptions = 256

// appProtocol: the JSON envelope of DESIGN.md, with per-listener
// allow-lists. Every request with an id gets exactly one ack or error.
type appProtocol struct {
	g                  *Gateway
	subscribe, publish []string // allowed patterns
}

func (p *appProtocol) OnClose(s *session.Session) { p.g.end(s) }

func (p *appProtocol) OnMessage(s *session.Session, op ws.OpCode, data []byte) {
	if op != ws.OpText {
		s.Send(wire.ErrorFrame(nil, wire.CodeBadRequest, "the app protocol uses JSON text frames"))
		return
	}
	req, err := wire.DecodeRequest(data)
	if err != nil {
		s.Send(wire.ErrorFrame(req.ID, wire.CodeBadRequest, err.Error()))
		return
	}
	reached, code, err := p.handle(s, &req)
	switch {
	case err != nil:
		s.Send(wire.ErrorFrame(req.ID, code, err.Error()))
	case len(req.ID) > 0:
		s.Send(wire.AckFrame(req.ID, reached))
	}
}

// handle runs one request; reached is -1 unless it is a publish.
func (p *appProtocol) handle(s *session.Session, req *wire.Request) (reached int, code string, err error) {
	switch req.Type {
	case wire.TypeSubscribe:
		if err := hub.ValidPattern(req.Channel); err != nil {
			return -1, wire.CodeBadRequest, err
		}
		if !slices.ContainsFunc(p.subscribe, func(a string) bool { return hub.Covers(a, req.Channel) }) {
			return -1, wire.CodeForbidden, fmt.Errorf("subscribe to %s not allowed", req.Channel)
		}
		if s.SubscriptionCount() >= MaxSubscriptions {
			return -1, wire.CodeLimit, fmt.Errorf("at most %d subscriptions per session", MaxSubscriptions)
		}
		if err := p.g.hub.Subscribe(s, req.Channel); err != nil {
			return -1, wire.CodeInternal, err
		}
		s.AddSubscription(req.Channel)
		return -1, "", nil
	case wire.TypeUnsubscribe:
		if !s.RemoveSubscription(req.Channel) {
			return -1, wire.CodeNotFound, fmt.Errorf("not subscribed to %s", req.Channel)
		}
		p.g.hub.Unsubscribe(s, req.Channel)
		return -1, "", nil
	case wire.TypePublish:
		if err := hub.ValidChannel(req.Channel); err != nil {
			return -1, wire.CodeBadRequest, err
		}
		if !slices.ContainsFunc(p.publish, func(a string) bool { return hub.Match(a, req.Channel) }) {
			return -1, wire.CodeForbidden, fmt.Errorf("publish to %s not allowed", req.Channel)
		}
		data, binary, err := req.Payload()
		if err != nil {
			return -1, wire.CodeBadRequest, err
		}
		n, err := p.g.hub.Publish(context.Background(), hub.Message{Channel: req.Channel, Binary: binary, Data: data})
		if err != nil && !errors.Is(err, context.Canceled) {
			return n, wire.CodeInternal, fmt.Errorf("publish to %s: %w", req.Channel, err)
		}
		return n, "", nil
	}
	return -1, wire.CodeBadRequest, fmt.Errorf("unknown type %q", req.Type)
}
