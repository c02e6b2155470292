package certs_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"testing"
	"time"

	"github.com/wssgate/wssgate/gateway/certs"
	"github.com/wssgate/wssgate/gateway/certs/certstest"
)

func TestClientAuthRequire(t *testing.T) {
	serverCA := certstest.NewCA(t, "Test Root")
	deviceCA := certstest.NewCA(t, "Device CA")
	otherCA := certstest.NewCA(t, "Other CA")
	s := newStore(t, serverLeaf(t, serverCA), certs.Options{ClientCAFile: deviceCA.WriteCA(t, t.TempDir())})
	if got, want := s.Current().ClientCASubjects, []string{"CN=Device CA"}; len(got) != 1 || got[0] != want[0] {
		t.Errorf("client CA subjects: got %q, want %q", got, want)
	}
	srv := serve(t, s.TLSConfig(deviceProfile))
	good := deviceCA.Issue(t, certstest.LeafOptions{CN: "dev-1", URIs: []string{"urn:dev:1"}, Client: true})
	foreign := otherCA.Issue(t, certstest.LeafOptions{CN: "dev-2", Client: true})
	serverUsage := deviceCA.Issue(t, certstest.LeafOptions{CN: "dev-3"})
	expired := deviceCA.Issue(t, certstest.LeafOptions{CN: "dev-4", Client: true, NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-time.Hour)})
	optional := serve(t, s.TLSConfig(certs.Profile{ClientAuth: certs.ClientAuthOptional, NextProtos: []string{"http/1.1"}}))

	tests := []struct {
		name       string
		srv        *server
		cert       *certstest.Leaf
		wantReason string // "" : accepted
	}{
		{"good", srv, good, ""},
		{"other CA", srv, foreign, certs.RejectUnknownCA},
		{"no certificate", srv, nil, certs.RejectNoCertificate},
		{"server certificate", srv, serverUsage, certs.RejectBadUsage},
		{"expired", srv, expired, certs.RejectExpired},
		{"optional without certificate", optional, nil, ""},
		{"optional with good certificate", optional, good, ""},
		{"optional with other CA", optional, foreign, certs.RejectUnknownCA},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := tt.srv
			cc := clientConfig(serverCA, "example.com")
			cc.NextProtos = []string{"http/1.1"}
			if tt.cert != nil {
				// Send the certificate even if the server's CA list does not name its issuer.
				cc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &tt.cert.TLS, nil }
			}
			c, err := dial(t, srv.addr, cc)
			serverErr := srv.handshakeErr(t)
			if got := certs.ClientCertRejectReason(serverErr); got != tt.wantReason {
				t.Errorf("reject reason: got %q (%v), want %q", got, serverErr, tt.wantReason)
			}
			if tt.wantReason != "" {
				if err == nil {
					t.Fatalf("dial: got success, want refusal")
				}
				return
			}
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			if got := c.ConnectionState().NegotiatedProtocol; got != "http/1.1" {
				t.Errorf("ALPN: got %q, want %q", got, "http/1.1")
			}
		})
	}
}

func TestClientCAReload(t *testing.T) {
	serverCA := certstest.NewCA(t, "Test Root")
	oldCA, newCA := certstest.NewCA(t, "Old Device CA"), certstest.NewCA(t, "New Device CA")
	s := newStore(t, serverLeaf(t, serverCA), certs.Options{ClientCAFile: oldCA.WriteCA(t, t.TempDir())})
	srv := serve(t, s.TLSConfig(deviceProfile))
	dev := oldCA.Issue(t, certstest.LeafOptions{CN: "dev-1", Client: true})
	cc := clientConfig(serverCA, "example.com")
	cc.Certificates = []tls.Certificate{dev.TLS}
	cc.ClientSessionCache = tls.NewLRUClientSessionCache(4)
	live := mustDial(t, srv.addr, cc) // also stores a session ticket
	srv.handshakeErr(t)
	if c := mustDial(t, srv.addr, cc); !c.ConnectionState().DidResume {
		t.Errorf("second dial: got a full handshake, want a resumed session")
	}
	srv.handshakeErr(t)

	dry, err := s.Reload(certs.Source{ClientCAPEM: newCA.CertPEM}, certs.ReloadOptions{DryRun: true})
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	if err := dry.VerifyClientCert(live.ConnectionState().PeerCertificates[:0], dev.Cert.NotBefore); !errors.Is(err, certs.ErrNoClientCert) {
		t.Errorf("VerifyClientCert(no chain): got %v, want %v", err, certs.ErrNoClientCert)
	}
	if err := dry.VerifyClientCert([]*x509.Certificate{dev.Cert}, dev.Cert.NotBefore.Add(1)); err == nil {
		t.Errorf("VerifyClientCert under the new CA: got nil, want an error")
	}
	if err := s.Current().VerifyClientCert([]*x509.Certificate{dev.Cert}, dev.Cert.NotBefore.Add(1)); err != nil {
		t.Errorf("VerifyClientCert under the old CA: %v", err)
	}

	if _, err := s.Reload(certs.Source{ClientCAPEM: []byte{}}, certs.ReloadOptions{}); !errors.Is(err, certs.ErrNoClientCA) {
		t.Fatalf("empty client CA: got %v, want %v", err, certs.ErrNoClientCA)
	}
	if _, err := s.Reload(certs.Source{ClientCAPEM: newCA.CertPEM}, certs.ReloadOptions{}); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	if _, err := dial(t, srv.addr, cc); err == nil {
		t.Errorf("resumed session of a dropped CA: got success, want refusal")
	}
	if err := srv.handshakeErr(t); err == nil {
		t.Errorf("server handshake of a dropped CA: got success, want an error")
	}
	if err := roundTrip(live); err != nil {
		t.Errorf("established conn after client-CA reload: %v", err)
	}
	cc.Certificates = []tls.Certificate{newCA.Issue(t, certstest.LeafOptions{CN: "dev-2", Client: true}).TLS}
	mustDial(t, srv.addr, cc)
}
