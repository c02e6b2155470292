package certs_test

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/wssgate/wssgate/gateway/certs"
	"github.com/wssgate/wssgate/gateway/certs/certstest"
)

var (
	appProfile    = certs.Profile{NextProtos: []string{"h2", "http/1.1"}}
	deviceProfile = certs.Profile{ClientAuth: certs.ClientAuthRequire, NextProtos: []string{"http/1.1"}}
)

func TestSNISelection(t *testing.T) {
	ca := certstest.NewCA(t, "Test Root")
	dir := t.TempDir()
	def := serverLeaf(t, ca)
	api := ca.Issue(t, certstest.LeafOptions{CN: "api", DNS: []string{"*.api.example.net", "other.example.org"}})
	dualEC := ca.Issue(t, certstest.LeafOptions{CN: "dual", DNS: []string{"dual.example"}})
	dualRSA := ca.Issue(t, certstest.LeafOptions{CN: "dual", DNS: []string{"dual.example"}, RSABits: 2048})
	var pairs []certs.Pair
	for i, l := range []*certstest.Leaf{def, api, dualEC, dualRSA} {
		c, k := l.Write(t, dir, string(rune('a'+i)))
		pairs = append(pairs, certs.Pair{CertFile: c, KeyFile: k})
	}
	s, err := certs.NewStore(certs.Options{Pairs: pairs, Hostnames: []string{"example.com", "x.api.example.net", "10.0.0.1"}})
	if err != nil {
		t.Fatalf("NewStore: %v", err)
	}
	srv := serve(t, s.TLSConfig(appProfile))
	rsaOnly := []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}
	tests := []struct {
		name       string
		serverName string
		tls12RSA   bool // TLS 1.2 with RSA suites only
		want       *certstest.Leaf
	}{
		{"exact default", "example.com", false, def},
		{"wildcard", "x.api.example.net", false, api},
		{"wildcard is one level", "a.b.api.example.net", false, def},
		{"upper case and dot", "OTHER.example.org.", false, api},
		{"unknown name", "unknown.test", false, def},
		{"no SNI", "", false, def},
		{"twins prefer first", "dual.example", false, dualEC},
		{"twins by client support", "dual.example", true, dualRSA},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cc := &tls.Config{ServerName: tt.serverName, InsecureSkipVerify: true}
			if tt.tls12RSA {
				cc.MaxVersion, cc.CipherSuites = tls.VersionTLS12, rsaOnly
			}
			c := mustDial(t, srv.addr, cc)
			if got, want := peerFingerprint(c), fingerprint(tt.want.Cert); got != want {
				t.Errorf("served %q, want %q", c.ConnectionState().PeerCertificates[0].Subject, tt.want.Cert.Subject)
			}
		})
	}
	t.Run("IP only in an SNI certificate", func(t *testing.T) {
		ipLeaf := ca.Issue(t, certstest.LeafOptions{CN: "ip", IPs: []net.IP{net.ParseIP("192.0.2.7")}})
		c, k := ipLeaf.Write(t, dir, "ip")
		_, err := certs.NewStore(certs.Options{Pairs: []certs.Pair{pairs[0], {CertFile: c, KeyFile: k}}, Hostnames: []string{"192.0.2.7"}})
		if !errors.Is(err, certs.ErrHostnameNotCovered) {
			t.Fatalf("NewStore: got %v, want %v", err, certs.ErrHostnameNotCovered)
		}
	})
}

func TestTLSParameters(t *testing.T) {
	ca := certstest.NewCA(t, "Test Root")
	s := newStore(t, serverLeaf(t, ca), certs.Options{})
	srv := serve(t, s.TLSConfig(appProfile))
	tests := []struct {
		name    string
		cc      *tls.Config
		wantErr bool
		version uint16
		alpn    string
	}{
		{"TLS 1.3 preferred, h2", &tls.Config{NextProtos: []string{"h2", "http/1.1"}}, false, tls.VersionTLS13, "h2"},
		{"TLS 1.2 AEAD", &tls.Config{MaxVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}, false, tls.VersionTLS12, "http/1.1"},
		{"TLS 1.1 refused", &tls.Config{MaxVersion: tls.VersionTLS11}, true, 0, ""},
		{"CBC suite refused", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}}, true, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cc.RootCAs, tt.cc.ServerName = ca.Pool, "example.com"
			c, err := dial(t, srv.addr, tt.cc)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("dial: got success, want an error")
				}
				return
			}
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			cs := c.ConnectionState()
			if cs.Version != tt.version || cs.NegotiatedProtocol != tt.alpn {
				t.Errorf("got %s %q, want %s %q", tls.VersionName(cs.Version), cs.NegotiatedProtocol, tls.VersionName(tt.version), tt.alpn)
			}
		})
	}
}

