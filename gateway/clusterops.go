package gateway

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gobwas/ws"

	"github.com/wssgate/wssgate/gateway/cluster"
	"github.com/wssgate/wssgate/gateway/session"
)

// The cluster-wide operations of the admin API. Each node answers for its own sessions: an
// operation is one scatter-gather request (cluster.Broker.CallAll) whose handler runs on every
// node, this one included; alone, the same handler runs locally. A node that does not answer in
// time is reported missing, never hidden.

// rpcHandler serves one cluster method (see cluster.Handler).
type rpcHandler = func(ctx context.Context, req []byte) ([]byte, error)

// Cluster methods.
const (
	methodPublish   = "publish"
	methodSessions  = "sessions"
	methodSession   = "session"
	methodClose     = "session-close"
	methodSend      = "session-send"
	methodReconnect = "reconnect"
	methodFailures  = "failures"
	methodStats     = "stats"
	methodDevices   = "devices"
	methodCerts     = "certs"
	methodReload    = "reload"

	methodCloseIdentity = "identity-close"
)

// registerOps fills g.handlers; newHub hands them to the broker.
func (g *Gateway) registerOps() {
	g.handlers[methodPublish] = g.servePublish
	g.handlers[methodSessions] = jsonHandler(g.localSessions)
	g.handlers[methodSession] = jsonHandler(func(_ context.Context, id string) (NodeSession, error) {
		v, err := g.Session(id)
		return NodeSession{Node: g.cfg.Node, SessionView: wireView(v)}, err
	})
	g.handlers[methodClose] = jsonHandler(func(_ context.Context, r closeReq) (bool, error) {
		return true, g.CloseSession(r.ID, r.Code, r.Reason)
	})
	g.handlers[methodSend] = jsonHandler(func(_ context.Context, r sendReq) (bool, error) {
		return true, g.SendToSession(r.ID, r.Binary, r.Data)
	})
	g.handlers[methodReconnect] = jsonHandler(g.serveReconnect)
	g.handlers[methodFailures] = jsonHandler(g.localFailures)
	g.handlers[methodStats] = jsonHandler(func(context.Context, struct{}) ([]ListenerSnapshot, error) {
		return g.ListenerSnapshots(), nil
	})
	g.handlers[methodDevices] = jsonHandler(g.localDevices)
	g.handlers[methodCerts] = jsonHandler(func(context.Context, struct{}) (NodeBundle, error) { return g.bundle(), nil })
	g.handlers[methodReload] = jsonHandler(g.serveReload)
	g.handlers[methodCloseIdentity] = jsonHandler(func(_ context.Context, r closeIdentityReq) (int, error) {
		return g.CloseIdentity(r.Identity, r.Code, r.Reason)
	})
}

// jsonHandler adapts f to an rpcHandler with JSON request and reply.
func jsonHandler[Req, Rep any](f func(context.Context, Req) (Rep, error)) rpcHandler {
	return func(ctx context.Context, b []byte) ([]byte, error) {
		var r Req
		if len(b) > 0 {
			if err := json.Unmarshal(b, &r); err != nil {
				return nil, fmt.Errorf("decode request: %w", err)
			}
		}
		rep, err := f(ctx, r)
		if err != nil {
			return nil, err
		}
		return json.Marshal(rep)
	}
}

// callAll runs method on every node (alone: here) and decodes the replies. errs are mapped
// back to this package's sentinels (see fromRemote).
func callAll[Rep any](ctx context.Context, g *Gateway, method string, req any) (replies map[string]Rep, errs map[string]error, missing []string) {
	data, err := json.Marshal(req)
	if err != nil {
		return nil, map[string]error{g.cfg.Node: fmt.Errorf("encode %s request: %w", method, err)}, nil
	}
	var raw map[string][]byte
	if g.cl != nil {
		raw, errs, missing = g.cl.b.CallAll(ctx, method, data)
	} else {
		raw, errs = map[string][]byte{}, map[string]error{}
		if rep, err := g.handlers[method](ctx, data); err != nil {
			errs[g.cfg.Node] = err
		} else {
			raw[g.cfg.Node] = rep
		}
	}
	replies = make(map[string]Rep, len(raw))
	for node, b := range raw {
		var r Rep
		if err := json.Unmarshal(b, &r); err != nil {
			errs[node] = fmt.Errorf("decode %s reply of node %s: %w", method, node, err)
			continue
		}
		replies[node] = r
	}
	for node, err := range errs {
		errs[node] = fromRemote(err)
	}
	return replies, errs, missing
}

