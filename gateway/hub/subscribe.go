package hub

import (
	"fmt"
	"reflect"
)

// Subscribe makes s receive the messages published to channels matching pattern, on this node
// and (after Start) on the others. Subscribing the same (s, pattern) twice is a no-op. An
// invalid pattern returns an error wrapping ErrInvalidPattern.
func (h *Hub) Subscribe(s Subscriber, pattern string) error {
	if err := ValidPattern(pattern); err != nil {
		return err
	}
	if s == nil || !reflect.TypeOf(s).Comparable() {
		return fmt.Errorf("subscribe to %s: %w", pattern, ErrBadSubscriber)
	}
	if h.closed.Load() {
		return ErrClosed
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	key := bindKey{s, pattern}
	if h.binds[key] != nil {
		return nil
	}
	e := h.subs[s]
	if e == nil {
		e = &entry{s: s}
		h.subs[s] = e
	}
	b := &binding{e: e, pattern: pattern, eidx: len(e.binds)}
	e.binds = append(e.binds, b)
	n := h.root.insert(pattern)
	if len(n.subs) == 0 {
		h.patterns++
	}
	n.add(b)
	h.binds[key] = b
	return nil
}

// Unsubscribe removes the subscription of s to pattern and reports whether it existed.
func (h *Hub) Unsubscribe(s Subscriber, pattern string) bool {
	if s == nil || !reflect.TypeOf(s).Comparable() {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	key := bindKey{s, pattern}
	b := h.binds[key]
	if b == nil {
		return false
	}
	delete(h.binds, key)
	h.unbind(b)
	e := b.e
	last := len(e.binds) - 1
	moved := e.binds[last]
	e.binds[b.eidx], moved.eidx = moved, b.eidx
	e.binds[last] = nil
	e.binds = e.binds[:last]
	if last == 0 {
		delete(h.subs, s)
	}
	return true
}

// UnsubscribeAll removes every subscription of s.
func (h *Hub) UnsubscribeAll(s Subscriber) {
	if s == nil || !reflect.TypeOf(s).Comparable() {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	e := h.subs[s]
	if e == nil {
		return
	}
	for _, b := range e.binds {
		delete(h.binds, bindKey{s, b.pattern})
		h.unbind(b)
	}
	e.binds = nil
	delete(h.subs, s)
}

// unbind removes b from its trie node. The caller holds h.mu for writing.
func (h *Hub) unbind(b *binding) {
	n := b.n
	n.remove(b)
	if len(n.subs) == 0 {
		h.patterns--
	}
}

// SubscriberCount returns the number of subscribers with at least one subscription.
func (h *Hub) SubscriberCount() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.subs)
}

// PatternCount returns the number of distinct patterns with at least one subscriber.
func (h *Hub) PatternCount() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.patterns
}
