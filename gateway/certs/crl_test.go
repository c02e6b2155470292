package certs_test

import (
	"crypto/x509"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wssgate/wssgate/gateway/certs"
	"github.com/wssgate/wssgate/gateway/certs/certstest"
)

func TestCRL(t *testing.T) {
	dir := t.TempDir()
	serverCA, clientCA, rogue := certstest.NewCA(t, "server CA"), certstest.NewCA(t, "client CA"), certstest.NewCA(t, "rogue")
	caFile := clientCA.WriteCA(t, dir)
	good := clientCA.Issue(t, certstest.LeafOptions{CN: "good", Client: true})
	bad := clientCA.Issue(t, certstest.LeafOptions{CN: "bad", Client: true})
	crlFile := filepath.Join(dir, "client.crl")
	certstest.WriteFile(t, crlFile, clientCA.CRL(t, bad.Cert), 0o600)

	s := newStore(t, serverLeaf(t, serverCA), certs.Options{ClientCAFile: caFile, CRLFiles: []string{crlFile}})
	b := s.Current()
	if err := b.VerifyClientCert([]*x509.Certificate{good.Cert}, time.Now()); err != nil {
		t.Errorf("good certificate: %v", err)
	}
	err := b.VerifyClientCert([]*x509.Certificate{bad.Cert}, time.Now())
	if !errors.Is(err, certs.ErrRevoked) || certs.ClientCertRejectReason(err) != certs.RejectRevoked || !strings.Contains(err.Error(), "CN=bad") {
		t.Errorf("revoked certificate: got %v, want ErrRevoked naming CN=bad", err)
	}

	// A CRL from another CA is refused on reload; the old bundle stays.
	certstest.WriteFile(t, crlFile, rogue.CRL(t), 0o600)
	if _, err := s.Reload(certs.Source{}, certs.ReloadOptions{}); !errors.Is(err, certs.ErrBadCRL) || !strings.Contains(err.Error(), "rogue") {
		t.Errorf("rogue CRL: got %v, want ErrBadCRL naming the issuer", err)
	}
	certstest.WriteFile(t, crlFile, []byte("not a crl"), 0o600)
	if _, err := s.Reload(certs.Source{}, certs.ReloadOptions{}); !errors.Is(err, certs.ErrBadCRL) {
		t.Errorf("garbage CRL: got %v, want ErrBadCRL", err)
	}
	if s.Current() != b {
		t.Error("a failed reload replaced the bundle")
	}
}
