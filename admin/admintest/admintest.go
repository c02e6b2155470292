// Package admintest holds in-memory backends for admin's interfaces, for
// the tests of the admin server and of wssgatectl. They keep real state and
// honour the interfaces' contracts (NOT_FOUND for unknown ids,
// INVALID_ARGUMENT for bad bundles and patterns, RESOURCE_EXHAUSTED for a
// full queue), so that the server and the CLI are tested against behaviour,
// not canned answers. The gateway's own backends are tested end to end in
// cmd/wssgate.
package admintest

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/wssgate/wssgate/admin"
	"github.com/wssgate/wssgate/gateway/certs"
)

// Certs is a certificate store over tls.X509KeyPair.
type Certs struct {
	// LostNames, when set, refuses every reload that is neither a dry run nor
	// forced, as the gateway refuses one that stops covering names clients
	// use; a dry run and a forced reload carry it as a warning. Set it
	// before use.
	LostNames string

	mu     sync.Mutex
	bundle admin.CertificateBundle
	files  [2]string
}

var _ admin.Certificates = (*Certs)(nil)

// NewCerts serves the pair as generation 1. certFile and keyFile are the
// paths the bundle reports (the store reads nothing from disk).
func NewCerts(certPEM, keyPEM []byte, certFile, keyFile string) (*Certs, error) {
	c := &Certs{files: [2]string{certFile, keyFile}}
	infos, err := c.describe(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	c.bundle = admin.CertificateBundle{Generation: 1, LoadedAt: time.Now(), Certificates: infos}
	return c, nil
}

func (c *Certs) describe(certPEM, keyPEM []byte) ([]admin.CertificateInfo, error) {
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, admin.Invalid(fmt.Errorf("load key pair: %w", err))
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return nil, admin.Invalid(fmt.Errorf("parse certificate: %w", err))
	}
	sum := sha256.Sum256(leaf.Raw)
	info := admin.CertificateInfo{
		Subject: leaf.Subject.String(), DNSNames: leaf.DNSNames, Issuer: leaf.Issuer.String(),
		Serial: leaf.SerialNumber.Text(16), NotBefore: leaf.NotBefore, NotAfter: leaf.NotAfter,
		SHA256Fingerprint: hex.EncodeToString(sum[:]), KeyType: certs.KeyType(leaf.PublicKey),
		ChainLength: len(pair.Certificate),
	}
	for _, ip := range leaf.IPAddresses {
		info.IPAddresses = append(info.IPAddresses, ip.String())
	}
	info.CertFile, info.KeyFile = c.files[0], c.files[1]
	return []admin.CertificateInfo{info}, nil
}

// Update changes the bundle served now, e.g. to add warnings.
func (c *Certs) Update(fn func(*admin.CertificateBundle)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fn(&c.bundle)
}

// Generation returns the generation served now.
func (c *Certs) Generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bundle.Generation
}

// Certificates implements admin.Certificates.
func (c *Certs) Certificates(context.Context) (admin.CertificateBundle, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bundle, nil
}

// ReloadCertificates implements admin.Certificates: without PEM it
// "re-reads" unchanged files; a dry run changes nothing.
func (c *Certs) ReloadCertificates(_ context.Context, r admin.ReloadRequest) (admin.ReloadResult, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	infos := c.bundle.Certificates
	if r.CertPEM != nil {
		var err error
		if infos, err = c.describe(r.CertPEM, r.KeyPEM); err != nil {
			return admin.ReloadResult{}, fmt.Errorf("reload certificates: %w", err)
		}
	}
	var warnings []string
	if c.LostNames != "" {
		if !r.DryRun && !r.Force {
			return admin.ReloadResult{}, admin.Invalid(fmt.Errorf("certs: new certificates stop covering names clients use: %s", c.LostNames))
		}
		warnings = []string{"the new certificates stop covering names clients used: " + c.LostNames}
	}
	if r.DryRun {
		return admin.ReloadResult{Generation: c.bundle.Generation, Certificates: infos, Warnings: warnings}, nil
	}
	c.bundle.Generation++
	c.bundle.LoadedAt, c.bundle.Certificates = time.Now(), infos
	return admin.ReloadResult{Generation: c.bundle.Generation, Certificates: infos, Warnings: warnings}, nil
}

