package session

import (
	"slices"
	"sync/atomic"
	"time"
)

// Counters are a listener's running totals, shared by its sessions and
// updated atomically. They only grow (Prometheus counters read them).
type Counters struct {
	MsgsIn, BytesIn   atomic.Uint64
	MsgsOut, BytesOut atomic.Uint64 // frames and bytes written, control frames included
	SlowCloses        atomic.Uint64 // sessions closed with 1013 on queue overflow
	Drops             atomic.Uint64 // frames not delivered because of overflow
}

// Stats are one session's live figures.
type Stats struct {
	MsgsIn, BytesIn, MsgsOut, BytesOut uint64
	QueueLen, QueueBytes               int
	LastActivity                       time.Time
	Subscriptions                      []string
}

// Stats returns the session's live figures.
func (s *Session) Stats() Stats {
	st := Stats{
		MsgsIn:       s.msgsIn.Load(),
		BytesIn:      s.bytesIn.Load(),
		MsgsOut:      s.msgsOut.Load(),
		BytesOut:     s.bytesOut.Load(),
		LastActivity: time.Unix(0, s.lastActivity.Load()),
	}
	s.mu.Lock()
	st.QueueLen, st.QueueBytes = len(s.queue), s.queued
	st.Subscriptions = slices.Clone(s.subs)
	s.mu.Unlock()
	return st
}

// AddSubscription records pattern in the session's list (for listing);
// it reports false if it was there already.
func (s *Session) AddSubscription(pattern string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if slices.Contains(s.subs, pattern) {
		return false
	}
	s.subs = append(s.subs, pattern)
	return true
}

// RemoveSubscription removes pattern; it reports whether it was there.
func (s *Session) RemoveSubscription(pattern string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.Index(s.subs, pattern)
	if i < 0 {
		return false
	}
	s.subs = slices.Delete(s.subs, i, i+1)
	return true
}

// SubscriptionCount returns how many patterns the session holds.
func (s *Session) SubscriptionCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.subs)
}
