package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wssgate/wssgate/gateway/auth"
	"github.com/wssgate/wssgate/gateway/listener"
	"github.com/wssgate/wssgate/gateway/session"
)

// ListenerSnapshot is one reading of a listener's counters.
type ListenerSnapshot struct {
	Name, Address                      string
	Role                               session.Role
	Open, HandshakesOK                 uint64
	Failures                           map[string]uint64 // by reason, every reason (0 included)
	MsgsIn, MsgsOut, BytesIn, BytesOut uint64
	SlowCloses, Drops                  uint64
	CertRejects                        map[string]uint64 // refused client certificates by reason
	AuthFailures                       map[string]uint64 // refused credentials by sub-reason, every one (0 included)
	SessionCloses                      map[string]uint64 // sessions closed, by close code
}

func snapshotOf(l *listener.Counters) ListenerSnapshot {
	s := ListenerSnapshot{
		Name: l.Name, Address: l.Address, Role: l.Role,
		Open: uint64(max(l.Open.Load(), 0)), HandshakesOK: l.HandshakesOK.Load(), Failures: map[string]uint64{},
		MsgsIn: l.Sessions.MsgsIn.Load(), MsgsOut: l.Sessions.MsgsOut.Load(),
		BytesIn: l.Sessions.BytesIn.Load(), BytesOut: l.Sessions.BytesOut.Load(),
		SlowCloses: l.Sessions.SlowCloses.Load(), Drops: l.Sessions.Drops.Load(), CertRejects: l.CertRejects(),
		AuthFailures: map[string]uint64{}, SessionCloses: l.Sessions.Closes.ByCode(),
	}
	for _, r := range listener.Reasons() {
		s.Failures[r.String()] = l.Failures(r)
	}
	got := l.AuthFailures()
	for _, r := range auth.SubReasons() {
		s.AuthFailures[string(r)] = got[string(r)]
	}
	return s
}

// ListenerSnapshots reads this node's listener counters.
func (g *Gateway) ListenerSnapshots() []ListenerSnapshot {
	var out []ListenerSnapshot
	for _, l := range g.Listeners() {
		out = append(out, snapshotOf(l))
	}
	return out
}

// add sums o into s (same listener name on another node); the address becomes "" when the
// nodes differ.
func (s *ListenerSnapshot) add(o ListenerSnapshot) {
	if s.Address != o.Address {
		s.Address = ""
	}
	s.Open += o.Open
	s.HandshakesOK += o.HandshakesOK
	s.MsgsIn, s.MsgsOut, s.BytesIn, s.BytesOut = s.MsgsIn+o.MsgsIn, s.MsgsOut+o.MsgsOut, s.BytesIn+o.BytesIn, s.BytesOut+o.BytesOut
	s.SlowCloses += o.SlowCloses
	s.Drops += o.Drops
	s.Failures, s.CertRejects = addCounts(s.Failures, o.Failures), addCounts(s.CertRejects, o.CertRejects)
	s.AuthFailures, s.SessionCloses = addCounts(s.AuthFailures, o.AuthFailures), addCounts(s.SessionCloses, o.SessionCloses)
}

func addCounts(a, b map[string]uint64) map[string]uint64 {
	out := maps.Clone(a)
	if out == nil {
		out = map[string]uint64{}
	}
	for k, v := range b {
		out[k] += v
	}
	return out
}

// ClusterLink is this node's view of the cluster link (all zero when it runs alone).
type ClusterLink struct {
	Enabled, LinkUp bool
	Server          string // NATS server connected to; "" when down
	NodesSeen       int    // nodes known, this one included
	NodesUp         int
	In, Out         uint64 // channel messages received from and sent to NATS
	Dropped         uint64 // not sent (link down), dropped by a slow handler, or not delivered by a node
}

// ClusterLink reads the broker's counters; it asks no other node.
func (g *Gateway) ClusterLink() ClusterLink {
	if g.cl == nil {
		return ClusterLink{}
	}
	st := g.cl.b.Stats()
	return ClusterLink{
		Enabled: true, LinkUp: st.LinkUp, Server: st.Server, NodesSeen: st.Nodes, NodesUp: st.NodesUp,
		In: st.In, Out: st.Out, Dropped: st.Dropped + st.SlowDropped + g.cl.undelivered.Load(),
	}
}

// NodeStats are one node's listeners as it reported them.
type NodeStats struct {
	Node      string
	Up        bool      // heard from within 3 heartbeats (this node: always)
	LastSeen  time.Time // its last heartbeat (this node: now)
	Listeners []ListenerSnapshot
}

