package session

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
)

// Totals are a listener's running totals, shared by its sessions and
// updated atomically. They only grow (Prometheus counters read them).
type Totals struct {
	MsgsIn, BytesIn   atomic.Uint64
	MsgsOut, BytesOut atomic.Uint64 // frames and bytes written, control frames included
	SlowCloses        atomic.Uint64 // sessions closed with 1013 on queue overflow
	Drops             atomic.Uint64 // frames lost: queue overflow, failed or timed-out write
	Closes            CloseCounts   // closes the gateway started, by code
}

// CloseCounts count the closes the gateway starts (not the peer's closes
// it echoes), by close code: protocol errors (1002, 1007, 1009), limits
// (1008, 1013), replacements (4001), refusals (4008), shutdown (1001)
// and the operator's. At most one entry per code (1000–4999). Safe for
// concurrent use.
type CloseCounts struct {
	mu     sync.Mutex // guards byCode
	byCode map[ws.StatusCode]uint64
}

// Add counts one close with code.
func (c *CloseCounts) Add(code ws.StatusCode) {
	c.mu.Lock()
	if c.byCode == nil {
		c.byCode = make(map[ws.StatusCode]uint64)
	}
	c.byCode[code]++
	c.mu.Unlock()
}

// Get returns the count of one code.
func (c *CloseCounts) Get(code ws.StatusCode) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byCode[code]
}

// ByCode returns the counts keyed by the code in decimal ("1013").
func (c *CloseCounts) ByCode() map[string]uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]uint64, len(c.byCode))
	for code, n := range c.byCode {
		out[strconv.Itoa(int(code))] = n
	}
	return out
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