// Closed records how a session was closed.
type Closed struct {
	Code   int
	Reason string
}

// Sessions is a session registry with outboxes, close records and
// watchers.
type Sessions struct {
	// QueueCap bounds each outbox (frames); 0: unbounded. Set it before use.
	QueueCap int

	mu       sync.Mutex
	sessions map[string]admin.SessionInfo
	outbox   map[string][]admin.Frame
	closed   map[string]Closed
	watchers map[int]func(admin.SessionEvent)
	nextW    int
}

var _ admin.Sessions = (*Sessions)(nil)

// NewSessions returns an empty registry.
func NewSessions() *Sessions {
	return &Sessions{
		sessions: map[string]admin.SessionInfo{}, outbox: map[string][]admin.Frame{},
		closed: map[string]Closed{}, watchers: map[int]func(admin.SessionEvent){},
	}
}

// Connect adds a session and tells the watchers.
func (m *Sessions) Connect(s admin.SessionInfo) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sessions[s.ID] = s
	m.emitLocked(admin.SessionEvent{Type: admin.EventConnected, Time: time.Now(), Session: s})
}

// emitLocked calls the watchers; m.mu is held, which serializes the calls.
func (m *Sessions) emitLocked(e admin.SessionEvent) {
	for _, fn := range m.watchers {
		fn(e)
	}
}

