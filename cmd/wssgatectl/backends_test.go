package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/wssgate/wssgate/admin"
)

// Small in-memory backends that keep real state and honour the contracts of admin's
// interfaces (NOT_FOUND for unknown ids, INVALID_ARGUMENT for bad bundles and patterns).

// memCerts is a certificate store over tls.X509KeyPair.
type memCerts struct {
	mu     sync.Mutex
	bundle admin.CertificateBundle
}

var _ admin.Certificates = (*memCerts)(nil)

func newMemCerts(certPEM, keyPEM []byte) (*memCerts, error) {
	infos, err := describePair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	return &memCerts{bundle: admin.CertificateBundle{
		Generation: 1, LoadedAt: time.Now(), Certificates: infos,
		ClientCASubjects: []string{"CN=test client CA"}, Warnings: []string{"expires soon"},
	}}, nil
}

func describePair(certPEM, keyPEM []byte) ([]admin.CertificateInfo, error) {
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, admin.Invalid(fmt.Errorf("load key pair: %w", err))
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return nil, admin.Invalid(fmt.Errorf("parse certificate: %w", err))
	}
	info := admin.CertificateInfoOf(leaf)
	info.CertFile, info.KeyFile = "/etc/wssgate/tls.crt", "/etc/wssgate/tls.key"
	return []admin.CertificateInfo{info}, nil
}

func (m *memCerts) Certificates(context.Context) (admin.CertificateBundle, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.bundle, nil
}

func (m *memCerts) ReloadCertificates(_ context.Context, r admin.ReloadRequest) (admin.ReloadResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	infos := m.bundle.Certificates // "re-read from disk": the files did not change
	if r.CertPEM != nil {
		var err error
		if infos, err = describePair(r.CertPEM, r.KeyPEM); err != nil {
			return admin.ReloadResult{}, fmt.Errorf("reload certificates: %w", err)
		}
	}
	if r.DryRun {
		return admin.ReloadResult{Generation: m.bundle.Generation, Certificates: infos}, nil
	}
	m.bundle.Generation++
	m.bundle.LoadedAt, m.bundle.Certificates = time.Now(), infos
	return admin.ReloadResult{Generation: m.bundle.Generation, Certificates: infos}, nil
}

func (m *memCerts) generation() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.bundle.Generation
}

// closed records how a session was closed.
type closed struct {
	code   int
	reason string
}

// memSessions is a session registry with outboxes, close records and watchers.
type memSessions struct {
	mu       sync.Mutex
	sessions map[string]admin.SessionInfo
	outbox   map[string][]admin.Frame
	closed   map[string]closed
	watchers map[int]func(admin.SessionEvent)
	nextW    int
}

var _ admin.Sessions = (*memSessions)(nil)

func newMemSessions() *memSessions {
	return &memSessions{
		sessions: map[string]admin.SessionInfo{}, outbox: map[string][]admin.Frame{},
		closed: map[string]closed{}, watchers: map[int]func(admin.SessionEvent){},
	}
}

// connect adds a session and tells the watchers.
func (m *memSessions) connect(s admin.SessionInfo) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sessions[s.ID] = s
	m.emit(admin.SessionEvent{Type: admin.EventConnected, Time: time.Now(), Session: s})
}

// emit calls the watchers; m.mu is held, which serializes the calls.
func (m *memSessions) emit(e admin.SessionEvent) {
	for _, fn := range m.watchers {
		fn(e)
	}
}

func (m *memSessions) ListSessions(_ context.Context, f admin.SessionFilter) ([]admin.SessionInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []admin.SessionInfo
	for _, s := range m.sessions {
		if f.Match(s) {
			out = append(out, s)
		}
	}
	return out, nil
}

func (m *memSessions) Session(_ context.Context, id string) (admin.SessionInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[id]
	if !ok {
		return admin.SessionInfo{}, fmt.Errorf("session %s: %w", id, admin.ErrNotFound)
	}
	s.QueueLen = len(m.outbox[id])
	return s, nil
}

func (m *memSessions) CloseSession(_ context.Context, id string, code int, reason string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.closeLocked(id, code, reason)
}

func (m *memSessions) closeLocked(id string, code int, reason string) error {
	s, ok := m.sessions[id]
	if !ok {
		return fmt.Errorf("session %s: %w", id, admin.ErrNotFound)
	}
	delete(m.sessions, id)
	m.closed[id] = closed{code, reason}
	m.emit(admin.SessionEvent{Type: admin.EventDisconnected, Time: time.Now(), Session: s, CloseCode: code, Reason: reason})
	return nil
}

func (m *memSessions) SendToSession(_ context.Context, id string, f admin.Frame) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.sessions[id]; !ok {
		return fmt.Errorf("session %s: %w", id, admin.ErrNotFound)
	}
	m.outbox[id] = append(m.outbox[id], f)
	return nil
}

func (m *memSessions) WatchSessions(_ context.Context, fn func(admin.SessionEvent)) (func(), error) {
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

func (m *memSessions) ReconnectSessions(_ context.Context, r admin.ReconnectRequest) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for id, s := range m.sessions {
		if s.CertGeneration < r.BelowGeneration && (r.Listener == "" || r.Listener == s.Listener) {
			if err := m.closeLocked(id, 1012, "certificate reloaded"); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

func (m *memSessions) watcherCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.watchers)
}

func (m *memSessions) closedAs(id string) (closed, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.closed[id]
	return c, ok
}

func (m *memSessions) frames(id string) []admin.Frame {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]admin.Frame(nil), m.outbox[id]...)
}

// memHub is a pub/sub hub with MQTT patterns that records what was published.
type memHub struct {
	mu        sync.Mutex
	subs      map[int]memSub
	next      int
	published []admin.Message
}

type memSub struct {
	pattern string
	fn      func(admin.Message)
}

var _ admin.Messages = (*memHub)(nil)

func newMemHub() *memHub { return &memHub{subs: map[int]memSub{}} }

func (h *memHub) Publish(_ context.Context, m admin.Message) (int, error) {
	if strings.ContainsAny(m.Channel, "+#") {
		return 0, fmt.Errorf("publish: channel %q has wildcards: %w", m.Channel, admin.ErrInvalidArgument)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.published = append(h.published, m)
	n := 0
	for _, s := range h.subs {
		if matchPattern(s.pattern, m.Channel) {
			s.fn(m)
			n++
		}
	}
	return n, nil
}

func (h *memHub) Subscribe(_ context.Context, pattern string, fn func(admin.Message)) (func(), error) {
	if i := strings.Index(pattern, "#"); i >= 0 && i != len(pattern)-1 {
		return nil, fmt.Errorf("subscribe %q: # must be the last level: %w", pattern, admin.ErrInvalidArgument)
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

func (h *memHub) messages() []admin.Message {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]admin.Message(nil), h.published...)
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

// memStats serves a fixed snapshot and failure history.
type memStats struct {
	snap     admin.StatsSnapshot
	failures []admin.Failure // newest first
}

var _ admin.Stats = (*memStats)(nil)

func (m *memStats) Stats(context.Context) (admin.StatsSnapshot, error) { return m.snap, nil }

func (m *memStats) Failures(_ context.Context, f admin.FailureFilter) ([]admin.Failure, error) {
	var out []admin.Failure
	for _, x := range m.failures {
		if f.Match(x) {
			out = append(out, x)
		}
	}
	return out, nil
}
