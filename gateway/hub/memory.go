package hub

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
)

// MemoryBroker is an in-process Broker. Several Hubs may share one to behave as the nodes of a
// cluster (tests of multi-node semantics); a Hub created without a Broker uses its own.
//
// Delivery is synchronous: Publish calls the handler of every matching subscription on the
// publishing goroutine, in subscription order, before it returns. Nothing is queued, so nothing is
// ever dropped and MemoryBroker starts no goroutine; the cost is that a slow handler slows the
// publisher (Hub handlers do not block: they only fan out to non-blocking Subscribers). Handlers
// may call back into the broker. Matching is linear in the number of subscriptions, which is
// small (one per Hub).
type MemoryBroker struct {
	mu     sync.Mutex                   // serializes changes to subs and closed
	subs   atomic.Pointer[[]*memorySub] // copy-on-write snapshot, read without a lock by Publish
	closed atomic.Bool
}

var _ Broker = (*MemoryBroker)(nil)

// memorySub is one MemoryBroker subscription.
type memorySub struct {
	b       *MemoryBroker
	pattern string
	h       func(Message)
	active  atomic.Bool
}

var _ Subscription = (*memorySub)(nil)

// NewMemoryBroker returns an empty in-process broker.
func NewMemoryBroker() *MemoryBroker {
	return &MemoryBroker{}
}

// Publish calls every matching subscription's handler with m, synchronously.
func (b *MemoryBroker) Publish(ctx context.Context, m Message) error {
	if b.closed.Load() {
		return ErrClosed
	}
	if err := ValidChannel(m.Channel); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("publish to %s: %w", m.Channel, err)
	}
	if p := b.subs.Load(); p != nil {
		for _, s := range *p {
			if s.active.Load() && (s.pattern == "#" || Match(s.pattern, m.Channel)) {
				s.h(m)
			}
		}
	}
	return nil
}

// Subscribe registers h for the channels matching pattern.
func (b *MemoryBroker) Subscribe(ctx context.Context, pattern string, h func(Message)) (Subscription, error) {
	if err := ValidPattern(pattern); err != nil {
		return nil, err
	}
	if h == nil {
		return nil, fmt.Errorf("subscribe to %s: %w", pattern, errNilHandler)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("subscribe to %s: %w", pattern, err)
	}
	s := &memorySub{b: b, pattern: pattern, h: h}
	s.active.Store(true)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed.Load() {
		return nil, ErrClosed
	}
	var next []*memorySub
	if p := b.subs.Load(); p != nil {
		next = slices.Clone(*p)
	}
	next = append(next, s)
	b.subs.Store(&next)
	return s, nil
}

// Unsubscribe removes the subscription from its broker.
func (s *memorySub) Unsubscribe() error {
	if !s.active.Swap(false) {
		return nil
	}
	b := s.b
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.subs.Load()
	if p == nil {
		return nil
	}
	next := slices.DeleteFunc(slices.Clone(*p), func(x *memorySub) bool { return x == s })
	b.subs.Store(&next)
	return nil
}

// Close stops every subscription; later Publish and Subscribe calls return ErrClosed. It is
// idempotent.
func (b *MemoryBroker) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed.Swap(true) {
		return nil
	}
	if p := b.subs.Load(); p != nil {
		for _, s := range *p {
			s.active.Store(false)
		}
	}
	b.subs.Store(nil)
	return nil
}
