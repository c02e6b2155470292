package session

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/gobwas/ws"
)

// EventType says what happened to a session.
type EventType int

// Event types.
const (
	Connected EventType = iota + 1
	Disconnected
)

// Event is a connect or disconnect, as WatchSessions streams them.
type Event struct {
	Type   EventType
	Time   time.Time
	Info   Info
	Code   ws.StatusCode // Disconnected: the close code (1006: connection lost)
	Reason string
}

// Entry is one registered client: a *Session (one WebSocket), or a client
// whose life spans several transports, such as a Socket.IO client (HTTP
// long-polling requests, then perhaps a WebSocket). Its Info().ID is fixed.
type Entry interface {
	Info() Info
	Snapshot() Snapshot
	// Close ends the client with a WebSocket close code and reason (a
	// transport without close codes maps them as best it can).
	Close(code ws.StatusCode, reason string)
	// CloseStatus is the code and reason once closing (zero before).
	CloseStatus() (ws.StatusCode, string)
}

var _ Entry = (*Session)(nil)

// Registry indexes live sessions by id and device identity, and tells
// watchers about connects and disconnects.
type Registry struct {
	mu       sync.RWMutex          // guards the maps below
	byID     map[string]Entry      // every live session
	byDevice map[string]*Session   // device sessions by identity
	watchers map[*watcher]struct{} // event subscribers, called under mu
}

type watcher struct{ fn func(Event) }

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{
		byID:     make(map[string]Entry),
		byDevice: make(map[string]*Session),
		watchers: make(map[*watcher]struct{}),
	}
}

// Add registers e. For a device identity already connected it returns the
// older session, which the caller closes with CodeReplaced.
func (r *Registry) Add(e Entry) (replaced *Session) {
	info := e.Info()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.byID[info.ID] = e
	if s, ok := e.(*Session); ok && info.Role == RoleDevice {
		replaced = r.byDevice[info.Identity]
		r.byDevice[info.Identity] = s
	}
	if len(r.watchers) > 0 {
		r.notifyLocked(Event{Type: Connected, Time: time.Now(), Info: info})
	}
	return replaced
}

// Remove unregisters e; it reports false if e was not registered.
func (r *Registry) Remove(e Entry) bool {
	code, reason := e.CloseStatus()
	info := e.Info()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byID[info.ID] != e {
		return false
	}
	delete(r.byID, info.ID)
	if s, ok := e.(*Session); ok && info.Role == RoleDevice && r.byDevice[info.Identity] == s {
		delete(r.byDevice, info.Identity)
	}
	if len(r.watchers) > 0 {
		r.notifyLocked(Event{Type: Disconnected, Time: time.Now(), Info: info, Code: code, Reason: reason})
	}
	return true
}

// Get finds a session by id.
func (r *Registry) Get(id string) (Entry, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	s, ok := r.byID[id]
	return s, ok
}

// Device finds the live session of a device identity.
func (r *Registry) Device(identity string) (*Session, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	s, ok := r.byDevice[identity]
	return s, ok
}

// List returns the sessions keep accepts (all if keep is nil), oldest
// first, ties by id: a stable order for paging.
func (r *Registry) List(keep func(Entry) bool) []Entry {
	type keyed struct {
		e  Entry
		at time.Time
		id string
	}
	r.mu.RLock()
	all := make([]keyed, 0, len(r.byID))
	for id, e := range r.byID {
		if keep == nil || keep(e) {
			all = append(all, keyed{e, connectedAt(e), id})
		}
	}
	r.mu.RUnlock()
	slices.SortFunc(all, func(a, b keyed) int { return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.id, b.id)) })
	out := make([]Entry, len(all))
	for i, k := range all {
		out[i] = k.e
	}
	return out
}

// connectedAt reads a session's start without copying its Info.
func connectedAt(e Entry) time.Time {
	if s, ok := e.(*Session); ok {
		return s.info.ConnectedAt
	}
	return e.Info().ConnectedAt
}

// Len returns the number of live sessions.
func (r *Registry) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.byID)
}

// CloseAll sends code and reason to every live session.
func (r *Registry) CloseAll(code ws.StatusCode, reason string) int {
	all := r.List(nil)
	for _, s := range all {
		s.Close(code, reason)
	}
	return len(all)
}

// WaitEmpty waits until no session is registered or ctx ends; it polls,
// as it runs once, at shutdown.
func (r *Registry) WaitEmpty(ctx context.Context) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for r.Len() > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// Watch calls fn for every connect and disconnect, in order, until cancel
// returns; no call happens after that. fn runs under the registry's lock,
// so it must not block and must not call the registry (copy the event
// into a bounded buffer of its own and say so when that overflows).
func (r *Registry) Watch(fn func(Event)) (cancel func()) {
	w := &watcher{fn: fn}
	r.mu.Lock()
	r.watchers[w] = struct{}{}
	r.mu.Unlock()
	return func() {
		r.mu.Lock()
		delete(r.watchers, w)
		r.mu.Unlock()
	}
}

func (r *Registry) notifyLocked(e Event) {
	for w := range r.watchers {
		w.fn(e)
	}
}
