package certs_test

import (
	"crypto/tls"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wssgate/wssgate/gateway/certs"
	"github.com/wssgate/wssgate/gateway/certs/certstest"
)

// coverStore serves a default certificate for localhost, example.com,
// 127.0.0.1 and ::1, and an SNI certificate for *.api.example.net.
func coverStore(t testing.TB) *certs.Store {
	t.Helper()
	ca := certstest.NewCA(t, "Cover Root")
	dir := t.TempDir()
	c1, k1 := ca.Issue(t, certstest.LeafOptions{
		CN: "localhost", DNS: []string{"localhost", "example.com"},
		IPs: []net.IP{net.ParseIP("127.0.0.1"), net.IPv6loopback},
	}).Write(t, dir, "a")
	c2, k2 := ca.Issue(t, certstest.LeafOptions{DNS: []string{"*.api.example.net"}}).Write(t, dir, "b")
	s, err := certs.NewStore(certs.Options{Pairs: []certs.Pair{{CertFile: c1, KeyFile: k1}, {CertFile: c2, KeyFile: k2}}})
	if err != nil {
		t.Fatalf("NewStore: %v", err)
	}
	return s
}

var (
	defaultSANs = []string{"DNS:localhost", "DNS:example.com", "IP:127.0.0.1", "IP:::1"}
	apiSANs     = []string{"DNS:*.api.example.net"}
)

func TestCoverage(t *testing.T) {
	b := coverStore(t).Current()
	tests := []struct {
		name     string
		sni      string
		local    net.IP
		covered  bool
		wantName string
		sans     []string
	}{
		{"exact", "localhost", nil, true, "localhost", defaultSANs},
		{"case and trailing dot", "Example.COM.", nil, true, "example.com", defaultSANs},
		{"unknown name", "socket.example", net.ParseIP("127.0.0.1"), false, "socket.example", defaultSANs},
		{"wildcard", "x.api.example.net", nil, true, "x.api.example.net", apiSANs},
		{"wildcard is one label", "a.b.api.example.net", nil, false, "a.b.api.example.net", defaultSANs},
		{"wildcard needs a label", "api.example.net", nil, false, "api.example.net", defaultSANs},
		{"empty label", ".api.example.net", nil, false, ".api.example.net", defaultSANs},
		{"IP literal SNI", "127.0.0.1", nil, true, "127.0.0.1", defaultSANs},
		{"no SNI, IP SAN", "", net.ParseIP("127.0.0.1"), true, "127.0.0.1", defaultSANs},
		{"no SNI, IPv4-mapped", "", net.ParseIP("::ffff:127.0.0.1"), true, "127.0.0.1", defaultSANs},
		{"no SNI, IPv6", "", net.IPv6loopback, true, "::1", defaultSANs},
		{"no SNI, IP not covered", "", net.ParseIP("127.0.0.2"), false, "127.0.0.2", defaultSANs},
		{"no SNI, no IP", "", nil, true, "", defaultSANs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			covered, name, sans := b.Coverage(tt.sni, tt.local)
			if covered != tt.covered || name != tt.wantName || !slices.Equal(sans, tt.sans) {
				t.Errorf("Coverage(%q, %v): got %v, %q, %q; want %v, %q, %q", tt.sni, tt.local, covered, name, sans, tt.covered, tt.wantName, tt.sans)
			}
			err := b.CheckCoverage(tt.sni, tt.local)
			if (err == nil) != tt.covered || (err != nil && !errors.Is(err, certs.ErrNameNotCovered)) {
				t.Errorf("CheckCoverage: got %v, want covered=%v", err, tt.covered)
			}
			if tt.sni == "" {
				return
			}
			// Coverage agrees with crypto/x509 on the certificate chosen.
			leaf := b.CertificateFor(tt.sni).Leaf
			if got := leaf.VerifyHostname(strings.TrimSuffix(tt.sni, ".")) == nil; got != tt.covered {
				t.Errorf("VerifyHostname on CertificateFor(%q): got covered %v, want %v", tt.sni, got, tt.covered)
			}
		})
	}
}

