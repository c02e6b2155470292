package hub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
)

// Sentinel errors of the Hub.
var (
	// ErrStarted is returned by a second call to Hub.Start.
	ErrStarted = errors.New("hub: already started")
	// ErrBadSubscriber is returned by Subscribe for a nil or non-comparable Subscriber.
	ErrBadSubscriber = errors.New("hub: subscriber must be a non-nil comparable value")

	errNilHandler = errors.New("hub: nil handler")
)

// Hub fans messages out to the local subscribers of one node and exchanges them with other nodes
// through a Broker. See the package documentation for its concurrency contract.
type Hub struct {
	node      string
	broker    Broker
	ownBroker bool // broker was created by New and is closed by Close

	closed atomic.Bool

	lifeMu sync.Mutex   // guards sub (Start and Close)
	sub    Subscription // broker subscription made by Start; nil before Start and after Close
	start  bool         // Start was called

	mu       sync.RWMutex // guards the index: root and every node below it, subs, binds, counters
	root     node
	subs     map[Subscriber]*entry
	binds    map[bindKey]*binding
	patterns int // nodes with at least one subscription

	dedupMu  sync.Mutex // guards dedupSeq and entry.seen
	dedupSeq uint64     // sequence number of the last deduplicated publication

	bufs sync.Pool // of *matchBuf

	direct func(channel string) Subscriber // set by SetDirect before use; never changed after
}

// bindKey identifies one (subscriber, pattern) subscription.
type bindKey struct {
	s       Subscriber
	pattern string
}

// matchBuf holds the scratch slices of one publication; pooled so Publish does not allocate.
type matchBuf struct {
	nodes []*node  // matching trie nodes
	one   []*entry // recipients that need no deduplication
	multi []*entry // recipients with several patterns: deduplicated before delivery
}

// New returns a Hub for the node with id node. With a nil b the Hub uses a MemoryBroker of its
// own, which Close closes; a Broker passed in is left open by Close.
func New(node string, b Broker) *Hub {
	h := &Hub{
		node:   node,
		broker: b,
		subs:   make(map[Subscriber]*entry),
		binds:  make(map[bindKey]*binding),
	}
	if b == nil {
		h.broker, h.ownBroker = NewMemoryBroker(), true
	}
	h.bufs.New = func() any { return new(matchBuf) }
	return h
}

// Node returns the id of this node, set as Origin on the messages it publishes.
func (h *Hub) Node() string { return h.node }

// Start subscribes to the broker (pattern "#") so that messages published by other nodes reach
// local subscribers. ctx bounds the subscribe call; the subscription lasts until Close. Start
// may be called once.
func (h *Hub) Start(ctx context.Context) error {
	h.lifeMu.Lock()
	defer h.lifeMu.Unlock()
	switch {
	case h.closed.Load():
		return ErrClosed
	case h.start:
		return ErrStarted
	}
	sub, err := h.broker.Subscribe(ctx, "#", h.fromBroker)
	if err != nil {
		return fmt.Errorf("subscribe to broker: %w", err)
	}
	h.sub, h.start = sub, true
	return nil
}

// fromBroker delivers a message from another node to the local subscribers.
func (h *Hub) fromBroker(m Message) {
	if m.Origin == h.node || h.closed.Load() {
		return
	}
	if err := ValidChannel(m.Channel); err != nil {
		slog.Warn("hub: dropping message from broker", "origin", m.Origin, "err", err)
		return
	}
	h.deliver(m)
}

// SetDirect installs a lookup consulted for every message, local or from
// the broker, besides the subscription index: it names at most one more
// subscriber by channel alone (e.g. the device session of
// "devices/ID/down"), at no index cost per subscriber. That subscriber
// must not also be subscribed to a pattern matching the channel, or it is
// delivered to twice. Call it before Start and Publish.
func (h *Hub) SetDirect(lookup func(channel string) Subscriber) { h.direct = lookup }

