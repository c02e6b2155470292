package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wssgate/wssgate/gateway/hub"
)

// Sentinel errors of the Broker.
var (
	// ErrLinkDown is returned (wrapped) when NATS is unreachable: the message was not sent and
	// was counted as dropped. Local delivery by the Hub is not affected.
	ErrLinkDown = errors.New("cluster: NATS link down")
)

// NATS header keys carrying a message's metadata; the payload is the message data, unchanged.
const (
	hdrOrigin = "Wssgate-Origin" // node that published (messages and RPC requests)
	hdrBinary = "Wssgate-Binary" // "1" for a binary message; absent for text
	hdrNode   = "Wssgate-Node"   // node that answered an RPC request
	hdrError  = "Wssgate-Error"  // error text of an RPC reply
)

// Pending limits of each subscription: past them nats.go drops incoming messages for that
// subscription (a slow handler) and counts them (Stats.SlowDropped).
const (
	pendingMsgs  = 65536
	pendingBytes = 64 << 20
)

// Broker is a hub.Broker over NATS. See the package documentation for its guarantees and
// concurrency contract.
type Broker struct {
	opts Options
	log  *slog.Logger
	nc   *nats.Conn

	hdrText, hdrBin nats.Header // shared, read-only headers for messages of this node

	ctx    context.Context    // lifetime of the broker's goroutines; cancelled by Close
	cancel context.CancelFunc //
	kick   chan struct{}      // asks the heartbeat loop for an early heartbeat

	lifeMu sync.Mutex     // guards closed transitions with wg.Add (no Add after Close's Wait)
	closed atomic.Bool    //
	wg     sync.WaitGroup // heartbeat loop and RPC handler goroutines

	in, out, dropped atomic.Uint64

	subsMu sync.Mutex                      // guards subs
	subs   map[*nats.Subscription]struct{} // channel subscriptions, for Stats.SlowDropped

	members  members
	rpc      rpcServer
	identity atomic.Pointer[IdentityFunc]
}

var _ hub.Broker = (*Broker)(nil)

// New connects to NATS and returns a Broker. When no server answers, New does not fail: the
// Broker starts degraded (publishes fail with ErrLinkDown) and keeps connecting in the
// background, forever, with backoff. New fails only for invalid options or when ctx ends.
// A nil log uses slog.Default(). Close releases the Broker.
func New(ctx context.Context, opts Options, log *slog.Logger) (*Broker, error) {
	opts.applyDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	b := &Broker{
		opts:    opts,
		log:     log.With("component", "cluster", "cluster", opts.Name),
		hdrText: nats.Header{hdrOrigin: {opts.Node}},
		hdrBin:  nats.Header{hdrOrigin: {opts.Node}, hdrBinary: {"1"}},
		kick:    make(chan struct{}, 1),
		subs:    make(map[*nats.Subscription]struct{}),
	}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	b.members.init(opts.Node, time.Now())
	b.rpc.init(opts.RPCConcurrency)
	nopts, err := opts.natsOptions()
	if err != nil {
		b.cancel()
		return nil, err
	}
	nopts = append(nopts, b.handlers()...)
	nc, err := nats.Connect(strings.Join(opts.URLs, ","), nopts...)
	if err != nil {
		b.cancel()
		return nil, fmt.Errorf("connect to NATS: %w", err)
	}
	b.nc = nc
	if !nc.IsConnected() {
		b.log.Warn("NATS unreachable: starting degraded, retrying in the background", "urls", b.redactedURLs())
	}
	if err := b.subscribeSystem(); err != nil {
		b.cancel()
		nc.Close()
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		b.cancel()
		nc.Close()
		return nil, fmt.Errorf("start cluster broker: %w", err)
	}
	b.wg.Add(1)
	go b.heartbeatLoop()
	return b, nil
}

// handlers returns the nats.go connection callbacks: logs and an early heartbeat on reconnect.
func (b *Broker) handlers() []nats.Option {
	return []nats.Option{
		nats.NoCallbacksAfterClientClose(),
		nats.ConnectHandler(func(nc *nats.Conn) {
			b.log.Info("NATS connected", "server", nc.ConnectedUrlRedacted())
			b.kickHeartbeat()
		}),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			b.log.Warn("NATS link down: cross-node traffic is dropped until it is back", "err", err)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			b.log.Info("NATS reconnected", "server", nc.ConnectedUrlRedacted(), "reconnects", nc.Stats().Reconnects)
			b.kickHeartbeat()
		}),
		nats.ErrorHandler(func(_ *nats.Conn, s *nats.Subscription, err error) {
			subj := ""
			if s != nil {
				subj = s.Subject
			}
			b.log.Warn("NATS error", "subject", subj, "err", err)
		}),
	}
}

