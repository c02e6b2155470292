package limit

import (
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of Flapping.
const (
	DefaultFlapMax        = 10
	DefaultFlapWindow     = time.Minute
	DefaultFlapHoldOff    = time.Minute
	DefaultFlapIdentities = 65536
)

// Flapping detects identities that keep replacing each other (two clients
// sharing one identity, a reconnect loop) as EMQX's flapping detection
// does: an identity replaced more than Max times within one Window (fixed
// windows starting at the first replacement) is held off for HoldOff: the
// gateway refuses its connects (4008) and logs it once. The table tracks
// at most DefaultFlapIdentities identities; expired entries are swept when
// it is full, and while it is still full new identities are not tracked
// (never held off). Safe for concurrent use.
type Flapping struct {
	max     int
	window  time.Duration
	holdOff time.Duration
	cap     int

	mu        sync.Mutex // guards byID and lastSweep
	byID      map[string]flapEntry
	lastSweep time.Time
	holdOffs  atomic.Uint64
}

type flapEntry struct {
	windowStart time.Time // start of the current window
	count       int       // replacements in it
	heldUntil   time.Time // zero, or the end of a hold-off
}

// NewFlapping returns a detector holding off an identity replaced more
// than max times within window for holdOff. Zero (or less) values take the
// defaults: 10, 1 min, 1 min.
func NewFlapping(max int, window, holdOff time.Duration) *Flapping {
	if max <= 0 {
		max = DefaultFlapMax
	}
	if window <= 0 {
		window = DefaultFlapWindow
	}
	if holdOff <= 0 {
		holdOff = DefaultFlapHoldOff
	}
	return &Flapping{max: max, window: window, holdOff: holdOff, cap: DefaultFlapIdentities,
		byID: make(map[string]flapEntry)}
}

// Replace records that a new session of identity replaces a live one at
// now. holdOff reports that identity is held off (the new connection
// should be refused with 4008); first is true for exactly one call per
// hold-off period, the one that started it (log it once).
func (f *Flapping) Replace(identity string, now time.Time) (holdOff, first bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.byID[identity]
	if ok && now.Before(e.heldUntil) {
		return true, false
	}
	if !ok || !e.heldUntil.IsZero() || now.Sub(e.windowStart) >= f.window {
		e = flapEntry{windowStart: now}
	}
	e.count++
	if e.count > f.max {
		e.heldUntil = now.Add(f.holdOff)
		holdOff, first = true, true
		f.holdOffs.Add(1)
	}
	if !ok && len(f.byID) >= f.cap && !f.sweep(now) {
		return false, false // full of live entries: do not track
	}
	f.byID[identity] = e
	return holdOff, first
}

// sweep deletes entries whose window and hold-off are over, at most once a
// second; it reports whether there is room afterwards.
func (f *Flapping) sweep(now time.Time) bool {
	if now.Sub(f.lastSweep) >= time.Second {
		f.lastSweep = now
		for id, e := range f.byID {
			if now.Sub(e.windowStart) >= f.window && !now.Before(e.heldUntil) {
				delete(f.byID, id)
			}
		}
	}
	return len(f.byID) < f.cap
}

// HeldOff reports whether identity is held off at now, without counting a
// replacement: for connects that replace nothing.
func (f *Flapping) HeldOff(identity string, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.byID[identity]
	return ok && now.Before(e.heldUntil)
}

// HoldOffs returns how many hold-off periods have begun.
func (f *Flapping) HoldOffs() uint64 { return f.holdOffs.Load() }

// Len returns the number of identities tracked now.
func (f *Flapping) Len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.byID)
}