// ListSessions implements admin.Sessions.
func (m *Sessions) ListSessions(_ context.Context, f admin.SessionFilter) ([]admin.SessionInfo, error) {
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

// Session implements admin.Sessions.
func (m *Sessions) Session(_ context.Context, id string) (admin.SessionInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[id]
	if !ok {
		return admin.SessionInfo{}, fmt.Errorf("session %s: %w", id, admin.ErrNotFound)
	}
	s.QueueLen = len(m.outbox[id])
	return s, nil
}

// CloseSession implements admin.Sessions.
func (m *Sessions) CloseSession(_ context.Context, id string, code int, reason string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.closeLocked(id, code, reason)
}

// CloseIdentity implements admin.Sessions.
func (m *Sessions) CloseIdentity(_ context.Context, identity string, code int, reason string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ids []string
	for id, s := range m.sessions {
		if s.Identity == identity {
			ids = append(ids, id)
		}
	}
	for _, id := range ids {
		if err := m.closeLocked(id, code, reason); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

func (m *Sessions) closeLocked(id string, code int, reason string) error {
	s, ok := m.sessions[id]
	if !ok {
		return fmt.Errorf("session %s: %w", id, admin.ErrNotFound)
	}
	delete(m.sessions, id)
	m.closed[id] = Closed{code, reason}
	m.emitLocked(admin.SessionEvent{Type: admin.EventDisconnected, Time: time.Now(), Session: s, CloseCode: code, Reason: reason})
	return nil
}

// SendToSession implements admin.Sessions.
func (m *Sessions) SendToSession(_ context.Context, id string, f admin.Frame) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.sessions[id]; !ok {
		return fmt.Errorf("session %s: %w", id, admin.ErrNotFound)
	}
	if m.QueueCap > 0 && len(m.outbox[id]) >= m.QueueCap {
		return fmt.Errorf("send to session %s: queue full (%d frames): %w", id, m.QueueCap, admin.ErrResourceExhausted)
	}
	m.outbox[id] = append(m.outbox[id], f)
	return nil
}

// WatchSessions implements admin.Sessions.
func (m *Sessions) WatchSessions(_ context.Context, fn func(admin.SessionEvent)) (func(), error) {
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

// ReconnectSessions implements admin.Sessions: matching sessions close
// with 1012 at once.
func (m *Sessions) ReconnectSessions(ctx context.Context, r admin.ReconnectRequest) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for id, s := range m.sessions {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		if s.CertGeneration < r.BelowGeneration && (r.Listener == "" || r.Listener == s.Listener) {
			if err := m.closeLocked(id, 1012, "certificate reloaded"); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// WatcherCount returns the number of live watches.
func (m *Sessions) WatcherCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.watchers)
}

// ClosedAs reports how session id was closed, if it was.
func (m *Sessions) ClosedAs(id string) (Closed, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.closed[id]
	return c, ok
}

// Outbox returns the frames sent to session id.
func (m *Sessions) Outbox(id string) []admin.Frame {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]admin.Frame(nil), m.outbox[id]...)
}

// Hub is a pub/sub hub with MQTT patterns that records what was
// published.
type Hub struct {
	mu        sync.Mutex
	subs      map[int]sub
	next      int
	published []admin.Message
}

type sub struct {
	pattern string
	fn      func(admin.Message)
}

var _ admin.Messages = (*Hub)(nil)

// NewHub returns a hub without subscribers.
func NewHub() *Hub { return &Hub{subs: map[int]sub{}} }

// Publish implements admin.Messages.
func (h *Hub) Publish(_ context.Context, m admin.Message) (int, error) {
	if strings.ContainsAny(m.Channel, "+#") {
		return 0, fmt.Errorf("publish: channel %q has wildcards: %w", m.Channel, admin.ErrInvalidArgument)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.published = append(h.published, m)
	n := 0
	for _, s := range h.subs {
		if Match(s.pattern, m.Channel) {
			s.fn(m)
			n++
		}
	}
	return n, nil
}

// Subscribe implements admin.Messages.
func (h *Hub) Subscribe(_ context.Context, pattern string, fn func(admin.Message)) (func(), error) {
	if i := strings.Index(pattern, "#"); i >= 0 && i != len(pattern)-1 {
		return nil, fmt.Errorf("subscribe %q: # must be the last level: %w", pattern, admin.ErrInvalidArgument)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	id := h.next
	h.next++
	h.subs[id] = sub{pattern: pattern, fn: fn}
	return func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(h.subs, id)
	}, nil
}

// SubCount returns the number of live subscriptions.
func (h *Hub) SubCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// Published returns every message published so far.
func (h *Hub) Published() []admin.Message {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]admin.Message(nil), h.published...)
}

// Match is MQTT matching: "+" one level, "#" the rest.
func Match(pattern, channel string) bool {
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

// Stats serves a fixed snapshot and failure history; set the fields
// before use or between calls, not during one.
type Stats struct {
	Snap    admin.StatsSnapshot
	History []admin.Failure // newest first
	Err     error           // returned by both methods when set
}

var _ admin.Stats = (*Stats)(nil)

// Stats implements admin.Stats.
func (m *Stats) Stats(context.Context) (admin.StatsSnapshot, error) { return m.Snap, m.Err }

// Failures implements admin.Stats.
func (m *Stats) Failures(_ context.Context, f admin.FailureFilter) ([]admin.Failure, error) {
	var out []admin.Failure
	for _, x := range m.History {
		if f.Match(x) {
			out = append(out, x)
		}
	}
	return out, m.Err
}

// Names serves a fixed list of names clients used; set Uses before use.
type Names struct {
	Uses []admin.NameUse // most recently seen first
}

var _ admin.Names = (*Names)(nil)

// Names implements admin.Names: the uses seen within within (0: all).
func (m *Names) Names(_ context.Context, within time.Duration) ([]admin.NameUse, error) {
	var out []admin.NameUse
	for _, u := range m.Uses {
		if within == 0 || time.Since(u.LastSeen) <= within {
			out = append(out, u)
		}
	}
	return out, nil
}
