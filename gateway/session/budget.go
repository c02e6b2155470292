package session

import (
	"strconv"
)

// Names of the limits a session can trip, as its sampled log lines key
// them.
const (
	limitBudget = "memory_budget"
	limitRate   = "rate_limit"
)

// FreeBytes is what each session may hold of a partial message, and of
// its outbound queue, outside the memory budget. Only bytes beyond it are
// charged, so that small, well-behaved sessions (a subscriber with a few
// frames queued, a device sending small messages) are never closed because
// others (attackers holding partial messages) filled the budget. What is
// held outside the budget is bounded by max_connections × 3 × FreeBytes
// (a read buffer, a queue and the batch being written).
const FreeBytes = 32 << 10

// excess is the part of held bytes that the budget is charged for.
func excess(held int) int64 { return int64(max(0, held-FreeBytes)) }

// chargeLocked takes the memory budget for a frame of n bytes to queue
// (only what pushes the queue past FreeBytes). If it does not fit, the
// queue is dropped and the session closes with 1013; it reports whether
// the frame may be queued.
func (s *Session) chargeLocked(n int) bool {
	need := excess(s.queued+n) - excess(s.queued)
	if need == 0 || s.limits.Budget.TryAcquire(need) {
		s.charged += need
		return true
	}
	s.lost(len(s.queue) + 1) // the queue and the frame that did not fit
	s.queue, s.queued = s.queue[:0], 0
	s.releaseLocked()
	s.limitHit(limitBudget, "memory budget exhausted by an outbound queue, closing", "frame_bytes", n)
	s.closeLocked(CodeTryAgainLater, "memory budget exceeded")
	return false
}

// releaseLocked gives back the budget held by the queue (the queue has
// been emptied or dropped).
func (s *Session) releaseLocked() {
	s.limits.Budget.Release(s.charged)
	s.charged = 0
}

// limitHit logs that the session tripped a limit, sampled by limit name
// when the listener samples.
func (s *Session) limitHit(name, msg string, args ...any) {
	if s.limits.Sample != nil && !s.limits.Sample.Allow(name) {
		return
	}
	s.log.Warn(msg, append([]any{"limit", name, "session", s.info.ID, "listener", s.info.Listener,
		"identity", s.info.Identity, "remote", s.info.RemoteAddr}, args...)...)
}

// budgetInUse formats the budget's use for a log line.
func (s *Session) budgetInUse() string {
	b := s.limits.Budget
	return strconv.FormatInt(b.InUse(), 10) + "/" + strconv.FormatInt(b.Total(), 10)
}
