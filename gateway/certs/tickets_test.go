package certs_test

import (
	"crypto/tls"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wssgate/wssgate/gateway/certs"
	"github.com/wssgate/wssgate/gateway/certs/certstest"
)

func TestSessionTickets(t *testing.T) {
	ca := certstest.NewCA(t, "Test Root")
	start := time.Now()
	var offset atomic.Int64 // the injected clock: start + offset
	now := func() time.Time { return start.Add(time.Duration(offset.Load())) }
	advance := func(d time.Duration) { offset.Add(int64(d)) }
	s := newStore(t, serverLeaf(t, ca), certs.Options{Now: now})
	srv := serve(t, s.TLSConfig(appProfile))
	client := func() *tls.Config {
		cc := clientConfig(ca, "example.com")
		cc.ClientSessionCache = tls.NewLRUClientSessionCache(4)
		return cc
	}
	resumed := func(cc *tls.Config) bool { return mustDial(t, srv.addr, cc).ConnectionState().DidResume }

	t.Run("resumption within a bundle", func(t *testing.T) {
		cc := client()
		if resumed(cc) {
			t.Fatal("first dial resumed")
		}
		if !resumed(cc) {
			t.Fatal("second dial: full handshake, want resumed")
		}
	})
	t.Run("a reload forces a full handshake", func(t *testing.T) {
		cc := client()
		resumed(cc)
		if _, err := s.Reload(certs.Source{}, certs.ReloadOptions{}); err != nil {
			t.Fatal(err)
		}
		if resumed(cc) {
			t.Fatal("after a reload: resumed a ticket of the old bundle, want a full handshake")
		}
		if !resumed(cc) {
			t.Fatal("after a reload: the new bundle's ticket did not resume")
		}
	})
	t.Run("keys rotate every 24h and expire after 7 days", func(t *testing.T) {
		old, dayOld := client(), client()
		resumed(old) // tickets under the bundle's first key
		resumed(dayOld)
		advance(certs.TicketKeyRotation + time.Hour)
		mid := client()
		resumed(mid)          // the first handshake after the rotation: a ticket under the second key
		if !resumed(dayOld) { // (a resumption gets a new ticket: old is not dialled here)
			t.Fatal("a ticket of the day-old first key did not resume, want it still valid")
		}
		// 7 days after the first key: it is gone, the second key still decrypts.
		advance(certs.TicketKeyLifetime - certs.TicketKeyRotation)
		if resumed(old) {
			t.Fatal("a ticket of a key older than 7 days resumed, want a full handshake: keys do not rotate")
		}
		if !resumed(mid) {
			t.Fatal("a ticket of a 6-day-old key did not resume, want it still valid")
		}
	})
}
