package protocol

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"

	"github.com/wssgate/wssgate/gateway/auth"
	"github.com/wssgate/wssgate/gateway/hub"
	"github.com/wssgate/wssgate/gateway/protocol/socketio"
	"github.com/wssgate/wssgate/gateway/session"
)

// Socket.IO events app clients emit; deliveries arrive as EventMessage.
const (
	EventSubscribe   = "subscribe"   // emit('subscribe', pattern, ack)
	EventUnsubscribe = "unsubscribe" // emit('unsubscribe', pattern, ack)
	EventPublish     = "publish"     // emit('publish', channel, data, ack)
	EventMessage     = "message"     // on('message', {channel, data})
)

// SocketIO maps Socket.IO events onto channels with the allow-lists,
// limits and error codes of App (one set of checks for /ws and Socket.IO).
// It is the socketio.Handler of the gateway's Socket.IO server; each
// connected socket becomes a SocketIOClient, a session.Entry.
type SocketIO struct {
	App *App
	// Info describes the client of a handshake request (listener, TLS,
	// origin); Identity and Transport are filled in here.
	Info func(r *http.Request) session.Info
	// Connected runs once a socket is connected; Ended once it closed and
	// left the hub.
	Connected, Ended func(*SocketIOClient)

	clients sync.Map // *socketio.Socket → *SocketIOClient
}

var _ socketio.Handler = (*SocketIO)(nil)

// SocketIOClient is one connected Socket.IO client: a registry entry and
// the hub.Subscriber its deliveries go to, whatever its transport.
type SocketIOClient struct {
	p    *SocketIO
	sock *socketio.Socket
	info session.Info
	subList
	allowSub, allowPub []string    // this client's allow-lists (its grant's, else the listener's)
	expire             *time.Timer // closes the client with 4003 when its credentials lapse; nil: never

	msgsIn, bytesIn, msgsOut, bytesOut, drops atomic.Uint64
	lastActivity                              atomic.Int64 // unix nanoseconds

	mu     sync.Mutex // guards code and reason
	code   ws.StatusCode
	reason string
}

var (
	_ session.Entry  = (*SocketIOClient)(nil)
	_ hub.Subscriber = (*SocketIOClient)(nil)
)

// OnConnect makes the socket a client.
func (p *SocketIO) OnConnect(s *socketio.Socket) {
	info := p.Info(s.Request())
	info.ID, info.Identity, info.ConnectedAt = session.NewID(), s.Identity(), time.Now()
	c := &SocketIOClient{p: p, sock: s, info: info, allowSub: p.App.Subscribe, allowPub: p.App.Publish}
	if g, ok := s.Grant().(*auth.Grant); ok {
		c.info.AuthMethod = string(g.Method)
		c.allowSub, c.allowPub = g.Subscribe, g.Publish
		if at := g.CloseAt(); !at.IsZero() {
			// No refresh event on Socket.IO: the client reconnects with a
			// new token (its auth option may be a function).
			c.expire = time.AfterFunc(time.Until(at), func() { c.Close(session.CodeTokenExpired, "token expired") })
		}
	}
	c.lastActivity.Store(info.ConnectedAt.UnixNano())
	p.clients.Store(s, c)
	p.Connected(c)
}

// OnClose ends the client: out of the hub, then Ended.
func (p *SocketIO) OnClose(s *socketio.Socket, reason string) {
	v, ok := p.clients.LoadAndDelete(s)
	if !ok {
		return
	}
	c := v.(*SocketIOClient)
	if c.expire != nil {
		c.expire.Stop()
	}
	c.setStatus(ws.StatusNormalClosure, reason)
	p.App.Hub.UnsubscribeAll(c)
	p.Ended(c)
}

// OnEvent runs one request and answers its ack, if the client asked for
// one: {} or {reached: N} on success, {error: {code, message}} otherwise.
func (p *SocketIO) OnEvent(s *socketio.Socket, name string, args []json.RawMessage, atts [][]byte, ack func(args ...any)) {
	v, ok := p.clients.Load(s)
	if !ok {
		return
	}
	c := v.(*SocketIOClient)
	c.touch(atts)
	reached, code, err := c.handle(name, args, atts)
	if ack == nil {
		return
	}
	switch {
	case err != nil:
		ack(ackError{Error: ackErrorBody{Code: code, Message: err.Error()}})
	case reached >= 0:
		ack(ackReached{Reached: reached})
	default:
		ack(struct{}{})
	}
}

type (
	ackReached struct {
		Reached int `json:"reached"`
	}
	ackError struct {
		Error ackErrorBody `json:"error"`
	}
	ackErrorBody struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
)

