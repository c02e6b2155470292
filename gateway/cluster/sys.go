package cluster

import (
	"fmt"

	"github.com/nats-io/nats.go"
)

// PublishSys sends data to every node's SubscribeSys(kind) handler (this node's included) on
// <name>._sys.<kind>, kind escaped as a channel level. It never waits: with the link down it
// fails at once with ErrLinkDown and is counted as dropped. Delivery is at most once. The
// gateway uses it for session events of the cluster-wide WatchSessions.
func (b *Broker) PublishSys(kind string, data []byte) error {
	if b.closed.Load() {
		return fmt.Errorf("publish %s: broker closed", kind)
	}
	if err := b.send(&nats.Msg{Subject: b.sysSubject(token(kind)), Header: b.hdrText, Data: data}); err != nil {
		return fmt.Errorf("publish %s: %w", kind, err)
	}
	return nil
}

// SubscribeSys calls fn with the origin node and data of every PublishSys(kind) of any node,
// this one included, until stop is called or the Broker closes. fn runs on one nats.go
// goroutine, one message at a time, and must not block. kinds "hb" and "id" are the Broker's own.
func (b *Broker) SubscribeSys(kind string, fn func(node string, data []byte)) (stop func(), err error) {
	if kind == "hb" || kind == "id" {
		return nil, fmt.Errorf("subscribe %s: reserved kind", kind)
	}
	ns, err := b.nc.Subscribe(b.sysSubject(token(kind)), func(m *nats.Msg) { fn(m.Header.Get(hdrOrigin), m.Data) })
	if err != nil {
		return nil, fmt.Errorf("subscribe %s: %w", kind, err)
	}
	_ = ns.SetPendingLimits(pendingMsgs, pendingBytes)
	return func() { _ = ns.Unsubscribe() }, nil
}