func TestNotCoveredMessage(t *testing.T) {
	b := coverStore(t).Current()
	tests := []struct {
		sni   string
		local net.IP
		want  string
	}{
		{"socket.example", nil, `client asked for "socket.example", which the certificate does not cover [DNS:localhost DNS:example.com IP:127.0.0.1 IP:::1]`},
		{"", net.ParseIP("127.0.0.2"), `client dialled 127.0.0.2 without SNI, which the certificate does not cover [DNS:localhost DNS:example.com IP:127.0.0.1 IP:::1]`},
	}
	for _, tt := range tests {
		if got := b.CheckCoverage(tt.sni, tt.local).Error(); got != tt.want {
			t.Errorf("got  %s\nwant %s", got, tt.want)
		}
	}
	got := certs.NotCoveredMessage("socket.example", true, []string{"DNS:localhost", "DNS:example.com"})
	if want := `client asked for "socket.example", which the certificate does not cover [DNS:localhost DNS:example.com]`; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// TestCoverageHandshake checks Coverage inside real handshakes: the
// certificate the client receives is CertificateFor's, and the dialled IP
// arrives through HelloLocalIP.
func TestCoverageHandshake(t *testing.T) {
	s := coverStore(t)
	type seen struct {
		covered bool
		name    string
	}
	results := make(chan seen, 1)
	cfg := s.TLSConfig(appProfile)
	inner := cfg.GetConfigForClient
	cfg.GetConfigForClient = func(h *tls.ClientHelloInfo) (*tls.Config, error) {
		covered, name, _ := s.Current().Coverage(h.ServerName, certs.HelloLocalIP(h))
		results <- seen{covered, name}
		return inner(h)
	}
	tests := []struct {
		name, listen, sni string
		want              seen
	}{
		{"SNI covered", "127.0.0.1:0", "example.com", seen{true, "example.com"}},
		{"SNI wildcard", "127.0.0.1:0", "dev.api.example.net", seen{true, "dev.api.example.net"}},
		{"SNI not covered", "127.0.0.1:0", "socket.example", seen{false, "socket.example"}},
		{"IP covered", "127.0.0.1:0", "", seen{true, "127.0.0.1"}},
		{"IP not covered", "127.0.0.2:0", "", seen{false, "127.0.0.2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := listenTLS(t, tt.listen, cfg)
			c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr,
				&tls.Config{ServerName: tt.sni, InsecureSkipVerify: true})
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer c.Close()
			select {
			case got := <-results:
				if got != tt.want {
					t.Errorf("got %+v, want %+v", got, tt.want)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("no ClientHello seen")
			}
			served := fingerprint(c.ConnectionState().PeerCertificates[0])
			if want := s.Current().CertificateFor(tt.sni).FingerprintHex(); served != want {
				t.Errorf("served certificate %s, CertificateFor says %s", served, want)
			}
		})
	}
}

// listenTLS accepts on addr and handshakes each connection with cfg until
// the test ends; it returns the address.
func listenTLS(t *testing.T, addr string, cfg *tls.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			tc := tls.Server(c, cfg)
			tc.SetDeadline(time.Now().Add(5 * time.Second))
			tc.Handshake()
			tc.Close()
		}
	}()
	return ln.Addr().String()
}

func TestCoverageAllocs(t *testing.T) {
	b := coverStore(t).Current()
	ip := net.ParseIP("127.0.0.1")
	for _, sni := range []string{"localhost", "x.api.example.net", ""} {
		if n := testing.AllocsPerRun(100, func() { b.Coverage(sni, ip) }); n != 0 {
			t.Errorf("Coverage(%q, %v) covered: %v allocations, want 0", sni, ip, n)
		}
	}
}

func BenchmarkCoverage(b *testing.B) {
	bundle := coverStore(b).Current()
	cases := []struct {
		name string
		sni  string
		ip   net.IP
	}{
		{"sni", "localhost", nil},
		{"wildcard", "x.api.example.net", nil},
		{"ip", "", net.ParseIP("127.0.0.1")},
		{"uncovered", "socket.example", nil},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				bundle.Coverage(c.sni, c.ip)
			}
		})
	}
}