func TestReloadSwapsForNewHandshakes(t *testing.T) {
	ca := certstest.NewCA(t, "Test Root")
	dir := t.TempDir()
	a, b := serverLeaf(t, ca), serverLeaf(t, ca)
	certFile, keyFile := a.Write(t, dir, "cert")
	s, err := certs.NewStore(certs.Options{Pairs: []certs.Pair{{CertFile: certFile, KeyFile: keyFile}}, Hostnames: []string{"example.com"}})
	if err != nil {
		t.Fatalf("NewStore: %v", err)
	}
	app := serve(t, s.TLSConfig(appProfile))
	plain := serve(t, s.TLSConfig(certs.Profile{NextProtos: []string{"http/1.1"}}))
	old := mustDial(t, app.addr, clientConfig(ca, "example.com"))

	b.Write(t, dir, "cert")
	nb, err := s.Reload(certs.Source{}, certs.ReloadOptions{})
	if err != nil {
		t.Fatalf("Reload: %v", err)
	}
	if got, want := nb.Generation, uint64(2); got != want {
		t.Errorf("generation: got %d, want %d", got, want)
	}
	if s.Current() != nb {
		t.Errorf("Current: got a different bundle than Reload returned")
	}
	for _, srv := range []*server{app, plain} {
		c := mustDial(t, srv.addr, clientConfig(ca, "example.com"))
		if got, want := peerFingerprint(c), fingerprint(b.Cert); got != want {
			t.Errorf("after reload %s served %s, want %s", srv.addr, got, want)
		}
	}
	if err := roundTrip(old); err != nil {
		t.Fatalf("established conn after reload: %v", err)
	}
	if got, want := peerFingerprint(old), fingerprint(a.Cert); got != want {
		t.Errorf("established conn: got %s, want %s", got, want)
	}
}

func TestFailedReloadKeepsOld(t *testing.T) {
	ca := certstest.NewCA(t, "Test Root")
	dir := t.TempDir()
	a := serverLeaf(t, ca)
	certFile, keyFile := a.Write(t, dir, "cert")
	s, err := certs.NewStore(certs.Options{Pairs: []certs.Pair{{CertFile: certFile, KeyFile: keyFile}}, Hostnames: []string{"example.com"}})
	if err != nil {
		t.Fatalf("NewStore: %v", err)
	}
	srv := serve(t, s.TLSConfig(appProfile))
	tests := []struct {
		name   string
		mutate func()
		want   error
	}{
		{"key mismatch", func() { certstest.WriteFile(t, keyFile, serverLeaf(t, ca).KeyPEM, 0o600) }, certs.ErrKeyMismatch},
		{"hostname dropped", func() {
			ca.Issue(t, certstest.LeafOptions{CN: "x", DNS: []string{"other.example"}}).Write(t, dir, "cert")
		}, certs.ErrHostnameNotCovered},
		{"PEM source expired", nil, certs.ErrExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.mutate != nil {
				tt.mutate()
				_, err = s.Reload(certs.Source{}, certs.ReloadOptions{})
			} else {
				l := ca.Issue(t, certstest.LeafOptions{DNS: []string{"example.com"}, NotAfter: a.Cert.NotBefore})
				_, err = s.Reload(certs.Source{CertPEM: l.CertPEM, KeyPEM: l.KeyPEM}, certs.ReloadOptions{})
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Reload: got %v, want %v", err, tt.want)
			}
			cur := s.Current()
			if got, want := cur.Generation, uint64(1); got != want {
				t.Errorf("generation: got %d, want %d", got, want)
			}
			if got, want := cur.Certs[0].FingerprintHex(), fingerprint(a.Cert); got != want {
				t.Errorf("fingerprint: got %s, want %s", got, want)
			}
			c := mustDial(t, srv.addr, clientConfig(ca, "example.com"))
			if got, want := peerFingerprint(c), fingerprint(a.Cert); got != want {
				t.Errorf("served: got %s, want %s", got, want)
			}
		})
	}
}

