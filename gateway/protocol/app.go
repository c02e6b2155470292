package protocol

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"

	"github.com/gobwas/ws"

	"github.com/wssgate/wssgate/gateway/cluster"
	"github.com/wssgate/wssgate/gateway/hub"
	"github.com/wssgate/wssgate/gateway/session"
)

// MaxSubscriptions bounds the patterns one app session may hold, so that
// one client cannot grow the hub's index without limit.
const MaxSubscriptions = 256

// App is the JSON envelope app clients speak on /ws, with the listener's
// allow-lists. Every request with an id gets exactly one ack or error.
type App struct {
	Hub       *hub.Hub
	Subscribe []string // patterns app clients may subscribe to (hub.Covers)
	Publish   []string // patterns app clients may publish to (hub.Match)
	Log       *slog.Logger
	// Ended runs once per session, after it closed and left the hub.
	Ended func(*session.Session)
	// Route publishes the requests with an id, whose ack reports reached (across a
	// cluster); nil: Hub.Publish.
	Route func(context.Context, hub.Message) (reached int, err error)
}

// NewSession makes the session of one upgraded app connection.
func (p *App) NewSession(conn net.Conn, info *session.Info, limits *session.Limits, totals *session.Totals) *session.Session {
	c := &appConn{p: p}
	c.s = session.New(conn, info, limits, c, totals, p.Log)
	return c.s
}

// appConn is one app session's protocol state.
type appConn struct {
	p *App
	s *session.Session

	mu   sync.Mutex // guards subs
	subs []string   // patterns subscribed in the hub, in order
}

var (
	_ session.Handler = (*appConn)(nil)
	_ hub.Subscriber  = (*appConn)(nil)
)

// Deliver queues a message in the envelope, encoded once per fan-out.
func (c *appConn) Deliver(d *hub.Delivery) bool { return c.s.Send(d.Frame(kindApp, appFrame)) }

func appFrame(m hub.Message) []byte { return MessageFrame(m.Channel, m.Data, m.Binary) }

func (c *appConn) OnClose(s *session.Session) {
	c.p.Hub.UnsubscribeAll(c)
	c.p.Ended(s)
}

func (c *appConn) OnMessage(s *session.Session, op ws.OpCode, data []byte) {
	if op != ws.OpText {
		s.Send(ErrorFrame(nil, CodeBadRequest, "the app protocol uses JSON text frames"))
		return
	}
	req, err := DecodeRequest(data)
	if err != nil {
		s.Send(ErrorFrame(req.ID, CodeBadRequest, err.Error()))
		return
	}
	reached, code, err := c.handle(&req)
	switch {
	case err != nil:
		s.Send(ErrorFrame(req.ID, code, err.Error()))
	case len(req.ID) > 0:
		s.Send(AckFrame(req.ID, reached))
	}
}

// handle runs one request; reached is -1 unless it is a publish.
func (c *appConn) handle(req *Request) (reached int, code string, err error) {
	switch req.Type {
	case TypeSubscribe:
		code, err := c.subscribe(req.Channel)
		return -1, code, err
	case TypeUnsubscribe:
		if !c.removeSub(req.Channel) {
			return -1, CodeNotFound, fmt.Errorf("not subscribed to %s", req.Channel)
		}
		c.p.Hub.Unsubscribe(c, req.Channel)
		return -1, "", nil
	case TypePublish:
		return c.publish(req)
	}
	return -1, CodeBadRequest, fmt.Errorf("unknown type %q", req.Type)
}

func (c *appConn) subscribe(pattern string) (code string, err error) {
	if err := hub.ValidPattern(pattern); err != nil {
		return CodeBadRequest, err
	}
	if !slices.ContainsFunc(c.p.Subscribe, func(a string) bool { return hub.Covers(a, pattern) }) {
		return CodeForbidden, fmt.Errorf("subscribe to %s not allowed", pattern)
	}
	c.mu.Lock()
	n, dup := len(c.subs), slices.Contains(c.subs, pattern)
	c.mu.Unlock()
	if !dup && n >= MaxSubscriptions {
		return CodeLimit, fmt.Errorf("at most %d subscriptions per session", MaxSubscriptions)
	}
	if err := c.p.Hub.Subscribe(c, pattern); err != nil {
		return CodeInternal, err
	}
	if !dup {
		c.mu.Lock()
		c.subs = append(c.subs, pattern)
		c.mu.Unlock()
	}
	return "", nil
}

func (c *appConn) publish(req *Request) (reached int, code string, err error) {
	if err := hub.ValidChannel(req.Channel); err != nil {
		return -1, CodeBadRequest, err
	}
	if !slices.ContainsFunc(c.p.Publish, func(a string) bool { return hub.Match(a, req.Channel) }) {
		return -1, CodeForbidden, fmt.Errorf("publish to %s not allowed", req.Channel)
	}
	data, binary, err := req.Payload()
	if err != nil {
		return -1, CodeBadRequest, err
	}
	publish := c.p.Hub.Publish // no id, no ack: no reached to count across nodes
	if c.p.Route != nil && len(req.ID) > 0 {
		publish = c.p.Route
	}
	n, err := publish(context.Background(), hub.Message{Channel: req.Channel, Binary: binary, Data: data})
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, cluster.ErrLinkDown) { // degraded: local reached
		return n, CodeInternal, fmt.Errorf("publish to %s: %w", req.Channel, err)
	}
	return n, "", nil
}

func (c *appConn) removeSub(pattern string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := slices.Index(c.subs, pattern)
	if i < 0 {
		return false
	}
	c.subs = slices.Delete(c.subs, i, i+1)
	return true
}

// Subscriptions lists the session's patterns, for the admin API.
func (c *appConn) Subscriptions() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.subs)
}

// Subscriptions lists what session s receives (its patterns, or a
// device's down channel), whatever its protocol.
func Subscriptions(s *session.Session) []string {
	if l, ok := s.Handler().(interface{ Subscriptions() []string }); ok {
		return l.Subscriptions()
	}
	return nil
}
