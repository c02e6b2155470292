package certs

import (
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Session ticket key rotation, as crypto/tls does for a Config without
// SetSessionTicketKeys: a new key every TicketKeyRotation encrypts the new
// tickets, and keys stay valid for decryption for TicketKeyLifetime.
const (
	TicketKeyRotation = 24 * time.Hour
	TicketKeyLifetime = 7 * 24 * time.Hour
)

// ticketRing is one bundle's session ticket keys. Each bundle has its own
// ring, so that a ticket of an older generation never resumes after a
// reload (the next handshake is a full one, with the new certificate and
// client CAs); within a bundle, keys rotate as crypto/tls's own do, so that
// a long-lived bundle does not keep one key (and its forward-secrecy
// exposure for TLS 1.2 tickets) for months.
type ticketRing struct {
	next atomic.Int64 // Unix nanoseconds of the next rotation: the handshake path reads only this

	mu      sync.Mutex  // guards keys and created; serializes rotations
	keys    [][32]byte  // newest first: keys[0] encrypts
	created []time.Time // created[i] is when keys[i] was made
}

// newTicketRing returns a ring with one fresh key made at now.
func newTicketRing(now time.Time) (*ticketRing, error) {
	r := &ticketRing{}
	k, err := newTicketKey()
	if err != nil {
		return nil, err
	}
	r.keys, r.created = [][32]byte{k}, []time.Time{now}
	r.next.Store(now.Add(TicketKeyRotation).UnixNano())
	return r, nil
}

func newTicketKey() ([32]byte, error) {
	var k [32]byte
	if _, err := rand.Read(k[:]); err != nil {
		return k, fmt.Errorf("session ticket key: %w", err)
	}
	return k, nil
}

// current returns the keys to set on a new config.
func (r *ticketRing) current() [][32]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][32]byte(nil), r.keys...)
}

// rotate adds a key and drops the expired ones when a rotation is due at
// now, and installs the keys in configs. The fast path (not due) is one
// atomic load; configs are safe to update while in use (crypto/tls guards
// its ticket keys with the Config's own mutex).
func (r *ticketRing) rotate(now time.Time, configs []*tls.Config) {
	if now.UnixNano() < r.next.Load() {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if now.UnixNano() < r.next.Load() {
		return // another handshake rotated first
	}
	k, err := newTicketKey()
	if err != nil {
		return // keep the current keys; retried on the next handshake
	}
	keys, created := [][32]byte{k}, []time.Time{now}
	for i, c := range r.created {
		if now.Sub(c) < TicketKeyLifetime {
			keys, created = append(keys, r.keys[i]), append(created, c)
		}
	}
	r.keys, r.created = keys, created
	for _, c := range configs {
		c.SetSessionTicketKeys(keys)
	}
	r.next.Store(now.Add(TicketKeyRotation).UnixNano())
}
