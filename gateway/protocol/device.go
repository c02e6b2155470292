package protocol

import (
	"context"
	"errors"
	"log/slog"
	"net"

	"github.com/gobwas/ws"

	"github.com/wssgate/wssgate/gateway/auth"
	"github.com/wssgate/wssgate/gateway/cluster"
	"github.com/wssgate/wssgate/gateway/hub"
	"github.com/wssgate/wssgate/gateway/session"
	"github.com/wssgate/wssgate/gateway/wire"
)

// Device is the raw-frame protocol of the device listener: every frame a
// device sends is published as is to DeviceUp(identity); every message on
// DeviceDown(identity) is written to it as one frame (text stays text,
// binary stays binary).
type Device struct {
	Hub *hub.Hub
	Log *slog.Logger
	// Ended runs once per session, after it closed and left the hub.
	Ended func(*session.Session)
}

// NewSession makes the session of one upgraded device connection. It
// receives devices/ID/down through the hub's direct lookup (see
// DeviceSubscriber), not the subscription index: no index entry per device.
// A grant that expires (a device JWT) closes the session with 4003 at its
// expiry plus leeway; grant may be nil.
func (p *Device) NewSession(conn net.Conn, info *session.Info, grant *auth.Grant, limits *session.Limits, totals *session.Totals) *session.Session {
	c := &deviceConn{p: p, up: DeviceUp(info.Identity)} // computed once, not per frame
	c.s = session.New(conn, info, limits, c, totals, p.Log)
	if grant != nil {
		c.exp.arm(c.s, grant)
	}
	return c.s
}

// DeviceSubscriber returns the hub subscriber of a device session, or nil
// if s is not one.
func DeviceSubscriber(s *session.Session) hub.Subscriber {
	if c, ok := s.Handler().(*deviceConn); ok {
		return c
	}
	return nil
}

// deviceConn is one device session's protocol state.
type deviceConn struct {
	p   *Device
	s   *session.Session
	up  string // DeviceUp(identity)
	exp expiry
}

var (
	_ session.Handler = (*deviceConn)(nil)
	_ hub.Subscriber  = (*deviceConn)(nil)
)

func (c *deviceConn) OnMessage(s *session.Session, op ws.OpCode, data []byte) {
	m := hub.Message{Channel: c.up, Binary: op == ws.OpBinary, Data: data}
	if _, err := c.p.Hub.Publish(context.Background(), m); err != nil && !errors.Is(err, cluster.ErrLinkDown) {
		c.p.Log.Warn("device publish failed", "session", s.ID(), "channel", m.Channel, "err", err)
	}
}

func (c *deviceConn) authExpiry() *expiry { return &c.exp }

func (c *deviceConn) OnClose(s *session.Session) {
	c.exp.stop()
	c.p.Hub.UnsubscribeAll(c)
	c.p.Ended(s)
}

// Deliver writes a devices/ID/down message to the device as one frame.
func (c *deviceConn) Deliver(d *hub.Delivery) bool { return c.s.Send(d.Frame(kindDevice, deviceFrame)) }

// Subscriptions lists what the device receives, for the admin API.
func (c *deviceConn) Subscriptions() []string {
	return []string{DeviceDown(c.s.Info().Identity)}
}

func deviceFrame(m hub.Message) []byte {
	if m.Binary {
		return wire.Frame(ws.OpBinary, m.Data)
	}
	return wire.Frame(ws.OpText, m.Data)
}
