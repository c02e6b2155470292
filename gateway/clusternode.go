package gateway

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wssgate/wssgate/gateway/cluster"
	"github.com/wssgate/wssgate/gateway/hub"
	"github.com/wssgate/wssgate/gateway/protocol"
	"github.com/wssgate/wssgate/gateway/session"
	"github.com/wssgate/wssgate/internal/logsample"
)

// rpcConcurrency bounds the cluster requests one node serves at once. Acknowledged publishes
// are requests (see route), so it is well above the cluster package's default of 32.
const rpcConcurrency = 512

// clusterNode is what a node adds when it joins a cluster (cfg.Cluster.Enabled()); nil alone.
type clusterNode struct {
	b      *cluster.Broker
	claims claims
	sample *logsample.Sampler // logs of failed cluster publishes, sampled by node
	// undelivered counts acknowledged publishes that a node refused or failed (busy, error);
	// reported with the broker's dropped messages.
	undelivered atomic.Uint64

	ctx    context.Context    // ends at closeCluster: background work on other nodes' behalf
	cancel context.CancelFunc //
	wg     sync.WaitGroup     // that background work
	events func()             // stops queueing this node's session events
	eventq chan session.Event // for sendEvents
}

// goAsync runs f on a goroutine the cluster node owns; closeCluster cancels ctx and waits.
func (c *clusterNode) goAsync(f func(ctx context.Context)) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		f(c.ctx)
	}()
}

// newHub makes the hub: with a cluster, over a NATS broker (which starts degraded when NATS is
// away, and keeps trying); alone, over the in-memory broker.
func (g *Gateway) newHub() error {
	g.handlers = map[string]rpcHandler{}
	g.registerOps()
	if !g.cfg.Cluster.Enabled() {
		g.hub = hub.New(g.cfg.Node, nil)
		return nil
	}
	opts := cluster.FromConfig(g.cfg.Node, g.cfg.Cluster)
	opts.Addrs = cluster.Addrs{Admin: g.cfg.Admin.Address, App: g.cfg.App.Address, Device: g.cfg.Device.Address}
	opts.RPCConcurrency = rpcConcurrency
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := cluster.New(ctx, opts, g.log)
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	g.cl = &clusterNode{b: b, sample: logsample.New(g.log.Handler(), logsample.Options{})}
	g.cl.claims.init()
	g.cl.ctx, g.cl.cancel = context.WithCancel(context.Background())
	for name, h := range g.handlers {
		b.Handle(name, h)
	}
	b.OnIdentity(g.onIdentity)
	g.cl.eventq = make(chan session.Event, eventQueue)
	g.cl.events = g.registry.Watch(g.queueEvent)
	g.cl.goAsync(g.sendEvents)
	g.hub = hub.New(g.cfg.Node, b)
	return nil
}

// closeCluster closes the broker; it runs after the hub is closed.
func (g *Gateway) closeCluster() error {
	if g.cl == nil {
		return nil
	}
	g.cl.events()
	err := g.cl.b.Close() // waits for the requests being served: no goAsync after it
	g.cl.cancel()
	g.cl.wg.Wait()
	g.cl.sample.Close()
	if err != nil {
		return fmt.Errorf("close cluster broker: %w", err)
	}
	return nil
}

// Cluster returns the NATS broker, or nil when this node runs alone.
func (g *Gateway) Cluster() *cluster.Broker {
	if g.cl == nil {
		return nil
	}
	return g.cl.b
}

// Node returns this node's name.
func (g *Gateway) Node() string { return g.cfg.Node }

// linkDownOK drops an ErrLinkDown: with NATS away the node serves its own sessions
// (degraded mode), and the message was counted as dropped by the broker.
func linkDownOK(err error) error {
	if errors.Is(err, cluster.ErrLinkDown) {
		return nil
	}
	return err
}

// route publishes m and returns how many sessions of the cluster accepted it (the app's
// acknowledged publishes and the admin Publish). Alone, or for devices/ID/down with ID
// connected here (newest session wins, so it is nowhere else), it is Hub.Publish: local
// delivery, and NATS for the other nodes' subscribers. Otherwise it is one scatter-gather
// request: every node delivers locally and answers with its count. With NATS down, only the
// local count.
func (g *Gateway) route(ctx context.Context, m hub.Message) (int, error) {
	if g.cl == nil {
		return g.hub.Publish(ctx, m)
	}
	if id, ok := protocol.DownTarget(m.Channel); ok {
		if _, local := g.registry.Device(id); local {
			n, err := g.hub.Publish(ctx, m)
			return n, linkDownOK(err)
		}
	}
	if err := hub.ValidChannel(m.Channel); err != nil {
		return 0, err
	}
	m.Origin = g.cfg.Node
	replies, errs, missing := g.cl.b.CallAll(ctx, methodPublish, encodeMessage(m))
	n := 0
	for _, r := range replies {
		k, _ := strconv.Atoi(string(r))
		n += k
	}
	for node, err := range errs {
		g.cl.undelivered.Add(1)
		if g.cl.sample.Allow("publish:" + node) {
			g.log.Warn("cluster publish not delivered on a node", "node", node, "channel", m.Channel, "err", err)
		}
	}
	if len(missing) > 0 && g.cl.sample.Allow("publish:missing") {
		g.log.Warn("cluster publish: nodes did not answer in time", "missing", missing, "channel", m.Channel)
	}
	if err := ctx.Err(); err != nil && n == 0 {
		return 0, fmt.Errorf("publish to %s: %w", m.Channel, err)
	}
	return n, nil
}

