package cluster

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// Member is one node of the cluster as this node sees it.
type Member struct {
	Node     string
	Started  time.Time // when that node's Broker started (its clock)
	LastSeen time.Time // when its last heartbeat arrived (this node's clock)
	// Up is false for a node not heard from for 3 heartbeat intervals: it is reported (missing),
	// not hidden, until it is forgotten ForgetAfter later. This node is always Up.
	Up    bool
	Self  bool  // this node
	Addrs Addrs // addresses it advertises
}

// heartbeat is the payload published on <name>._sys.hb.
type heartbeat struct {
	Node    string    `json:"node"`
	Started time.Time `json:"started"`
	Addrs   Addrs     `json:"addrs"`
	Leaving bool      `json:"leaving,omitempty"` // sent by Close: forget this node now
}

// members tracks the other nodes from their heartbeats.
type members struct {
	self    string
	started time.Time

	mu      sync.Mutex         // guards others and dupWarn
	others  map[string]*Member // by node name; never holds self
	dupWarn time.Time          // last warning about another node using our name
}

func (ms *members) init(self string, started time.Time) {
	ms.self, ms.started = self, started
	ms.others = make(map[string]*Member)
}

// Members returns this node first, then the others by name, with Up computed now.
func (b *Broker) Members() []Member {
	now := time.Now()
	ms := &b.members
	out := []Member{{Node: ms.self, Started: ms.started, LastSeen: now, Up: true, Self: true, Addrs: b.opts.Addrs}}
	ms.mu.Lock()
	for _, m := range ms.others {
		c := *m
		c.Up = now.Sub(m.LastSeen) <= missedBeats*b.opts.HeartbeatInterval
		out = append(out, c)
	}
	ms.mu.Unlock()
	slices.SortFunc(out[1:], func(x, y Member) int { return strings.Compare(x.Node, y.Node) })
	return out
}

// heartbeatLoop publishes a heartbeat every interval (and early when kicked) and forgets silent
// members. It runs until Close cancels b.ctx.
func (b *Broker) heartbeatLoop() {
	defer b.wg.Done()
	t := time.NewTicker(b.opts.HeartbeatInterval)
	defer t.Stop()
	b.beat(false)
	for {
		select {
		case <-b.ctx.Done():
			return
		case <-t.C:
		case <-b.kick:
		}
		b.beat(false)
		b.forget(time.Now())
	}
}

// kickHeartbeat asks the loop for a heartbeat now; it never blocks.
func (b *Broker) kickHeartbeat() {
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

// beat publishes one heartbeat when the link is up; a missed one is harmless.
func (b *Broker) beat(leaving bool) {
	if !b.nc.IsConnected() {
		return
	}
	data, err := json.Marshal(heartbeat{Node: b.opts.Node, Started: b.members.started, Addrs: b.opts.Addrs, Leaving: leaving})
	if err != nil {
		b.log.Error("encode heartbeat", "err", err)
		return
	}
	if err := b.nc.Publish(b.sysSubject("hb"), data); err != nil {
		b.log.Debug("publish heartbeat", "err", err)
	}
}

// leave tells the others that this node is going away (best effort, bounded).
func (b *Broker) leave() {
	b.beat(true)
	if b.nc.IsConnected() {
		_ = b.nc.FlushTimeout(time.Second)
	}
}

// forget drops members silent for ForgetAfter.
func (b *Broker) forget(now time.Time) {
	ms := &b.members
	ms.mu.Lock()
	defer ms.mu.Unlock()
	for name, m := range ms.others {
		if now.Sub(m.LastSeen) > b.opts.ForgetAfter {
			delete(ms.others, name)
			b.log.Info("forgot cluster node", "node", name, "last_seen", m.LastSeen)
		}
	}
}

// onHeartbeat records a heartbeat from another node (its own are ignored).
func (b *Broker) onHeartbeat(msg *nats.Msg) {
	var hb heartbeat
	if err := json.Unmarshal(msg.Data, &hb); err != nil || hb.Node == "" {
		b.log.Debug("dropping bad heartbeat", "err", err)
		return
	}
	now := time.Now()
	ms := &b.members
	if hb.Node == ms.self {
		if !hb.Started.Equal(ms.started) {
			b.warnDuplicate(now, hb)
		}
		return
	}
	ms.mu.Lock()
	m, known := ms.others[hb.Node]
	switch {
	case hb.Leaving:
		delete(ms.others, hb.Node)
	case !known:
		ms.others[hb.Node] = &Member{Node: hb.Node, Started: hb.Started, LastSeen: now, Addrs: hb.Addrs}
	default:
		m.Started, m.LastSeen, m.Addrs = hb.Started, now, hb.Addrs
	}
	ms.mu.Unlock()
	switch {
	case hb.Leaving:
		b.log.Info("cluster node left", "node", hb.Node)
	case !known:
		b.log.Info("cluster node joined", "node", hb.Node, "started", hb.Started)
		b.kickHeartbeat() // let the newcomer learn about this node without waiting an interval
	}
}

// warnDuplicate logs, at most once a minute, that another process uses this node's name.
func (b *Broker) warnDuplicate(now time.Time, hb heartbeat) {
	ms := &b.members
	ms.mu.Lock()
	warn := now.Sub(ms.dupWarn) > time.Minute
	if warn {
		ms.dupWarn = now
	}
	ms.mu.Unlock()
	if warn {
		b.log.Warn("another node uses this node's name: set a unique node in each configuration",
			"node", hb.Node, "its_start", hb.Started, "our_start", ms.started)
	}
}

// sysSubject is <name>._sys.<kind>.
func (b *Broker) sysSubject(kind string) string { return b.opts.Name + "._sys." + kind }

// subscribeSystem subscribes to heartbeats, identity announcements and RPC requests.
func (b *Broker) subscribeSystem() error {
	for _, s := range []struct {
		subject string
		h       nats.MsgHandler
	}{
		{b.sysSubject("hb"), b.onHeartbeat},
		{b.sysSubject("id"), b.onIdentity},
		{b.rpcSubject(token(b.opts.Node), "*"), func(m *nats.Msg) { b.serve(m, false) }},
		{b.rpcSubject("all", "*"), func(m *nats.Msg) { b.serve(m, true) }},
	} {
		ns, err := b.nc.Subscribe(s.subject, s.h)
		if err != nil {
			return fmt.Errorf("subscribe to %s: %w", s.subject, err)
		}
		_ = ns.SetPendingLimits(pendingMsgs, pendingBytes)
	}
	return nil
}