// Close stops receiving from the broker, closes the broker if the Hub created it, and makes later
// Publish, Subscribe and Start calls return ErrClosed. Existing subscriptions are kept (so
// UnsubscribeAll still works) but receive nothing more. Close is idempotent.
func (h *Hub) Close() error {
	h.lifeMu.Lock()
	defer h.lifeMu.Unlock()
	if h.closed.Swap(true) {
		return nil
	}
	var errs []error
	if h.sub != nil {
		if err := h.sub.Unsubscribe(); err != nil {
			errs = append(errs, fmt.Errorf("unsubscribe from broker: %w", err))
		}
		h.sub = nil
	}
	if h.ownBroker {
		if err := h.broker.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close broker: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Publish delivers m to the local subscribers whose patterns match m.Channel, synchronously and
// at most once per subscriber, and returns how many accepted it. It then sets m.Origin to this
// node and hands m to the broker for the other nodes; a broker error is returned, wrapped, after
// the local delivery (reached is still accurate). m.Data must not be modified afterwards.
func (h *Hub) Publish(ctx context.Context, m Message) (reached int, err error) {
	if h.closed.Load() {
		return 0, ErrClosed
	}
	if err := ValidChannel(m.Channel); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("publish to %s: %w", m.Channel, err)
	}
	m.Origin = h.node
	reached = h.deliver(m)
	if err := h.broker.Publish(ctx, m); err != nil {
		return reached, fmt.Errorf("publish to %s on broker: %w", m.Channel, err)
	}
	return reached, nil
}

// deliver fans m out to the matching local subscribers and returns how many accepted it.
func (h *Hub) deliver(m Message) int {
	buf := h.bufs.Get().(*matchBuf)
	defer h.putBuf(buf)

	h.mu.RLock()
	h.collect(m.Channel, buf)
	h.mu.RUnlock()

	if len(buf.multi) > 0 {
		buf.multi = h.dedupe(buf.multi)
	}
	var direct Subscriber
	if h.direct != nil {
		direct = h.direct(m.Channel)
	}
	if len(buf.one) == 0 && len(buf.multi) == 0 && direct == nil {
		return 0
	}
	d := &Delivery{Message: m}
	n := 0
	if direct != nil && direct.Deliver(d) {
		n++
	}
	for _, e := range buf.one {
		if e.s.Deliver(d) {
			n++
		}
	}
	for _, e := range buf.multi {
		if e.s.Deliver(d) {
			n++
		}
	}
	return n
}

// dedupe removes repeated entries from multi, in place. Each publication takes a new sequence
// number and stamps it on the entries it keeps; a stamp already equal to it marks a repeat.
// dedupMu makes the stamping of one publication atomic with respect to the others, so concurrent
// publishers cannot overwrite each other's stamps halfway; it is only taken by publications whose
// recipients match through several patterns, for a loop without allocation.
func (h *Hub) dedupe(multi []*entry) []*entry {
	h.dedupMu.Lock()
	defer h.dedupMu.Unlock()
	h.dedupSeq++
	seq := h.dedupSeq
	kept := multi[:0]
	for _, e := range multi {
		if e.seen != seq {
			e.seen = seq
			kept = append(kept, e)
		}
	}
	clear(multi[len(kept):])
	return kept
}

// collect fills buf with the recipients of channel. The caller holds h.mu for reading.
func (h *Hub) collect(channel string, buf *matchBuf) {
	buf.nodes = h.root.match(channel, false, buf.nodes)
	if len(buf.nodes) == 1 {
		// One pattern node: each subscriber appears in it once, no deduplication needed.
		buf.one = append(buf.one, buf.nodes[0].subs...)
		return
	}
	for _, n := range buf.nodes {
		for _, e := range n.subs {
			if len(e.binds) == 1 {
				buf.one = append(buf.one, e) // its only pattern: it cannot match twice
			} else {
				buf.multi = append(buf.multi, e)
			}
		}
	}
}

// putBuf clears buf (so the pool holds no subscriber alive) and returns it to the pool.
func (h *Hub) putBuf(buf *matchBuf) {
	clear(buf.nodes)
	clear(buf.one)
	clear(buf.multi)
	buf.nodes, buf.one, buf.multi = buf.nodes[:0], buf.one[:0], buf.multi[:0]
	h.bufs.Put(buf)
}