// fromRemote makes a remote node's error match this package's sentinels again (its text
// crossed NATS); other errors are returned as they are.
func fromRemote(err error) error {
	var re *cluster.RemoteError
	if !errors.As(err, &re) || re.Err != nil {
		return err
	}
	for _, s := range []error{ErrNotFound, ErrQueueFull, ErrInvalid} {
		if strings.Contains(re.Msg, s.Error()) {
			return fmt.Errorf("node %s: %s: %w", re.Node, re.Msg, s)
		}
	}
	return err
}

// NodeSession is a session of some node of the cluster.
type NodeSession struct {
	Node string
	SessionView
}

// wireView is v without what does not cross nodes (the client certificate chain).
func wireView(v SessionView) SessionView {
	v.Info.PeerChain = nil
	return v
}

// SessionQuery selects sessions across the cluster; empty fields match everything.
type SessionQuery struct {
	Listener, Identity, RemoteAddrPrefix string
	Role                                 session.Role
	// After keeps sessions whose id sorts after it; with Limit > 0 at most Limit sessions are
	// returned, the first by id: a page (ids are random, so pages interleave nodes).
	After string
	Limit int
}

// match reports whether info passes q's filters (not After and Limit).
func (q SessionQuery) match(info session.Info) bool {
	return (q.Listener == "" || info.Listener == q.Listener) && (q.Role == "" || info.Role == q.Role) &&
		(q.Identity == "" || info.Identity == q.Identity) && strings.HasPrefix(info.RemoteAddr, q.RemoteAddrPrefix) &&
		info.ID > q.After
}

// localSessions answers a SessionQuery for this node, by id.
func (g *Gateway) localSessions(_ context.Context, q SessionQuery) ([]NodeSession, error) {
	all := g.registry.List(func(s session.Entry) bool { return q.match(s.Info()) })
	slices.SortFunc(all, func(a, b session.Entry) int { return cmp.Compare(a.Info().ID, b.Info().ID) })
	if q.Limit > 0 && len(all) > q.Limit {
		all = all[:q.Limit]
	}
	out := make([]NodeSession, len(all))
	for i, s := range all {
		out[i] = NodeSession{Node: g.cfg.Node, SessionView: wireView(view(s))}
	}
	return out, nil
}

// ClusterSessions returns the sessions of every node that match q, by id (at most q.Limit
// when set), and the nodes that did not answer.
func (g *Gateway) ClusterSessions(ctx context.Context, q SessionQuery) ([]NodeSession, []string, error) {
	replies, errs, missing := callAll[[]NodeSession](ctx, g, methodSessions, q)
	var out []NodeSession
	for _, r := range replies {
		out = append(out, r...)
	}
	slices.SortFunc(out, func(a, b NodeSession) int { return cmp.Compare(a.Info.ID, b.Info.ID) })
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, withErrors(missing, errs), nil
}

// withErrors adds the nodes that answered with an error to missing (sorted).
func withErrors(missing []string, errs map[string]error) []string {
	for n := range errs {
		missing = append(missing, n)
	}
	slices.Sort(missing)
	return slices.Compact(missing)
}

// onOwner runs method for session id on the node that holds it: here first, else every node
// (session ids are random: at most one node has it). An error other than ErrNotFound wins.
func onOwner[Rep any](ctx context.Context, g *Gateway, method, id string, req any) (Rep, error) {
	var zero Rep
	replies, errs, missing := callAll[Rep](ctx, g, method, req)
	for _, r := range replies {
		return r, nil
	}
	for _, err := range errs {
		if !errors.Is(err, ErrNotFound) {
			return zero, err
		}
	}
	if len(missing) > 0 {
		return zero, fmt.Errorf("session %q: not on the nodes that answered (missing: %s): %w", id, strings.Join(missing, ", "), ErrNotFound)
	}
	return zero, fmt.Errorf("session %q: %w", id, ErrNotFound)
}

// ClusterSession describes one session of any node.
func (g *Gateway) ClusterSession(ctx context.Context, id string) (NodeSession, error) {
	if v, err := g.Session(id); err == nil || g.cl == nil {
		return NodeSession{Node: g.cfg.Node, SessionView: v}, err
	}
	return onOwner[NodeSession](ctx, g, methodSession, id, id)
}

type closeReq struct {
	ID     string
	Code   ws.StatusCode
	Reason string
}

