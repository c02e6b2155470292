package certs

import (
	"container/list"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"
)

// DefaultNameLogSize is the number of names a NameLog keeps when
// NewNameLog is given 0.
const DefaultNameLogSize = 1024

// DefaultNameWindow is how far back a reload looks for names clients used
// when Store.SetNameLog is given a zero window.
const DefaultNameWindow = 24 * time.Hour

// NameUse is one name (an SNI name, or an IP dialled without SNI) that
// clients used in successful handshakes.
type NameUse struct {
	Name     string
	Count    uint64
	LastSeen time.Time
}

// NameLog remembers the names clients used in successful handshakes, with
// a count and the last time seen. It is bounded: when full, the name seen
// least recently is forgotten. It is safe for concurrent use; one mutex
// guards every field.
type NameLog struct {
	mu    sync.Mutex
	max   int
	byKey map[string]*list.Element // name → element of order
	order *list.List               // of *NameUse, most recently seen first
}

// NewNameLog returns a log that keeps at most max names (0: 1024).
func NewNameLog(max int) *NameLog {
	if max <= 0 {
		max = DefaultNameLogSize
	}
	return &NameLog{max: max, byKey: make(map[string]*list.Element, max), order: list.New()}
}

// Record counts one handshake that used name at now. Names are compared
// as given (pass normalised names, as Coverage returns them); "" is
// ignored. It does not allocate when name is already known.
func (l *NameLog) Record(name string, now time.Time) {
	if name == "" {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.byKey[name]; ok {
		u := e.Value.(*NameUse)
		u.Count++
		u.LastSeen = now
		l.order.MoveToFront(e)
		return
	}
	if l.order.Len() >= l.max {
		old := l.order.Back()
		delete(l.byKey, old.Value.(*NameUse).Name)
		l.order.Remove(old)
	}
	name = strings.Clone(name) // do not pin the caller's buffer
	l.byKey[name] = l.order.PushFront(&NameUse{Name: name, Count: 1, LastSeen: now})
}

// RecordHandshake records the name of one successful handshake: the SNI
// (normalised) if the client sent one, else the local IP it dialled
// (IPv4-mapped IPv6 as IPv4). It does not allocate for a known name sent
// in lower case, nor for a known IP.
func (l *NameLog) RecordHandshake(sni string, localIP net.IP, now time.Time) {
	if sni != "" {
		l.Record(normalSNI(sni), now)
		return
	}
	a, ok := netip.AddrFromSlice(localIP)
	if !ok {
		return
	}
	var buf [64]byte
	key := a.Unmap().AppendTo(buf[:0])
	l.mu.Lock()
	e, known := l.byKey[string(key)] // no allocation for the lookup
	if known {
		u := e.Value.(*NameUse)
		u.Count++
		u.LastSeen = now
		l.order.MoveToFront(e)
	}
	l.mu.Unlock()
	if !known {
		l.Record(string(key), now)
	}
}

// Recent returns the names seen at or after since (copies), roughly most
// recently seen first.
func (l *NameLog) Recent(since time.Time) []NameUse {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []NameUse
	for e := l.order.Front(); e != nil; e = e.Next() {
		u := e.Value.(*NameUse)
		if !u.LastSeen.Before(since) {
			out = append(out, *u)
		}
	}
	return out
}

// Len returns the number of names held.
func (l *NameLog) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.order.Len()
}

// Uncovered returns the uses whose name the bundle would not cover (see
// Covers), in the order given.
func (b *Bundle) Uncovered(uses []NameUse) []NameUse {
	var out []NameUse
	for _, u := range uses {
		if !b.Covers(u.Name) {
			out = append(out, u)
		}
	}
	return out
}

// FormatNameUse formats u for a refusal, relative to now:
//
//	"socket.example": 312 handshakes, last 2 min ago
func FormatNameUse(u NameUse, now time.Time) string {
	noun := "handshakes"
	if u.Count == 1 {
		noun = "handshake"
	}
	return fmt.Sprintf("%q: %d %s, last %s ago", u.Name, u.Count, noun, ago(now.Sub(u.LastSeen)))
}

// ago formats a duration coarsely: "12 s", "2 min", "5 h", "3 days".
func ago(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", max(0, int(d/time.Second)))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h", int(d/time.Hour))
	}
	return fmt.Sprintf("%d days", int(d/(24*time.Hour)))
}

// UncoveredNamesError refuses a reload whose new bundle stops covering
// names clients used recently. It wraps ErrNamesNoLongerCovered.
type UncoveredNamesError struct {
	// Names are the lost names, most recently seen first.
	Names []NameUse
	// Window is how far back the store looked.
	Window time.Duration
	// Now is when the reload was refused (for the "ago" of each name).
	Now time.Time
}

// ErrNamesNoLongerCovered: a reload would stop covering names clients
// used within the store's name window (see Store.SetNameLog).
var ErrNamesNoLongerCovered = errors.New("certs: new certificates stop covering names clients use")

// Error names every lost name with its count, on one line.
func (e *UncoveredNamesError) Error() string {
	return fmt.Sprintf("%v in the last %s: %s (force the reload to apply it anyway)",
		ErrNamesNoLongerCovered, windowText(e.Window), e.list())
}

// list formats the names as "a": n handshakes, last …; "b": …
func (e *UncoveredNamesError) list() string {
	parts := make([]string, len(e.Names))
	for i, u := range e.Names {
		parts[i] = FormatNameUse(u, e.Now)
	}
	return strings.Join(parts, "; ")
}

// Unwrap returns ErrNamesNoLongerCovered.
func (e *UncoveredNamesError) Unwrap() error { return ErrNamesNoLongerCovered }

// windowText formats a window: "24h", "90m".
func windowText(d time.Duration) string {
	if d >= time.Hour && d%time.Hour == 0 {
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return d.String()
}

// lostNames returns the names of uses covered by old but not by nb.
func lostNames(old, nb *Bundle, uses []NameUse) []NameUse {
	lost := nb.Uncovered(uses)
	return slices.DeleteFunc(lost, func(u NameUse) bool { return !old.Covers(u.Name) })
}