// ClusterStats is the cluster-wide reading of GetStats.
type ClusterStats struct {
	Nodes   []NodeStats        // every node known or that answered, by name
	Missing []string           // nodes that did not answer in time
	Total   []ListenerSnapshot // per listener name, summed over the nodes that answered
	Link    ClusterLink
}

// ClusterStats asks every node for its listener counters.
func (g *Gateway) ClusterStats(ctx context.Context) ClusterStats {
	replies, errs, missing := callAll[[]ListenerSnapshot](ctx, g, methodStats, struct{}{})
	st := ClusterStats{Missing: withErrors(missing, errs), Link: g.ClusterLink()}
	seen := map[string]bool{}
	if g.cl != nil {
		for _, m := range g.cl.b.Members() {
			seen[m.Node] = true
			st.Nodes = append(st.Nodes, NodeStats{Node: m.Node, Up: m.Up, LastSeen: m.LastSeen, Listeners: replies[m.Node]})
		}
	}
	for node, ls := range replies {
		if !seen[node] {
			st.Nodes = append(st.Nodes, NodeStats{Node: node, Up: true, LastSeen: time.Now(), Listeners: ls})
		}
	}
	slices.SortFunc(st.Nodes, func(a, b NodeStats) int { return strings.Compare(a.Node, b.Node) })
	for _, n := range st.Nodes {
		for _, l := range n.Listeners {
			i := slices.IndexFunc(st.Total, func(t ListenerSnapshot) bool { return t.Name == l.Name })
			if i < 0 {
				l.Failures, l.CertRejects = maps.Clone(l.Failures), maps.Clone(l.CertRejects)
				l.AuthFailures, l.SessionCloses = maps.Clone(l.AuthFailures), maps.Clone(l.SessionCloses)
				st.Total = append(st.Total, l)
				continue
			}
			st.Total[i].add(l)
		}
	}
	return st
}

// NodeFailure is a failed handshake of some node.
type NodeFailure struct {
	Node string
	ListenerFailure
}

// FailureQuery selects failures; zero fields match everything.
type FailureQuery struct {
	Listener string
	Since    time.Time
	Limit    int // the newest Limit; 0: all that are kept
}

func (g *Gateway) localFailures(_ context.Context, q FailureQuery) ([]NodeFailure, error) {
	var out []NodeFailure
	for _, f := range g.Failures() {
		if (q.Listener == "" || f.Listener == q.Listener) && !f.Time.Before(q.Since) {
			out = append(out, NodeFailure{Node: g.cfg.Node, ListenerFailure: f})
		}
		if q.Limit > 0 && len(out) == q.Limit {
			break
		}
	}
	return out, nil
}

// ClusterFailures returns the failed handshakes of every node matching q, newest first, and
// the nodes that did not answer.
func (g *Gateway) ClusterFailures(ctx context.Context, q FailureQuery) ([]NodeFailure, []string) {
	replies, errs, missing := callAll[[]NodeFailure](ctx, g, methodFailures, q)
	var out []NodeFailure
	for _, r := range replies {
		out = append(out, r...)
	}
	slices.SortStableFunc(out, func(a, b NodeFailure) int { return b.Time.Compare(a.Time) })
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, withErrors(missing, errs)
}

// NodeBundle identifies the certificate bundle a node serves.
type NodeBundle struct {
	Node         string
	Generation   uint64
	Fingerprints []string // SHA-256 of each leaf, in order
}

func (g *Gateway) bundle() NodeBundle {
	cur := g.certs.Current()
	nb := NodeBundle{Node: g.cfg.Node, Generation: cur.Generation}
	for _, c := range cur.Certs {
		nb.Fingerprints = append(nb.Fingerprints, c.FingerprintHex())
	}
	return nb
}

// BundleWarnings compares the bundles the nodes serve with this node's: one warning per node
// that serves other certificates, or that did not answer. Alone: none.
func (g *Gateway) BundleWarnings(ctx context.Context) []string {
	if g.cl == nil {
		return nil
	}
	ours := g.bundle()
	replies, errs, missing := callAll[NodeBundle](ctx, g, methodCerts, struct{}{})
	var out []string
	for _, node := range slices.Sorted(maps.Keys(replies)) {
		if nb := replies[node]; !slices.Equal(nb.Fingerprints, ours.Fingerprints) {
			out = append(out, fmt.Sprintf("node %s serves a different certificate bundle (leaf SHA-256 %s, here %s): reload it or check its files",
				node, strings.Join(nb.Fingerprints, ","), strings.Join(ours.Fingerprints, ",")))
		}
	}
	for _, node := range withErrors(missing, errs) {
		out = append(out, fmt.Sprintf("node %s did not answer: its certificate bundle is unknown", node))
	}
	return out
}