func TestReloadSource(t *testing.T) {
	ca := certstest.NewCA(t, "Test Root")
	a, b := serverLeaf(t, ca), serverLeaf(t, ca)
	s := newStore(t, a, certs.Options{Hostnames: []string{"example.com"}})
	srv := serve(t, s.TLSConfig(appProfile))

	dry, err := s.Reload(certs.Source{CertPEM: b.CertPEM, KeyPEM: b.KeyPEM}, certs.ReloadOptions{DryRun: true})
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	if got, want := dry.Generation, uint64(0); got != want {
		t.Errorf("dry-run generation: got %d, want %d", got, want)
	}
	if got, want := dry.Certs[0].CertFile, ""; got != want {
		t.Errorf("dry-run CertFile: got %q, want %q", got, want)
	}
	c := mustDial(t, srv.addr, clientConfig(ca, "example.com"))
	if got, want := peerFingerprint(c), fingerprint(a.Cert); got != want {
		t.Errorf("after dry run served %s, want %s", got, want)
	}

	sni := ca.Issue(t, certstest.LeafOptions{DNS: []string{"sni.example"}})
	withSNI, err := s.Reload(certs.Source{Others: []certs.PEMPair{{CertPEM: sni.CertPEM, KeyPEM: sni.KeyPEM}}}, certs.ReloadOptions{DryRun: true})
	if err != nil {
		t.Fatalf("dry run with Others: %v", err)
	}
	if got, want := len(withSNI.Certs), 2; got != want {
		t.Errorf("dry run with Others: got %d certificates, want %d", got, want)
	}
	if _, err := s.Reload(certs.Source{CertPEM: b.CertPEM}, certs.ReloadOptions{}); !errors.Is(err, certs.ErrIncompleteSource) {
		t.Errorf("cert without key: got %v, want %v", err, certs.ErrIncompleteSource)
	}
	nb, err := s.Reload(certs.Source{CertPEM: b.CertPEM, KeyPEM: b.KeyPEM}, certs.ReloadOptions{})
	if err != nil {
		t.Fatalf("Reload: %v", err)
	}
	if got, want := nb.Generation, uint64(2); got != want {
		t.Errorf("generation: got %d, want %d", got, want)
	}
	c = mustDial(t, srv.addr, clientConfig(ca, "example.com"))
	if got, want := peerFingerprint(c), fingerprint(b.Cert); got != want {
		t.Errorf("after Reload served %s, want %s", got, want)
	}
	// Reload reads the files again: back to a.
	if _, err := s.Reload(certs.Source{}, certs.ReloadOptions{}); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	if got, want := s.Current().Certs[0].FingerprintHex(), fingerprint(a.Cert); got != want {
		t.Errorf("after Reload: got %s, want %s", got, want)
	}
}

func TestProfiles(t *testing.T) {
	ca := certstest.NewCA(t, "Test Root")
	s := newStore(t, serverLeaf(t, ca), certs.Options{})
	hello := &tls.ClientHelloInfo{ServerName: "example.com"}
	inner := func(p certs.Profile) *tls.Config {
		cfg := s.TLSConfig(p)
		if len(cfg.Certificates) != 0 || cfg.MinVersion != tls.VersionTLS12 {
			t.Errorf("outer config: got %d certificates, min version %x; want 0, TLS 1.2", len(cfg.Certificates), cfg.MinVersion)
		}
		c, err := cfg.GetConfigForClient(hello)
		if err != nil {
			t.Fatalf("GetConfigForClient: %v", err)
		}
		return c
	}
	app1, dev, app2 := inner(appProfile), inner(deviceProfile), inner(certs.Profile{NextProtos: []string{"h2", "http/1.1"}})
	if app1 != app2 {
		t.Errorf("same profile: got two inner configs, want one")
	}
	if app1 == dev || dev.ClientAuth != tls.RequireAndVerifyClientCert || app1.ClientAuth != tls.NoClientCert {
		t.Errorf("client auth: got app %v, device %v", app1.ClientAuth, dev.ClientAuth)
	}
	if dev.ClientCAs == nil {
		t.Errorf("device config without client CAs: got nil pool, want an empty one (nil means system roots)")
	}
	if got, want := s.Current().Generation, uint64(1); got != want {
		t.Errorf("generation after TLSConfig: got %d, want %d", got, want)
	}
}

func TestConcurrentReloads(t *testing.T) {
	ca := certstest.NewCA(t, "Test Root")
	a, b := serverLeaf(t, ca), serverLeaf(t, ca)
	s := newStore(t, a, certs.Options{Hostnames: []string{"example.com"}})
	srv := serve(t, s.TLSConfig(appProfile))
	want := map[string]bool{fingerprint(a.Cert): true, fingerprint(b.Cert): true}
	const dialers, dials, reloads = 3, 8, 20
	errs := make(chan error, dialers*dials)
	var wg sync.WaitGroup
	for range dialers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range dials {
				c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", srv.addr, clientConfig(ca, "example.com"))
				if err != nil {
					errs <- err
					continue
				}
				if fp := peerFingerprint(c); !want[fp] {
					errs <- fmt.Errorf("served unknown certificate %s", fp)
				}
				c.Close()
			}
		}()
	}
	for i := range reloads {
		l := a
		if i%2 == 0 {
			l = b
		}
		if _, err := s.Reload(certs.Source{CertPEM: l.CertPEM, KeyPEM: l.KeyPEM}, certs.ReloadOptions{}); err != nil {
			t.Errorf("reload %d: %v", i, err)
		}
		s.TLSConfig(certs.Profile{NextProtos: []string{fmt.Sprint(i % 3)}})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("handshake during reloads: %v", err)
	}
	if got, want := s.Current().Generation, uint64(1+reloads); got != want {
		t.Errorf("generation: got %d, want %d", got, want)
	}
}
