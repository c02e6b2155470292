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

// Registry indexes live sessions by id and device identity, and tells
// watchers about connects and disconnects.
type Registry struct {
	mu       sync.RWMutex          // guards the maps below
	byID     map[string]*Session   // every live session
	byDevice map[string]*Session   // device sessions by identity
	watchers map[*watcher]struct{} // event subscribers, called under mu
}

type watcher struct{ fn func(Event) }

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{
		byID:     make(map[string]*Session),
		byDevice: make(map[string]*Session),
		watchers: make(map[*watcher]struct{}),
	}
}

// Add registers s. For a device identity already connected it returns the
// older session, which the caller closes with CodeReplaced.
func (r *Registry) Add(s *Session) (replaced *Session) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.byID[s.info.ID] = s
	if s.info.Role == RoleDevice {
		replaced = r.byDevice[s.info.Identity]
		r.byDevice[s.info.Identity] = s
	}
	if len(r.watchers) > 0 {
		r.notifyLocked(Event{Type: Connected, Time: time.Now(), Info: s.info})
	}
	return replaced
}

// Remove unregisters s; it reports false if s was not registered.
func (r *Registry) Remove(s *Session) bool {
	code, reason := s.CloseStatus()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byID[s.info.ID] != s {
		return false
	}
	delete(r.byID, s.info.ID)
	if s.info.Role == RoleDevice && r.byDevice[s.info.Identity] == s {
		delete(r.byDevice, s.info.Identity)
	}
	if len(r.watchers) > 0 {
		r.notifyLocked(Event{Type: Disconnected, Time: time.Now(), Info: s.info, Code: code, Reason: reason})
	}
	return true
}

// Get finds a session by id.
func (r *Registry) Get(id string) (*Session, bool) {
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
func (r *Registry) List(keep func(*Session) bool) []*Session {
	r.mu.RLock()
	out := make([]*Session, 0, len(r.byID))
	for _, s := range r.byID {
		if keep == nil || keep(s) {
			out = append(out, s)
		}
	}
	r.mu.RUnlock()
	slices.SortFunc(out, func(a, b *Session) int {
		return cmp.Or(a.info.ConnectedAt.Compare(b.info.ConnectedAt), cmp.Compare(a.info.ID, b.info.ID))
	})
	return out
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