// Publish sends m to every node (this one included: its Hub ignores its own messages by
// Origin). It never waits for NATS: when the link is down it fails at once with ErrLinkDown
// and counts the message as dropped; nothing is buffered. Delivery is at most once.
func (b *Broker) Publish(ctx context.Context, m hub.Message) error {
	if b.closed.Load() {
		return hub.ErrClosed
	}
	if err := hub.ValidChannel(m.Channel); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("publish to %s: %w", m.Channel, err)
	}
	msg := &nats.Msg{Subject: ChannelSubject(b.opts.Name, m.Channel), Data: m.Data, Header: b.header(m)}
	if err := b.send(msg); err != nil {
		return fmt.Errorf("publish to %s: %w", m.Channel, err)
	}
	b.out.Add(1)
	return nil
}

// send publishes msg now or fails; a failure is counted as dropped.
func (b *Broker) send(msg *nats.Msg) error {
	if !b.nc.IsConnected() {
		b.dropped.Add(1)
		return ErrLinkDown
	}
	if err := b.nc.PublishMsg(msg); err != nil {
		b.dropped.Add(1)
		if errors.Is(err, nats.ErrReconnectBufExceeded) || errors.Is(err, nats.ErrConnectionClosed) {
			return fmt.Errorf("%w: %w", ErrLinkDown, err)
		}
		return err
	}
	return nil
}

// header returns the NATS headers of m.
func (b *Broker) header(m hub.Message) nats.Header {
	if m.Origin == b.opts.Node {
		if m.Binary {
			return b.hdrBin
		}
		return b.hdrText
	}
	h := nats.Header{hdrOrigin: {m.Origin}}
	if m.Binary {
		h[hdrBinary] = []string{"1"}
	}
	return h
}

// subscription is one Broker.Subscribe registration: one or two NATS subscriptions.
type subscription struct {
	b    *Broker
	subs []*nats.Subscription
	done chan struct{} // closed by Unsubscribe: stops the drain goroutine of two subjects
	once sync.Once
}

// chanCap bounds the messages queued for a two-subject subscription; past it nats.go drops
// (counted in Stats.SlowDropped).
const chanCap = 8192

// subscribe makes the NATS subscriptions. One subject: nats.go's own goroutine calls cb in
// order. Two subjects ("a" and "a.>"): both feed one channel, in the order the connection
// received them, drained by one goroutine owned by the Broker, so that a/# sees one publisher's
// messages in order.
func (s *subscription) subscribe(subjects []string, cb nats.MsgHandler) error {
	nc := s.b.nc
	if len(subjects) == 1 {
		ns, err := nc.Subscribe(subjects[0], cb)
		if err != nil {
			return err
		}
		_ = ns.SetPendingLimits(pendingMsgs, pendingBytes)
		s.subs = append(s.subs, ns)
		return nil
	}
	mch := make(chan *nats.Msg, chanCap)
	for _, subj := range subjects {
		ns, err := nc.ChanSubscribe(subj, mch)
		if err != nil {
			return err
		}
		s.subs = append(s.subs, ns)
	}
	if !s.b.goAsync(func() { s.drain(mch, cb) }) {
		return hub.ErrClosed
	}
	return nil
}

// drain calls cb for each message of mch until Unsubscribe or Close.
func (s *subscription) drain(mch <-chan *nats.Msg, cb nats.MsgHandler) {
	for {
		select {
		case m := <-mch:
			cb(m)
		case <-s.done:
			return
		case <-s.b.ctx.Done():
			return
		}
	}
}

// Subscribe calls h for each message on a channel matching pattern, from any node (this one
// included). It works while NATS is away: nats.go sends the subscription when the link is up
// and again after every reconnect. A message reaches h at most once per subscription.
func (b *Broker) Subscribe(ctx context.Context, pattern string, h func(hub.Message)) (hub.Subscription, error) {
	if b.closed.Load() {
		return nil, hub.ErrClosed
	}
	subjects, err := PatternSubjects(b.opts.Name, pattern)
	if err != nil {
		return nil, err
	}
	if h == nil {
		return nil, fmt.Errorf("subscribe to %s: nil handler", pattern)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("subscribe to %s: %w", pattern, err)
	}
	s := &subscription{b: b, done: make(chan struct{})}
	if err := s.subscribe(subjects, b.onMessage(h)); err != nil {
		_ = s.Unsubscribe()
		return nil, fmt.Errorf("subscribe to %s: %w", pattern, err)
	}
	b.subsMu.Lock()
	for _, ns := range s.subs {
		b.subs[ns] = struct{}{}
	}
	b.subsMu.Unlock()
	b.flush(ctx)
	return s, nil
}

// flush waits (bounded by ctx, or RPCTimeout) until the server has the subscriptions, when the
// link is up; when it is not, they are sent on connect.
func (b *Broker) flush(ctx context.Context) {
	if !b.nc.IsConnected() {
		return
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, b.opts.RPCTimeout)
		defer cancel()
	}
	if err := b.nc.FlushWithContext(ctx); err != nil {
		b.log.Debug("flush subscription", "err", err)
	}
}