// servePublish is the publish request of route: deliver locally, answer the count.
func (g *Gateway) servePublish(_ context.Context, req []byte) ([]byte, error) {
	m, err := decodeMessage(req)
	if err != nil {
		return nil, err
	}
	n, err := g.hub.DeliverLocal(m)
	if err != nil {
		return nil, err
	}
	return strconv.AppendInt(nil, int64(n), 10), nil
}

// encodeMessage writes m as: flags (1: binary), origin length, origin, channel length (2 bytes),
// channel, data. Data is not copied through any other encoding (NATS carries bytes).
func encodeMessage(m hub.Message) []byte {
	b := make([]byte, 0, 4+len(m.Origin)+len(m.Channel)+len(m.Data))
	var flags byte
	if m.Binary {
		flags = 1
	}
	b = append(b, flags, byte(len(m.Origin)))
	b = append(b, m.Origin[:min(len(m.Origin), 255)]...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(m.Channel)))
	b = append(b, m.Channel...)
	return append(b, m.Data...)
}

var errBadMessage = errors.New("gateway: malformed cluster message")

// decodeMessage reads what encodeMessage wrote; Data aliases b.
func decodeMessage(b []byte) (hub.Message, error) {
	if len(b) < 2 {
		return hub.Message{}, errBadMessage
	}
	m := hub.Message{Binary: b[0]&1 != 0}
	ol := int(b[1])
	b = b[2:]
	if len(b) < ol+2 {
		return hub.Message{}, errBadMessage
	}
	m.Origin, b = string(b[:ol]), b[ol:]
	cl := int(binary.BigEndian.Uint16(b))
	b = b[2:]
	if len(b) < cl {
		return hub.Message{}, errBadMessage
	}
	m.Channel, m.Data = string(b[:cl]), b[cl:]
	return m, nil
}

// Takeover across nodes: every device session that registers here is announced; a node that
// holds an older session of that identity closes it with 4001. Announcements that arrive before
// the local session registers are remembered a while (claims), so that the later-registered
// but older session is closed too: exactly one survives.

// claimTTL is how long a remote announcement is remembered; maxClaims bounds the memory.
const (
	claimTTL  = 30 * time.Second
	maxClaims = 1 << 16
)

type claim struct {
	node string
	at   time.Time // connect time of the remote session
	seen time.Time // when it was announced here
}

// claims are the latest remote announcements by identity.
type claims struct {
	mu sync.Mutex // guards m
	m  map[string]claim
}

func (c *claims) init() { c.m = make(map[string]claim) }

// record keeps a, unless a newer claim of the identity is known.
func (c *claims) record(identity string, a claim) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[identity]; ok && !cluster.Newer(a.node, a.at, old.node, old.at) {
		return
	}
	if len(c.m) >= maxClaims {
		for id, x := range c.m {
			if a.seen.Sub(x.seen) > claimTTL {
				delete(c.m, id)
			}
		}
		if len(c.m) >= maxClaims {
			clear(c.m) // a flood of identities: forget, at worst two sessions live until the next connect
		}
	}
	c.m[identity] = a
}

// get returns the claim of identity if it is recent.
func (c *claims) get(identity string, now time.Time) (claim, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	x, ok := c.m[identity]
	if ok && now.Sub(x.seen) > claimTTL {
		delete(c.m, identity)
		return claim{}, false
	}
	return x, ok
}

// claimIdentity runs when device session s registered here: it is closed at once when a newer
// session of its identity is known on another node, else announced to the others.
func (g *Gateway) claimIdentity(s *session.Session) {
	info := s.Info()
	if g.cl == nil || info.Role != session.RoleDevice {
		return
	}
	if c, ok := g.cl.claims.get(info.Identity, time.Now()); ok && cluster.Newer(c.node, c.at, g.cfg.Node, info.ConnectedAt) {
		if g.sample.Allow(sampleReplaced) {
			g.log.Info("device session replaced by a newer one on another node", "identity", info.Identity, "session", info.ID, "node", c.node)
		}
		s.Close(session.CodeReplaced, "replaced")
		return
	}
	if err := g.cl.b.AnnounceIdentity(info.Identity, info.ConnectedAt, info.ID); err != nil {
		g.log.Debug("identity not announced", "identity", info.Identity, "err", err)
	}
}

// onIdentity handles another node's announcement: our older session of that identity, if any,
// is closed with 4001 "replaced" (cluster.Newer: later connect wins, ties to the higher node).
func (g *Gateway) onIdentity(node, identity, sessionID string, connectedAt time.Time) {
	g.cl.claims.record(identity, claim{node: node, at: connectedAt, seen: time.Now()})
	s, ok := g.registry.Device(identity)
	if !ok || !cluster.Newer(node, connectedAt, g.cfg.Node, s.Info().ConnectedAt) {
		return
	}
	if g.sample.Allow(sampleReplaced) {
		g.log.Info("device session replaced by a newer one on another node", "identity", identity,
			"old", s.ID(), "node", node, "new", sessionID)
	}
	s.Close(session.CodeReplaced, "replaced")
}
