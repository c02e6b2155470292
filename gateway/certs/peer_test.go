package certs_test

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wssgate/wssgate/gateway/certs"
	"github.com/wssgate/wssgate/gateway/certs/certstest"
)

// TestDescribePeerRefused checks that a client certificate refused in a
// real handshake (unknown CA, expired) is still described.
func TestDescribePeerRefused(t *testing.T) {
	serverCA := certstest.NewCA(t, "Test Root")
	deviceCA := certstest.NewCA(t, "Device CA")
	otherCA := certstest.NewCA(t, "Other CA")
	s := newStore(t, serverLeaf(t, serverCA), certs.Options{ClientCAFile: deviceCA.WriteCA(t, t.TempDir())})
	srv := serve(t, s.TLSConfig(deviceProfile))
	tests := []struct {
		name   string
		leaf   *certstest.Leaf
		reason string
	}{
		{"unknown CA", otherCA.Issue(t, certstest.LeafOptions{CN: "sensor-9", Client: true}), certs.RejectUnknownCA},
		{"expired", deviceCA.Issue(t, certstest.LeafOptions{CN: "sensor-8", Client: true,
			NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-time.Hour)}), certs.RejectExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cc := clientConfig(serverCA, "example.com")
			cc.NextProtos = []string{"http/1.1"}
			cc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &tt.leaf.TLS, nil }
			if _, err := dial(t, srv.addr, cc); err == nil {
				t.Fatal("dial: got success, want refusal")
			}
			serverErr := srv.handshakeErr(t)
			if got := certs.ClientCertRejectReason(serverErr); got != tt.reason {
				t.Fatalf("reason: got %q (%v), want %q", got, serverErr, tt.reason)
			}
			got := certs.DescribePeer(certs.PresentedCert(serverErr))
			sum := sha256.Sum256(tt.leaf.Cert.Raw)
			want := certs.PeerCert{
				Subject: "CN=" + tt.leaf.Cert.Subject.CommonName,
				Issuer:  "CN=" + tt.leaf.Cert.Issuer.CommonName,
				Serial:  fmt.Sprintf("%x", tt.leaf.Cert.SerialNumber),
				SHA256:  hex.EncodeToString(sum[:]),
			}
			if got != want {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
			if attrs := got.LogAttrs(); len(attrs) != 8 || attrs[0] != "client_certificate_subject" || attrs[1] != want.Subject {
				t.Errorf("LogAttrs: got %v", attrs)
			}
		})
	}
	if got := certs.DescribePeer(nil); got != (certs.PeerCert{}) || got.LogAttrs() != nil {
		t.Errorf("DescribePeer(nil): got %+v", got)
	}
	if certs.PresentedCert(nil) != nil {
		t.Error("PresentedCert(nil): got a certificate")
	}
}

func TestFingerprintAndPin(t *testing.T) {
	leaf := certstest.NewCA(t, "Pin CA").Issue(t, certstest.LeafOptions{DNS: []string{"localhost"}})
	sum := sha256.Sum256(leaf.Cert.Raw)
	var parts []string
	for _, b := range sum {
		parts = append(parts, fmt.Sprintf("%02X", b))
	}
	if got, want := certs.Fingerprint(leaf.Cert), strings.Join(parts, ":"); got != want {
		t.Errorf("Fingerprint: got %s, want %s", got, want)
	}
	spki := sha256.Sum256(leaf.Cert.RawSubjectPublicKeyInfo)
	if got, want := certs.SPKIPin(leaf.Cert), base64.StdEncoding.EncodeToString(spki[:]); got != want || len(got) != 44 {
		t.Errorf("SPKIPin: got %s, want %s", got, want)
	}
}