// onMessage decodes NATS messages into hub messages for h. Subjects that are not channels (the
// cluster's own "_" subjects, which "#" and a leading "+" also match) are skipped.
func (b *Broker) onMessage(h func(hub.Message)) nats.MsgHandler {
	return func(msg *nats.Msg) {
		ch, err := SubjectChannel(b.opts.Name, msg.Subject)
		if err != nil {
			if !b.reserved(msg.Subject) {
				b.log.Debug("dropping message with a foreign subject", "subject", msg.Subject, "err", err)
			}
			return
		}
		if err := hub.ValidChannel(ch); err != nil {
			b.log.Debug("dropping message with an invalid channel", "err", err)
			return
		}
		b.in.Add(1)
		h(hub.Message{
			Channel: ch,
			Binary:  msg.Header.Get(hdrBinary) == "1",
			Data:    msg.Data,
			Origin:  msg.Header.Get(hdrOrigin),
		})
	}
}

// reserved reports whether subject is one of the cluster's own (<name>._…).
func (b *Broker) reserved(subject string) bool {
	rest, ok := strings.CutPrefix(subject, b.opts.Name+".")
	return ok && strings.HasPrefix(rest, "_")
}

// Unsubscribe stops the subscription; it is idempotent.
func (s *subscription) Unsubscribe() error {
	var errs []error
	s.once.Do(func() {
		close(s.done)
		s.b.subsMu.Lock()
		for _, ns := range s.subs {
			delete(s.b.subs, ns)
		}
		s.b.subsMu.Unlock()
		for _, ns := range s.subs {
			if err := ns.Unsubscribe(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) && !errors.Is(err, nats.ErrBadSubscription) {
				errs = append(errs, fmt.Errorf("unsubscribe %s: %w", ns.Subject, err))
			}
		}
	})
	return errors.Join(errs...)
}

// Stats are the Broker's counters and link state.
type Stats struct {
	LinkUp      bool   // connected to a NATS server now
	Server      string // URL of that server (credentials redacted); "" when down
	Reconnects  uint64 // reconnections since New
	In          uint64 // channel messages received (from every node, this one included)
	Out         uint64 // channel messages sent
	Dropped     uint64 // messages not sent because NATS was away (or refused them)
	SlowDropped uint64 // messages received but dropped by nats.go because a handler fell behind
	Nodes       int    // members known, this node included
	NodesUp     int    // members up, this node included
}

// Stats returns the current counters.
func (b *Broker) Stats() Stats {
	st := Stats{
		LinkUp:     b.nc.IsConnected(),
		Reconnects: b.nc.Stats().Reconnects,
		In:         b.in.Load(),
		Out:        b.out.Load(),
		Dropped:    b.dropped.Load(),
	}
	if st.LinkUp {
		st.Server = b.nc.ConnectedUrlRedacted()
	}
	b.subsMu.Lock()
	for ns := range b.subs {
		if n, err := ns.Dropped(); err == nil {
			st.SlowDropped += uint64(n)
		}
	}
	b.subsMu.Unlock()
	for _, m := range b.Members() {
		st.Nodes++
		if m.Up {
			st.NodesUp++
		}
	}
	return st
}

// Node returns this node's name.
func (b *Broker) Node() string { return b.opts.Node }

// Close announces that this node leaves, stops the heartbeat loop, waits for the RPC handlers
// in progress (their contexts are cancelled) and closes the NATS connection. Later calls return
// hub.ErrClosed. Close is idempotent.
func (b *Broker) Close() error {
	b.lifeMu.Lock()
	if b.closed.Swap(true) {
		b.lifeMu.Unlock()
		return nil
	}
	b.lifeMu.Unlock()
	b.cancel()
	b.wg.Wait()
	b.leave()
	b.nc.Close()
	return nil
}

// goAsync runs f on a goroutine owned by the Broker (waited for by Close); it returns false,
// without running f, once the Broker is closed.
func (b *Broker) goAsync(f func()) bool {
	b.lifeMu.Lock()
	defer b.lifeMu.Unlock()
	if b.closed.Load() {
		return false
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		f()
	}()
	return true
}

// maxPayload is the largest payload NATS accepts now (1 MiB, NATS's default, before the first
// connect).
func (b *Broker) maxPayload() int {
	if n := b.nc.MaxPayload(); n > 0 {
		return int(n)
	}
	return 1 << 20
}

func (b *Broker) redactedURLs() []string {
	out := make([]string, len(b.opts.URLs))
	for i, u := range b.opts.URLs {
		out[i] = redact(u)
	}
	return out
}

// withTimeout returns ctx bounded by the RPC timeout when it has no deadline.
func (b *Broker) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, b.opts.RPCTimeout)
}