// handle runs one event; reached is -1 unless it is a publish.
func (c *SocketIOClient) handle(name string, args []json.RawMessage, atts [][]byte) (reached int, code string, err error) {
	app := c.p.App
	switch name {
	case EventSubscribe, EventUnsubscribe:
		pattern, err := stringArg(args, 0, "pattern")
		if err != nil {
			return -1, CodeBadRequest, fmt.Errorf("%s: %w", name, err)
		}
		if name == EventSubscribe {
			code, err = app.subscribe(c, &c.subList, c.allowSub, pattern)
		} else {
			code, err = app.unsubscribe(c, &c.subList, pattern)
		}
		return -1, code, err
	case EventPublish:
		channel, err := stringArg(args, 0, "channel")
		if err != nil {
			return -1, CodeBadRequest, fmt.Errorf("publish: %w", err)
		}
		data, binary, err := eventPayload(args, atts)
		if err != nil {
			return -1, CodeBadRequest, fmt.Errorf("publish: %w", err)
		}
		return app.publish(c.allowPub, channel, data, binary)
	}
	return -1, CodeBadRequest, fmt.Errorf("unknown event %q: emit subscribe, unsubscribe or publish", name)
}

// stringArg is args[i], which must be a JSON string.
func stringArg(args []json.RawMessage, i int, what string) (string, error) {
	var v string
	if i >= len(args) || len(args[i]) == 0 || args[i][0] != '"' || json.Unmarshal(args[i], &v) != nil {
		return "", fmt.Errorf("want the %s as argument %d, a string", what, i+1)
	}
	return v, nil
}

// eventPayload is a publish's data (args[1]), as /ws reads it: a binary
// attachment (Buffer, ArrayBuffer) as bytes, a string as its text, any
// other JSON value as its JSON text.
func eventPayload(args []json.RawMessage, atts [][]byte) (data []byte, binary bool, err error) {
	if len(args) < 2 {
		return nil, false, fmt.Errorf("want the data as argument 2")
	}
	arg := args[1]
	if n, ok := socketio.Placeholder(arg); ok {
		if n >= len(atts) {
			return nil, false, fmt.Errorf("binary attachment %d missing", n)
		}
		return atts[n], true, nil
	}
	if arg[0] == '"' {
		var s string
		if err := json.Unmarshal(arg, &s); err != nil {
			return nil, false, fmt.Errorf("data: %v", err)
		}
		return []byte(s), false, nil
	}
	return []byte(arg), false, nil
}

// Deliver sends the "message" event, compiled once per fan-out.
func (c *SocketIOClient) Deliver(d *hub.Delivery) bool {
	f := d.Frame(kindSocketIO, socketIOFrames)
	if !c.sock.SendCompiled(f) {
		c.drops.Add(1)
		return false
	}
	c.msgsOut.Add(1)
	c.bytesOut.Add(uint64(len(f)))
	return true
}

func socketIOFrames(m hub.Message) []byte {
	return socketio.CompileMessageEvent(m.Channel, m.Data, m.Binary)
}

// touch counts one inbound event.
func (c *SocketIOClient) touch(atts [][]byte) {
	c.msgsIn.Add(1)
	for _, a := range atts {
		c.bytesIn.Add(uint64(len(a)))
	}
	c.lastActivity.Store(time.Now().UnixNano())
}

// Info describes the client; Transport is the current one.
func (c *SocketIOClient) Info() session.Info {
	i := c.info
	i.Transport = c.sock.Transport()
	return i
}

// Snapshot counts events in and deliveries out (bytes: attachments in,
// compiled frames out); the WebSocket transport's own session counts the
// wire in the listener's totals.
func (c *SocketIOClient) Snapshot() session.Snapshot {
	return session.Snapshot{
		MsgsIn: c.msgsIn.Load(), BytesIn: c.bytesIn.Load(), MsgsOut: c.msgsOut.Load(), BytesOut: c.bytesOut.Load(),
		Drops: c.drops.Load(), LastActivity: time.Unix(0, c.lastActivity.Load()),
	}
}

// Close closes the client's transport with code and reason (polling
// clients get a close packet); never a Socket.IO DISCONNECT, so the client
// reconnects by itself.
func (c *SocketIOClient) Close(code ws.StatusCode, reason string) {
	c.setStatus(code, reason)
	c.sock.CloseWith(code, reason)
}

// CloseStatus is the first close code and reason, zero before.
func (c *SocketIOClient) CloseStatus() (ws.StatusCode, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.code, c.reason
}

func (c *SocketIOClient) setStatus(code ws.StatusCode, reason string) {
	c.mu.Lock()
	if c.code == 0 {
		c.code, c.reason = code, reason
	}
	c.mu.Unlock()
}
