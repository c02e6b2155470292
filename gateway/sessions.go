package gateway

import (
	"context"
	"log/slog"
	"net"

	"github.com/gobwas/ws"

	"github.com/wssgate/wssgate/gateway/auth"
	"github.com/wssgate/wssgate/gateway/hub"
	"github.com/wssgate/wssgate/gateway/protocol"
	"github.com/wssgate/wssgate/gateway/session"
)

// appUpgraded starts one app (browser) session.
func (g *Gateway) appUpgraded(conn net.Conn, info *session.Info, grant *auth.Grant, done func()) {
	g.start(g.appProto.NewSession(conn, info, grant, &g.appLimits, &g.app.Counters.Sessions), done)
}

// deviceUpgraded starts one device session: it receives devices/ID/down
// and publishes every frame to devices/ID/up.
func (g *Gateway) deviceUpgraded(conn net.Conn, info *session.Info, grant *auth.Grant, done func()) {
	if g.flapping(info) {
		refuse(conn, session.CodeFlapping, "identity held off: replaced too often", &g.device.Counters.Sessions)
		done()
		return
	}
	g.start(g.devProto.NewSession(conn, info, grant, &g.deviceLimits, &g.device.Counters.Sessions), done)
}

// deviceFor is the hub's direct lookup: the live device session that
// "devices/ID/down" is addressed to.
func (g *Gateway) deviceFor(channel string) hub.Subscriber {
	id, ok := protocol.DownTarget(channel)
	if !ok {
		return nil
	}
	if s, ok := g.registry.Device(id); ok {
		return protocol.DeviceSubscriber(s)
	}
	return nil
}

// start registers s and runs it on a new goroutine, which the registry
// owns: Shutdown closes every registered session and waits for them.
func (g *Gateway) start(s *session.Session, done func()) {
	if old := g.registry.Add(s); old != nil {
		old.Close(session.CodeReplaced, "replaced")
		if g.sample.Allow(sampleReplaced) { // two clients sharing an identity replace each other in a loop
			g.log.Info("device session replaced by a newer one", "identity", s.Info().Identity, "old", old.ID(), "new", s.ID())
		}
	}
	g.claimIdentity(s)
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

// ended is the common end of every session, after its protocol left the hub.
func (g *Gateway) ended(s *session.Session) {
	g.registry.Remove(s)
	if g.log.Enabled(context.Background(), slog.LevelDebug) {
		code, reason := s.CloseStatus()
		g.log.Debug("session closed", "session", s.ID(), "listener", s.Info().Listener, "identity", s.Info().Identity,
			"code", int(code), "reason", reason)
	}
}
