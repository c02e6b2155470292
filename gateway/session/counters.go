package session

import (
	"sync/atomic"
	"time"
)

// Totals are a listener's running totals, shared by its sessions and
// updated atomically. They only grow (Prometheus counters read them).
type Totals struct {
	MsgsIn, BytesIn   atomic.Uint64
	MsgsOut, BytesOut atomic.Uint64 // frames and bytes written, control frames included
	SlowCloses        atomic.Uint64 // sessions closed with 1013 on queue overflow
	Drops             atomic.Uint64 // frames lost: queue overflow, failed or timed-out write
}

// Snapshot is one reading of a session's live figures.
type Snapshot struct {
	MsgsIn, BytesIn, MsgsOut, BytesOut uint64
	Drops                              uint64 // frames lost: overflow, failed or timed-out write
	QueueLen, QueueBytes               int
	LastActivity                       time.Time
}

// Snapshot reads the session's live figures.
func (s *Session) Snapshot() Snapshot {
	st := Snapshot{
		MsgsIn:       s.msgsIn.Load(),
		BytesIn:      s.bytesIn.Load(),
		MsgsOut:      s.msgsOut.Load(),
		BytesOut:     s.bytesOut.Load(),
		Drops:        s.drops.Load(),
		LastActivity: time.Unix(0, s.lastActivity.Load()),
	}
	s.mu.Lock()
	st.QueueLen, st.QueueBytes = len(s.queue), s.queued
	s.mu.Unlock()
	return st
}
