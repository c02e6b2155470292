package admin_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/wssgate/wssgate/admin"
	"github.com/wssgate/wssgate/gateway/certs"
	"github.com/wssgate/wssgate/gateway/certs/certstest"
)

// crlCheck is a CheckClientCert over a real CRL of ca (the daemon passes the certificate
// store's CRLs; see cmd/wssgate).
func crlCheck(t *testing.T, crlPEM []byte) func([]*x509.Certificate) error {
	blk, _ := pem.Decode(crlPEM)
	crl, err := x509.ParseRevocationList(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return func(chain []*x509.Certificate) error {
		for _, e := range crl.RevokedCertificateEntries {
			if e.SerialNumber.Cmp(chain[0].SerialNumber) == 0 {
				return errors.New("revoked")
			}
		}
		return nil
	}
}

// TestClientIdentities: certificates are named by the device identity rules (URI SAN,
// DNS SAN, CN) and mapped to roles; unlisted and revoked ones are refused.
func TestClientIdentities(t *testing.T) {
	ca := newTestCA(t, "admin CA")
	issue := func(o certstest.LeafOptions) tls.Certificate {
		o.Client = true
		return ca.Issue(t, o).TLS
	}
	ops := issue(certstest.LeafOptions{CN: "ignored", URIs: []string{"urn:example:ops-1"}})
	viewer := issue(certstest.LeafOptions{CN: "viewer"})
	stranger := issue(certstest.LeafOptions{CN: "stranger"})
	revoked := issue(certstest.LeafOptions{CN: "ops-2", Serial: big.NewInt(4242)})
	order, err := certs.ParseIdentityOrder(nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := admin.Config{
		TLS: &tls.Config{
			Certificates: []tls.Certificate{ca.keyPair(t, "admin server", 10, false)},
			ClientCAs:    ca.Pool,
			ClientAuth:   tls.VerifyClientCertIfGiven, // as with tokens configured too
		},
		ClientAccess: map[string]admin.Access{
			"urn:example:ops-1": admin.AccessAdmin,
			"viewer":            admin.AccessRead,
			"ops-2":             admin.AccessAdmin,
		},
		ClientIdentity:  func(c *x509.Certificate) (string, error) { return certs.Identity(c, order) },
		CheckClientCert: crlCheck(t, ca.CRL(t, revoked.Leaf)),
	}
	e := startEnv(t, cfg)
	e.ca = ca
	e.sessions.Connect(session("s1", "devices", admin.RoleDevice, "dev1", 1))

	tests := []struct {
		name    string
		cert    tls.Certificate
		call    rpc
		want    codes.Code
		wantMsg string
	}{
		{"URI identity with admin role closes", ops, closeCall("s1"), codes.OK, ""},
		{"read role lists", viewer, listCall, codes.OK, ""},
		{"read role cannot close", viewer, closeCall("s1"), codes.PermissionDenied, `needs the "admin" role, cert:viewer has "read"`},
		{"read role cannot publish", viewer, publishCall, codes.PermissionDenied, "Publish needs"},
		{"unlisted identity", stranger, listCall, codes.PermissionDenied, `identity "stranger" is not listed`},
		{"revoked listed certificate", revoked, listCall, codes.Unauthenticated, "refused: revoked"},
		{"no certificate, no token", tls.Certificate{}, listCall, codes.Unauthenticated, "missing bearer token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call(testCtx(t), e.tlsClient(t, tt.cert))
			wantCode(t, err, tt.want)
			if msg := status.Convert(err).Message(); !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("message %q lacks %q", msg, tt.wantMsg)
			}
		})
	}
	if log := e.log.String(); !strings.Contains(log, `who=cert:urn:example:ops-1 method=CloseSession session=s1`) {
		t.Errorf("audit line of the URI identity missing:\n%s", log)
	}
}

// TestBadIdentityRefused: a certificate whose identity cannot be extracted is refused,
// naming the certificate.
func TestBadIdentityRefused(t *testing.T) {
	ca := newTestCA(t, "admin CA")
	two := ca.Issue(t, certstest.LeafOptions{CN: "x", Client: true, URIs: []string{"spiffe://a/1", "spiffe://a/2"}}).TLS
	cfg := admin.Config{
		TLS: &tls.Config{
			Certificates: []tls.Certificate{ca.keyPair(t, "admin server", 10, false)},
			ClientCAs:    ca.Pool,
			ClientAuth:   tls.RequireAndVerifyClientCert,
		},
		ClientAccess:   map[string]admin.Access{"x": admin.AccessAdmin},
		ClientIdentity: func(c *x509.Certificate) (string, error) { return certs.Identity(c, nil) },
	}
	e := startEnv(t, cfg)
	e.ca = ca
	err := listCall(testCtx(t), e.tlsClient(t, two))
	wantCode(t, err, codes.Unauthenticated)
	if msg := status.Convert(err).Message(); !strings.Contains(msg, fmt.Sprintf("%q", "CN=x")) {
		t.Errorf("message %q does not name the certificate", msg)
	}
}
