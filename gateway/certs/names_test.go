package certs_test

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wssgate/wssgate/gateway/certs"
	"github.com/wssgate/wssgate/gateway/certs/certstest"
)

func TestNameLog(t *testing.T) {
	l := certs.NewNameLog(3)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	l.Record("a.example", t0)
	l.Record("b.example", t0.Add(time.Second))
	l.Record("a.example", t0.Add(2*time.Second))
	l.RecordHandshake("", net.ParseIP("::ffff:127.0.0.2"), t0.Add(3*time.Second))
	l.RecordHandshake("", net.ParseIP("127.0.0.2"), t0.Add(4*time.Second))
	l.RecordHandshake("C.Example.", nil, t0.Add(5*time.Second)) // evicts b.example
	l.Record("", t0)
	got := fmt.Sprint(l.Recent(t0))
	want := fmt.Sprint([]certs.NameUse{
		{Name: "c.example", Count: 1, LastSeen: t0.Add(5 * time.Second)},
		{Name: "127.0.0.2", Count: 2, LastSeen: t0.Add(4 * time.Second)},
		{Name: "a.example", Count: 2, LastSeen: t0.Add(2 * time.Second)},
	})
	if got != want {
		t.Errorf("Recent:\ngot  %s\nwant %s", got, want)
	}
	if got := l.Recent(t0.Add(4 * time.Second)); len(got) != 2 {
		t.Errorf("Recent since +4s: got %v, want 2 names", got)
	}
	if l.Len() != 3 {
		t.Errorf("Len: got %d, want 3", l.Len())
	}
}

func TestNameLogBoundAndAllocs(t *testing.T) {
	l := certs.NewNameLog(0)
	now := time.Now()
	for i := range 2 * certs.DefaultNameLogSize {
		l.Record(fmt.Sprintf("n%d.example", i), now)
	}
	if l.Len() != certs.DefaultNameLogSize {
		t.Errorf("Len: got %d, want %d", l.Len(), certs.DefaultNameLogSize)
	}
	ip := net.ParseIP("127.0.0.1")
	l.RecordHandshake("", ip, now)
	l.Record("known.example", now)
	if n := testing.AllocsPerRun(100, func() { l.Record("known.example", now) }); n != 0 {
		t.Errorf("Record of a known name: %v allocations, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { l.RecordHandshake("", ip, now) }); n != 0 {
		t.Errorf("RecordHandshake of a known IP: %v allocations, want 0", n)
	}
}

func TestNameLogConcurrent(t *testing.T) {
	l := certs.NewNameLog(16)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				l.Record(fmt.Sprintf("n%d.example", (g*7+i)%32), time.Now())
				if i%50 == 0 {
					l.Recent(time.Time{})
				}
			}
		}()
	}
	wg.Wait()
	if l.Len() != 16 {
		t.Errorf("Len: got %d, want 16", l.Len())
	}
}

func TestFormatNameUse(t *testing.T) {
	now := time.Now()
	tests := []struct {
		use  certs.NameUse
		want string
	}{
		{certs.NameUse{Name: "socket.example", Count: 312, LastSeen: now.Add(-2*time.Minute - 5*time.Second)}, `"socket.example": 312 handshakes, last 2 min ago`},
		{certs.NameUse{Name: "127.0.0.1", Count: 1, LastSeen: now.Add(-12 * time.Second)}, `"127.0.0.1": 1 handshake, last 12 s ago`},
		{certs.NameUse{Name: "a.test", Count: 5, LastSeen: now.Add(-5 * time.Hour)}, `"a.test": 5 handshakes, last 5 h ago`},
		{certs.NameUse{Name: "a.test", Count: 5, LastSeen: now.Add(-72 * time.Hour)}, `"a.test": 5 handshakes, last 3 days ago`},
	}
	for _, tt := range tests {
		if got := certs.FormatNameUse(tt.use, now); got != tt.want {
			t.Errorf("got %s, want %s", got, tt.want)
		}
	}
}

// TestReloadKeepsUsedNames reloads a certificate that drops names clients
// used: refused, reported by a dry run, applied with Force.
func TestReloadKeepsUsedNames(t *testing.T) {
	ca := certstest.NewCA(t, "Test Root")
	old := ca.Issue(t, certstest.LeafOptions{DNS: []string{"localhost", "socket.example", "old.example"}, IPs: []net.IP{net.ParseIP("127.0.0.1")}})
	s := newStore(t, old, certs.Options{Hostnames: []string{"localhost"}})
	names := certs.NewNameLog(0)
	s.SetNameLog(names, 0)
	now := time.Now()
	for range 312 {
		names.RecordHandshake("socket.example", nil, now.Add(-2*time.Minute))
	}
	names.RecordHandshake("", net.ParseIP("127.0.0.1"), now.Add(-time.Hour))
	names.Record("old.example", now.Add(-25*time.Hour))  // outside the window
	names.Record("never.example", now.Add(-time.Minute)) // not covered before either
	names.Record("localhost", now)

	next := ca.Issue(t, certstest.LeafOptions{DNS: []string{"localhost"}})
	src := certs.Source{CertPEM: next.CertPEM, KeyPEM: next.KeyPEM}
	gen := s.Current().Generation

	_, err := s.Reload(src, certs.ReloadOptions{})
	var unc *certs.UncoveredNamesError
	if !errors.As(err, &unc) || !errors.Is(err, certs.ErrNamesNoLongerCovered) {
		t.Fatalf("reload: got %v, want *UncoveredNamesError", err)
	}
	msg := err.Error()
	for _, want := range []string{`"socket.example": 312 handshakes, last 2 min ago`, `"127.0.0.1": 1 handshake, last 1 h ago`, "last 24h"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not contain %q", msg, want)
		}
	}
	if strings.Contains(msg, "old.example") || strings.Contains(msg, "never.example") || len(unc.Names) != 2 {
		t.Errorf("error names %v, want socket.example and 127.0.0.1 only", unc.Names)
	}
	if s.Current().Generation != gen || !s.Current().Covers("socket.example") {
		t.Errorf("refused reload was installed")
	}

	dry, err := s.Reload(src, certs.ReloadOptions{DryRun: true})
	if err != nil || dry.Generation != 0 || len(dry.Warnings) != 1 || !strings.Contains(dry.Warnings[0], `"socket.example": 312 handshakes`) {
		t.Fatalf("dry run: got %v, %v; want one warning naming socket.example", dry, err)
	}
	if s.Current().Covers("socket.example") != true {
		t.Error("dry run installed the bundle")
	}

	forced, err := s.Reload(src, certs.ReloadOptions{Force: true})
	if err != nil || s.Current() != forced || s.Current().Covers("socket.example") || len(forced.Warnings) != 1 {
		t.Fatalf("forced reload: got %v, warnings %q; want installed with a warning", err, forced.Warnings)
	}

	// Configured hostnames are checked even when forced.
	bad := ca.Issue(t, certstest.LeafOptions{DNS: []string{"other.example"}})
	_, err = s.Reload(certs.Source{CertPEM: bad.CertPEM, KeyPEM: bad.KeyPEM}, certs.ReloadOptions{Force: true})
	if !errors.Is(err, certs.ErrHostnameNotCovered) {
		t.Errorf("forced reload dropping a configured hostname: got %v, want %v", err, certs.ErrHostnameNotCovered)
	}
}
