package protocol

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/gobwas/ws"

	"github.com/wssgate/wssgate/gateway/auth"
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
	// Refresh verifies a refresh request's token for the session's
	// identity and returns the token's expiry (app.auth.mode jwt); nil
	// refuses every refresh.
	Refresh func(ctx context.Context, identity, token string) (time.Time, error)
	// Ended runs once per session, after it closed and left the hub.
	Ended func(*session.Session)
	// Route publishes what app clients publish (/ws and Socket.IO), reporting
	// reached across a cluster; nil: Hub.Publish.
	Route func(context.Context, hub.Message) (reached int, err error)
}

// refreshTimeout bounds one refresh's verification (a JWKS refetch).
const refreshTimeout = 5 * time.Second

// NewSession makes the session of one upgraded app connection. grant, if
// not nil, gives the session its own allow-lists (else the listener's) and
// its expiry: the session is closed with 4003 token expired at the
// grant's expiry plus leeway unless a refresh moves it.
func (p *App) NewSession(conn net.Conn, info *session.Info, grant *auth.Grant, limits *session.Limits, totals *session.Totals) *session.Session {
	c := &appConn{p: p, allowSub: p.Subscribe, allowPub: p.Publish}
	c.s = session.New(conn, info, limits, c, totals, p.Log)
	if grant != nil {
		c.allowSub, c.allowPub = grant.Subscribe, grant.Publish
		c.exp.arm(c.s, grant)
	}
	return c.s
}

// appConn is one app session's protocol state.
type appConn struct {
	p *App
	s *session.Session

	allowSub, allowPub []string // this session's allow-lists, fixed at NewSession
	exp                expiry
	subList
}

var (
	_ session.Handler = (*appConn)(nil)
	_ hub.Subscriber  = (*appConn)(nil)
)

// Deliver queues a message in the envelope, encoded once per fan-out.
func (c *appConn) Deliver(d *hub.Delivery) bool { return c.s.Send(d.Frame(kindApp, appFrame)) }

func appFrame(m hub.Message) []byte { return MessageFrame(m.Channel, m.Data, m.Binary) }

func (c *appConn) authExpiry() *expiry { return &c.exp }

func (c *appConn) OnClose(s *session.Session) {
	c.exp.stop()
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
		code, err := c.p.subscribe(c, &c.subList, c.allowSub, req.Channel)
		return -1, code, err
	case TypeUnsubscribe:
		code, err := c.p.unsubscribe(c, &c.subList, req.Channel)
		return -1, code, err
	case TypePublish:
		data, binary, err := req.Payload()
		if err != nil {
			return -1, CodeBadRequest, err
		}
		return c.p.publish(c.allowPub, req.Channel, data, binary)
	case TypeRefresh:
		code, err := c.refresh(req.Token)
		return -1, code, err
	}
	return -1, CodeBadRequest, fmt.Errorf("unknown type %q", req.Type)
}

// subList is one client's subscribed patterns, in order, bounded by
// MaxSubscriptions; both app protocols (/ws and Socket.IO) keep one.
type subList struct {
	mu   sync.Mutex // guards subs
	subs []string   // patterns subscribed in the hub, in order
}

// subscribe checks pattern against the session's allow-list and bound and
// subscribes sub: the one rule of /ws and Socket.IO.
func (p *App) subscribe(sub hub.Subscriber, l *subList, allow []string, pattern string) (code string, err error) {
	if err := hub.ValidPattern(pattern); err != nil {
		return CodeBadRequest, err
	}
	if !slices.ContainsFunc(allow, func(a string) bool { return hub.Covers(a, pattern) }) {
		return CodeForbidden, fmt.Errorf("subscribe to %s not allowed", pattern)
	}
	l.mu.Lock()
	n, dup := len(l.subs), slices.Contains(l.subs, pattern)
	l.mu.Unlock()
	if !dup && n >= MaxSubscriptions {
		return CodeLimit, fmt.Errorf("at most %d subscriptions per session", MaxSubscriptions)
	}
	if err := p.Hub.Subscribe(sub, pattern); err != nil {
		return CodeInternal, err
	}
	if !dup {
		l.mu.Lock()
		l.subs = append(l.subs, pattern)
		l.mu.Unlock()
	}
	return "", nil
}

// unsubscribe removes one of the session's patterns.
func (p *App) unsubscribe(sub hub.Subscriber, l *subList, pattern string) (code string, err error) {
	if !l.remove(pattern) {
		return CodeNotFound, fmt.Errorf("not subscribed to %s", pattern)
	}
	p.Hub.Unsubscribe(sub, pattern)
	return "", nil
}

// publish checks channel against the session's allow-list and publishes.
func (p *App) publish(allow []string, channel string, data []byte, binary bool) (reached int, code string, err error) {
	if err := hub.ValidChannel(channel); err != nil {
		return -1, CodeBadRequest, err
	}
	if !slices.ContainsFunc(allow, func(a string) bool { return hub.Match(a, channel) }) {
		return -1, CodeForbidden, fmt.Errorf("publish to %s not allowed", channel)
	}
	publish := p.Hub.Publish
	if p.Route != nil {
		publish = p.Route
	}
	n, err := publish(context.Background(), hub.Message{Channel: channel, Binary: binary, Data: data})
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, cluster.ErrLinkDown) { // degraded: local reached
		return n, CodeInternal, fmt.Errorf("publish to %s: %w", channel, err)
	}
	return n, "", nil
}

// refresh moves the session's expiry to that of a new token for the same
// identity; on any error the old expiry stays.
func (c *appConn) refresh(token string) (code string, err error) {
	if c.p.Refresh == nil || !c.exp.expires() {
		return CodeUnauthenticated, errors.New("refresh: this session holds no token that expires (app.auth.mode jwt)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), refreshTimeout)
	defer cancel()
	exp, err := c.p.Refresh(ctx, c.s.Info().Identity, token)
	if err != nil {
		return CodeUnauthenticated, fmt.Errorf("refresh: %w", err)
	}
	if !c.exp.extend(exp) {
		return CodeUnauthenticated, errors.New("refresh: the session's token has expired already")
	}
	return "", nil
}

func (l *subList) remove(pattern string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	i := slices.Index(l.subs, pattern)
	if i < 0 {
		return false
	}
	l.subs = slices.Delete(l.subs, i, i+1)
	return true
}

// Subscriptions lists the session's patterns, for the admin API.
func (l *subList) Subscriptions() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.subs)
}

// Subscriptions lists what session e receives (its patterns, or a
// device's down channel), whatever its protocol.
func Subscriptions(e session.Entry) []string {
	type lister interface{ Subscriptions() []string }
	if s, ok := e.(*session.Session); ok {
		if l, ok := s.Handler().(lister); ok {
			return l.Subscriptions()
		}
		return nil
	}
	if l, ok := e.(lister); ok {
		return l.Subscriptions()
	}
	return nil
}
