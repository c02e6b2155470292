package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"

	"github.com/gobwas/ws"

	"github.com/wssgate/wssgate/gateway/auth"
	"github.com/wssgate/wssgate/gateway/protocol"
	"github.com/wssgate/wssgate/gateway/protocol/socketio"
	"github.com/wssgate/wssgate/gateway/session"
)

// newSocketIO builds the app listener's Socket.IO server (app.socketio);
// with app.socketio.enabled false the listener answers its path with a
// 404 that says so.
func (g *Gateway) newSocketIO() error {
	c := g.cfg.App
	g.app.SocketIOPath = c.SocketIO.Path
	if !c.SocketIO.On() {
		return nil
	}
	g.sioProto = &protocol.SocketIO{App: g.appProto, Info: g.app.SocketIOInfo, Connected: g.sioConnected, Ended: g.sioEnded}
	srv, err := socketio.NewServer(socketio.Config{
		Path:           c.SocketIO.Path,
		PingInterval:   c.SocketIO.PingInterval,
		PingTimeout:    c.SocketIO.PingTimeout,
		WriteTimeout:   c.Limits.WriteTimeout,
		MaxPayload:     int(c.Limits.MaxMessage),
		MaxBufferBytes: int(c.Limits.QueueBytes),
		CheckOrigin:    g.app.OriginAllowed,
		ServeWebSocket: g.app.ServeSocketIOWebSocket,
		Authenticate:   g.sioAuthenticate,
		OnFailure:      g.app.SocketIOFailure,
		// Failures are logged once, by the listener; the server's own
		// warnings (slow consumers) stay.
		Logger: slog.New(minLevel{g.log.With("listener", AppListener, "protocol", "socketio").Handler(), slog.LevelWarn}),
	}, g.sioProto)
	if err != nil {
		return fmt.Errorf("app.socketio (with app.limits max_message %d, queue_bytes %d): %w", c.Limits.MaxMessage, c.Limits.QueueBytes, err)
	}
	g.sio, g.app.SocketIO, g.app.SocketIOUpgraded = srv, srv, g.sioUpgraded
	g.sioLimits = g.appLimits
	// Engine.IO pings keep the WebSocket busy: never idle-close before a
	// ping timeout would.
	g.sioLimits.IdleTimeout = max(g.sioLimits.IdleTimeout, c.SocketIO.PingInterval+c.SocketIO.PingTimeout+g.sioLimits.WriteTimeout)
	return nil
}

// sioAuthenticate admits the CONNECT of a Socket.IO client as /ws admits
// an upgrade (app.auth): the CONNECT payload's {token} stands for an
// Authorization: Bearer header; without one, the handshake request's
// cookie, Authorization header or ?token= count. The grant (identity,
// narrowed lists, expiry) goes with the socket.
func (g *Gateway) sioAuthenticate(r *http.Request, payload json.RawMessage) (string, any, error) {
	if tok := connectToken(payload); tok != "" {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+tok)
	}
	grant, err := g.appAuth.authenticate(r)
	if err != nil {
		sub := auth.Reason(err)
		if sub == "" {
			sub = auth.ReasonCheckUnavailable // fail closed, as /ws
		}
		// "<sub-reason>: <description>": the client's CONNECT_ERROR and the
		// failure's sub-reason (SocketIOFailure); never the token.
		return "", nil, fmt.Errorf("%s: %s", sub, sub.Description())
	}
	return grant.Identity, grant, nil
}

// connectToken is the string "token" of a CONNECT auth payload, "" if
// there is none.
func connectToken(payload json.RawMessage) string {
	var p struct {
		Token string `json:"token"`
	}
	if len(payload) == 0 || json.Unmarshal(payload, &p) != nil {
		return ""
	}
	return p.Token
}

// sioConnected registers a connected Socket.IO client.
func (g *Gateway) sioConnected(c *protocol.SocketIOClient) {
	g.registry.Add(c)
	if g.draining.Load() {
		c.Close(ws.StatusGoingAway, "server shutting down")
	}
	if g.log.Enabled(context.Background(), slog.LevelDebug) {
		info := c.Info()
		g.log.Debug("session connected", "session", info.ID, "listener", info.Listener, "transport", info.Transport, "remote", info.RemoteAddr)
	}
}

// sioEnded removes a Socket.IO client that closed.
func (g *Gateway) sioEnded(c *protocol.SocketIOClient) {
	g.registry.Remove(c)
	if g.log.Enabled(context.Background(), slog.LevelDebug) {
		code, reason := c.CloseStatus()
		g.log.Debug("session closed", "session", c.Info().ID, "listener", AppListener, "code", int(code), "reason", reason)
	}
}

// sioUpgraded runs the WebSocket transport of a Socket.IO client on the
// gateway's session machinery (byte-bounded queue, one writer, limits,
// the listener's totals); the Socket.IO client, not this transport, is
// what the registry lists. The goroutine is counted in g.sioWG.
func (g *Gateway) sioUpgraded(conn net.Conn, info *session.Info, r *http.Request, done func()) {
	t := &sioTransport{}
	s := session.New(conn, info, &g.sioLimits, t, &g.app.Counters.Sessions, g.log)
	w, err := g.sio.AttachWebSocket(r, s)
	if err != nil {
		g.app.SocketIOFailure(r, socketio.ReasonBadRequest, err.Error())
		s.Close(ws.StatusPolicyViolation, "session not found")
	}
	t.ws = w // before Run: the reader is the only one to read it
	g.sioWG.Add(1)
	go func() {
		defer g.sioWG.Done()
		s.Run()
		done()
	}()
}

// sioTransport feeds one WebSocket's messages to its Engine.IO session.
type sioTransport struct{ ws *socketio.WebSocket }

func (t *sioTransport) OnMessage(s *session.Session, op ws.OpCode, data []byte) {
	if t.ws == nil {
		return
	}
	if err := t.ws.Receive(op == ws.OpBinary, data); err != nil {
		s.Close(ws.StatusPolicyViolation, "socket.io: "+err.Error())
	}
}

func (t *sioTransport) OnClose(*session.Session) {
	if t.ws != nil {
		t.ws.Closed()
	}
}

// shutdownSocketIO closes every Socket.IO transport (clients hear a
// transport close and reconnect) and waits, until ctx ends, for the
// WebSocket transports' goroutines.
func (g *Gateway) shutdownSocketIO(ctx context.Context) error {
	if g.sio == nil {
		return nil
	}
	err := g.sio.Shutdown(ctx)
	done := make(chan struct{})
	go func() { g.sioWG.Wait(); close(done) }()
	select {
	case <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("wait for Socket.IO websockets: %w", ctx.Err())
	}
}

// minLevel drops records below min.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}
func (h minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(as), h.min}
}
func (h minLevel) WithGroup(n string) slog.Handler { return minLevel{h.Handler.WithGroup(n), h.min} }
