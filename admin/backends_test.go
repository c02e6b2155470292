package admin

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Simple, honest in-memory backends for the tests: they keep real state and enforce the
// contracts documented on the interfaces (NOT_FOUND, queue limits, invalid patterns).

// memCerts is a certificate store over tls.X509KeyPair.
type memCerts struct {
	mu     sync.Mutex
	bundle CertificateBundle
}

var _ Certificates = (*memCerts)(nil)

func newMemCerts(certPEM, keyPEM []byte) (*memCerts, error) {
	infos, err := parsePair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	return &memCerts{bundle: CertificateBundle{Generation: 1, LoadedAt: time.Now(), Certificates: infos}}, nil
}

func parsePair(certPEM, keyPEM []byte) ([]CertificateInfo, error) {
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, Invalid(fmt.Errorf("load key pair: %w", err))
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return nil, Invalid(fmt.Errorf("parse certificate: %w", err))
	}
	info := CertificateInfoOf(leaf)
	info.ChainLength = len(pair.Certificate)
	return []CertificateInfo{info}, nil
}

func (m *memCerts) Certificates(context.Context) (CertificateBundle, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.bundle, nil
}

func (m *memCerts) ReloadCertificates(_ context.Context, r ReloadRequest) (ReloadResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	infos := m.bundle.Certificates // "re-read from disk": unchanged files
	if r.CertPEM != nil {
		var err error
		if infos, err = parsePair(r.CertPEM, r.KeyPEM); err != nil {
			return ReloadResult{}, fmt.Errorf("reload certificates: %w", err)
		}
	}
	if r.DryRun {
		return ReloadResult{Generation: m.bundle.Generation, Certificates: infos}, nil
	}
	m.bundle = CertificateBundle{Generation: m.bundle.Generation + 1, LoadedAt: time.Now(), Certificates: infos}
	return ReloadResult{Generation: m.bundle.Generation, Certificates: infos}, nil
}

// memSessions is a session registry with per-session outboxes and watchers.
type memSessions struct {
	mu       sync.Mutex
	sessions map[string]*memSession
	watchers map[int]func(SessionEvent)
	nextW    int
	queueCap int
}

type memSession struct {
	info   SessionInfo
	outbox []Frame
	closed int // close code once closed
}

var _ Sessions = (*memSessions)(nil)

func newMemSessions() *memSessions {
	return &memSessions{sessions: map[string]*memSession{}, watchers: map[int]func(SessionEvent){}, queueCap: 4}
}

// connect adds a session and notifies the watchers.
func (m *memSessions) connect(s SessionInfo) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sessions[s.ID] = &memSession{info: s}
	m.emit(SessionEvent{Type: EventConnected, Time: time.Now(), Session: s})
}

// emit calls every watcher; m.mu is held, which serializes the calls.
func (m *memSessions) emit(e SessionEvent) {
	for _, fn := range m.watchers {
		fn(e)
	}
}

func (m *memSessions) watcherCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.watchers)
}

func (m *memSessions) ListSessions(_ context.Context, f SessionFilter) ([]SessionInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []SessionInfo
	for _, s := range m.sessions {
		if f.Match(s.info) {
			out = append(out, s.info)
		}
	}
	return out, nil
}

func (m *memSessions) Session(_ context.Context, id string) (SessionInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[id]
	if !ok {
		return SessionInfo{}, fmt.Errorf("get session %q: %w", id, ErrNotFound)
	}
	s.info.QueueLen = len(s.outbox)
	return s.info, nil
}

func (m *memSessions) CloseSession(_ context.Context, id string, code int, reason string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.closeLocked(id, code, reason)
}

func (m *memSessions) closeLocked(id string, code int, reason string) error {
	s, ok := m.sessions[id]
	if !ok {
		return fmt.Errorf("close session %q: %w", id, ErrNotFound)
	}
	delete(m.sessions, id)
	s.closed = code
	m.emit(SessionEvent{Type: EventDisconnected, Time: time.Now(), Session: s.info, CloseCode: code, Reason: reason})
	return nil
}

func (m *memSessions) SendToSession(_ context.Context, id string, f Frame) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[id]
	if !ok {
		return fmt.Errorf("send to session %q: %w", id, ErrNotFound)
	}
	if len(s.outbox) >= m.queueCap {
		return fmt.Errorf("send to session %q: queue full (%d frames): %w", id, m.queueCap, ErrResourceExhausted)
	}
	s.outbox = append(s.outbox, f)
	return nil
}

func (m *memSessions) outbox(id string) []Frame {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s, ok := m.sessions[id]; ok {
		return append([]Frame(nil), s.outbox...)
	}
	return nil
}

func (m *memSessions) WatchSessions(_ context.Context, fn func(SessionEvent)) (func(), error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	id := m.nextW
	m.nextW++
	m.watchers[id] = fn
	return func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		delete(m.watchers, id)
	}, nil
}

func (m *memSessions) ReconnectSessions(ctx context.Context, r ReconnectRequest) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for id, s := range m.sessions {
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		if s.info.CertGeneration < r.BelowGeneration && (r.Listener == "" || r.Listener == s.info.Listener) {
			if err := m.closeLocked(id, 1012, "certificate reloaded"); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// memHub is a pub/sub hub with MQTT-style patterns.
type memHub struct {
	mu   sync.Mutex
	subs map[int]memSub
	next int
}

type memSub struct {
	pattern string
	fn      func(Message)
}

var _ Messages = (*memHub)(nil)

func newMemHub() *memHub { return &memHub{subs: map[int]memSub{}} }

func (h *memHub) Publish(_ context.Context, m Message) (int, error) {
	if strings.ContainsAny(m.Channel, "+#") {
		return 0, fmt.Errorf("publish: channel %q has wildcards: %w", m.Channel, ErrInvalidArgument)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, s := range h.subs {
		if matchPattern(s.pattern, m.Channel) {
			s.fn(m)
			n++
		}
	}
	return n, nil
}

func (h *memHub) Subscribe(_ context.Context, pattern string, fn func(Message)) (func(), error) {
	if i := strings.Index(pattern, "#"); i >= 0 && i != len(pattern)-1 {
		return nil, fmt.Errorf("subscribe %q: # must be the last level: %w", pattern, ErrInvalidArgument)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	id := h.next
	h.next++
	h.subs[id] = memSub{pattern: pattern, fn: fn}
	return func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(h.subs, id)
	}, nil
}

func (h *memHub) subCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// matchPattern is MQTT matching: "+" one level, "#" the rest.
func matchPattern(pattern, channel string) bool {
	p, c := strings.Split(pattern, "/"), strings.Split(channel, "/")
	for i, lvl := range p {
		switch {
		case lvl == "#":
			return true
		case i >= len(c):
			return false
		case lvl != "+" && lvl != c[i]:
			return false
		}
	}
	return len(p) == len(c)
}

// memStats serves a fixed snapshot and failure list.
type memStats struct {
	snap     StatsSnapshot
	failures []Failure // newest first
	err      error
}

var _ Stats = (*memStats)(nil)

func (m *memStats) Stats(context.Context) (StatsSnapshot, error) { return m.snap, m.err }

func (m *memStats) Failures(_ context.Context, f FailureFilter) ([]Failure, error) {
	var out []Failure
	for _, x := range m.failures {
		if f.Match(x) {
			out = append(out, x)
		}
	}
	return out, m.err
}
