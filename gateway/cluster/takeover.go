package cluster

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
)

// Newer reports whether session a (connected to node aNode at aConnected) supersedes session b
// of the same identity: the later connect time wins, and on a tie the higher node name (byte
// order). It is a strict order on (time, node): for two sessions on different nodes exactly one
// of Newer(a, b) and Newer(b, a) is true, so when both nodes apply it exactly one session
// survives. Times are compared to the nanosecond, without monotonic readings.
func Newer(aNode string, aConnected time.Time, bNode string, bConnected time.Time) bool {
	if ta, tb := aConnected.UnixNano(), bConnected.UnixNano(); ta != tb {
		return ta > tb
	}
	return aNode > bNode
}

// IdentityFunc is called for a session of identity that connected to another node at
// connectedAt. The gateway compares it with its own session of that identity, if any, using
// Newer, and closes its own with 4001 "replaced" when the other one is newer.
type IdentityFunc func(node, identity, sessionID string, connectedAt time.Time)

// announcement is the payload published on <name>._sys.id.
type announcement struct {
	Node        string `json:"node"`
	Identity    string `json:"identity"`
	Session     string `json:"session"`
	ConnectedNS int64  `json:"connected_ns"` // Unix nanoseconds
}

// AnnounceIdentity tells every other node that a session of identity connected here at
// connectedAt. Delivery is at most once; when NATS is down it fails with ErrLinkDown and is
// counted as dropped (the other nodes then learn nothing: two sessions of one identity may live
// on two nodes until the next connect).
func (b *Broker) AnnounceIdentity(identity string, connectedAt time.Time, sessionID string) error {
	data, err := json.Marshal(announcement{Node: b.opts.Node, Identity: identity, Session: sessionID, ConnectedNS: connectedAt.UnixNano()})
	if err != nil {
		return fmt.Errorf("announce identity: %w", err)
	}
	if err := b.send(&nats.Msg{Subject: b.sysSubject("id"), Data: data}); err != nil {
		return fmt.Errorf("announce identity: %w", err)
	}
	return nil
}

// OnIdentity installs f, called for every identity announced by another node (never for this
// node's own). f runs on one nats.go goroutine, one announcement at a time, and must not block.
// A later call replaces f; nil removes it.
func (b *Broker) OnIdentity(f func(node, identity, sessionID string, connectedAt time.Time)) {
	if f == nil {
		b.identity.Store(nil)
		return
	}
	fn := IdentityFunc(f)
	b.identity.Store(&fn)
}

// onIdentity dispatches one announcement.
func (b *Broker) onIdentity(msg *nats.Msg) {
	var a announcement
	if err := json.Unmarshal(msg.Data, &a); err != nil || a.Node == "" {
		b.log.Debug("dropping bad identity announcement", "err", err)
		return
	}
	if a.Node == b.opts.Node {
		return
	}
	if f := b.identity.Load(); f != nil {
		(*f)(a.Node, a.Identity, a.Session, time.Unix(0, a.ConnectedNS))
	}
}