// CloseClusterSession closes a session of any node (see CloseSession).
func (g *Gateway) CloseClusterSession(ctx context.Context, id string, code ws.StatusCode, reason string) error {
	if err := g.CloseSession(id, code, reason); g.cl == nil || !errors.Is(err, ErrNotFound) {
		return err
	}
	_, err := onOwner[bool](ctx, g, methodClose, id, closeReq{id, code, reason})
	return err
}

type sendReq struct {
	ID     string
	Binary bool
	Data   []byte
}

// SendToClusterSession queues one frame to a session of any node (see SendToSession).
func (g *Gateway) SendToClusterSession(ctx context.Context, id string, binary bool, data []byte) error {
	if err := g.SendToSession(id, binary, data); g.cl == nil || !errors.Is(err, ErrNotFound) {
		return err
	}
	_, err := onOwner[bool](ctx, g, methodSend, id, sendReq{id, binary, data})
	return err
}

// Device is one connected device of the cluster (presence).
type Device struct {
	Identity, Node, SessionID string
	ConnectedAt               time.Time
}

func (g *Gateway) localDevices(_ context.Context, prefix string) ([]Device, error) {
	var out []Device
	for _, s := range g.registry.List(func(s session.Entry) bool {
		return s.Info().Role == session.RoleDevice && strings.HasPrefix(s.Info().Identity, prefix)
	}) {
		i := s.Info()
		out = append(out, Device{Identity: i.Identity, Node: g.cfg.Node, SessionID: i.ID, ConnectedAt: i.ConnectedAt})
	}
	return out, nil
}

// Devices lists the connected devices of every node whose identity starts with prefix, by
// identity then node, and the nodes that did not answer.
func (g *Gateway) Devices(ctx context.Context, prefix string) ([]Device, []string) {
	replies, errs, missing := callAll[[]Device](ctx, g, methodDevices, prefix)
	var out []Device
	for _, r := range replies {
		out = append(out, r...)
	}
	slices.SortFunc(out, func(a, b Device) int { return cmp.Or(cmp.Compare(a.Identity, b.Identity), cmp.Compare(a.Node, b.Node)) })
	return out, withErrors(missing, errs)
}

type reconnectReq struct {
	From     string // the asking node: it reconnects its own sessions itself
	Below    uint64
	Listener string
	Rate     float64
}

// ReconnectCluster runs Reconnect on every node: here synchronously, on the other nodes in
// the background (so a slow rate outlives no request); rate is per node. It returns the
// sessions closed here plus those the other nodes scheduled, and the nodes that did not answer.
func (g *Gateway) ReconnectCluster(ctx context.Context, below uint64, listenerName string, rate float64) (int, []string, error) {
	if g.cl == nil {
		n, err := g.Reconnect(ctx, below, listenerName, rate)
		return n, nil, err
	}
	replies, errs, missing := callAll[int](ctx, g, methodReconnect, reconnectReq{g.cfg.Node, below, listenerName, rate})
	delete(replies, g.cfg.Node) // the local handler only counted: run it here, waited for
	delete(errs, g.cfg.Node)
	n, err := g.Reconnect(ctx, below, listenerName, rate)
	for _, k := range replies {
		n += k
	}
	return n, withErrors(missing, errs), err
}

// serveReconnect counts the targets and, on another node's request, closes them on a
// goroutine the cluster node owns (stopped at Shutdown).
func (g *Gateway) serveReconnect(_ context.Context, r reconnectReq) (int, error) {
	below := r.Below
	if below == 0 {
		below = g.certs.Current().Generation
	}
	n := len(g.registry.List(func(s session.Entry) bool {
		info := s.Info()
		return info.CertGeneration < below && (r.Listener == "" || info.Listener == r.Listener)
	}))
	if n > 0 && g.cl != nil && r.From != g.cfg.Node {
		g.cl.goAsync(func(ctx context.Context) { _, _ = g.Reconnect(ctx, below, r.Listener, r.Rate) })
	}
	return n, nil
}

type closeIdentityReq struct {
	Identity string
	Code     ws.StatusCode
	Reason   string
}

// CloseClusterIdentity closes every session of identity on every node (see CloseIdentity) and
// returns how many were closed.
func (g *Gateway) CloseClusterIdentity(ctx context.Context, identity string, code ws.StatusCode, reason string) (int, error) {
	if g.cl == nil {
		return g.CloseIdentity(identity, code, reason)
	}
	replies, errs, _ := callAll[int](ctx, g, methodCloseIdentity, closeIdentityReq{identity, code, reason})
	n := 0
	for _, k := range replies {
		n += k
	}
	if err := errs[g.cfg.Node]; err != nil {
		return n, err // invalid code or identity: the same answer on every node
	}
	return n, nil
}