type reloadReq struct {
	From          string // the asking node, which reloaded already
	DryRun, Force bool
}

type reloadRep struct {
	Generation uint64
	Error      string
}

func (g *Gateway) serveReload(_ context.Context, r reloadReq) (reloadRep, error) {
	if r.From == g.cfg.Node {
		return reloadRep{}, nil
	}
	res, err := g.Reload(ReloadRequest{Trigger: "admin", DryRun: r.DryRun, Force: r.Force})
	if err != nil {
		return reloadRep{Error: err.Error()}, nil
	}
	return reloadRep{Generation: res.Generation}, nil
}

// ReloadAll reloads here (an invalid bundle fails as Reload does, and no other node is asked),
// then on every other node, which re-reads its own files; each other node's outcome is one
// line of the returned notes. PEM bytes are refused: they would travel over NATS, and a NATS
// client could then install a certificate (distribute the files instead).
func (g *Gateway) ReloadAll(ctx context.Context, r ReloadRequest) (ReloadResult, []string, error) {
	if s := r.Source; len(s.CertPEM)+len(s.KeyPEM)+len(s.ClientCAPEM) > 0 || s.Others != nil {
		return ReloadResult{}, nil, fmt.Errorf("all_nodes re-reads each node's files; PEM bytes reload one node: %w", ErrInvalid)
	}
	res, err := g.Reload(r)
	if err != nil || g.cl == nil {
		return res, nil, err
	}
	replies, errs, missing := callAll[reloadRep](ctx, g, methodReload, reloadReq{From: g.cfg.Node, DryRun: r.DryRun, Force: r.Force})
	delete(replies, g.cfg.Node)
	delete(errs, g.cfg.Node)
	var notes []string
	for _, node := range slices.Sorted(maps.Keys(replies)) {
		if rep := replies[node]; rep.Error != "" {
			notes = append(notes, fmt.Sprintf("node %s: reload refused: %s", node, rep.Error))
		} else {
			notes = append(notes, fmt.Sprintf("node %s: reloaded, generation %d", node, rep.Generation))
		}
	}
	for _, node := range withErrors(missing, errs) {
		notes = append(notes, fmt.Sprintf("node %s: did not answer: not reloaded", node))
	}
	return res, notes, nil
}

// NodeEvent is a session event of some node.
type NodeEvent struct {
	Node string
	session.Event
}

// sysEvents is the cluster subject kind of session events.
const sysEvents = "ev"

// eventQueue bounds the session events waiting to be sent to the other nodes.
const eventQueue = 4096

// queueEvent hands one of this node's session events to sendEvents. It runs under the
// registry's lock, so it never waits: a full queue drops the event, counted in undelivered.
func (g *Gateway) queueEvent(e session.Event) {
	select {
	case g.cl.eventq <- e:
	default:
		g.cl.undelivered.Add(1)
	}
}

// sendEvents publishes the queued events to the other nodes' watchers until ctx ends (with
// NATS away an event is counted as dropped by the broker).
func (g *Gateway) sendEvents(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case e := <-g.cl.eventq:
			e.Info.PeerChain = nil
			if data, err := json.Marshal(e); err == nil {
				_ = g.cl.b.PublishSys(sysEvents, data)
			}
		}
	}
}

// WatchCluster calls fn for every connect and disconnect of every node (at most once for
// another node's: delivery over NATS) until cancel returns; fn is never called concurrently
// with itself and must not block.
func (g *Gateway) WatchCluster(fn func(NodeEvent)) (cancel func(), err error) {
	var mu sync.Mutex // serialises fn; guards stopped
	stopped := false
	call := func(e NodeEvent) {
		mu.Lock()
		defer mu.Unlock()
		if !stopped {
			fn(e)
		}
	}
	stopLocal := g.registry.Watch(func(e session.Event) { call(NodeEvent{Node: g.cfg.Node, Event: e}) })
	stopRemote := func() {}
	if g.cl != nil {
		stopRemote, err = g.cl.b.SubscribeSys(sysEvents, func(node string, data []byte) {
			var e session.Event
			if node == g.cfg.Node || json.Unmarshal(data, &e) != nil {
				return
			}
			call(NodeEvent{Node: node, Event: e})
		})
		if err != nil {
			stopLocal()
			return nil, err
		}
	}
	return func() {
		stopLocal()
		stopRemote()
		mu.Lock()
		stopped = true
		mu.Unlock()
	}, nil
}
