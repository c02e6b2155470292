package certs_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/wssgate/wssgate/gateway/certs"
	"github.com/wssgate/wssgate/gateway/certs/certstest"
)

func TestIdentity(t *testing.T) {
	ca := certstest.NewCA(t, "Device CA")
	all := []certs.IdentitySource{"uri", "dns", "cn"}
	tests := []struct {
		name  string
		leaf  certstest.LeafOptions
		order []certs.IdentitySource
		want  string
		err   error
	}{
		{"uri first", certstest.LeafOptions{CN: "cn-1", DNS: []string{"dev1.example"}, URIs: []string{"urn:dev:1"}}, nil, "urn:dev:1", nil},
		{"dns when no uri", certstest.LeafOptions{CN: "cn-1", DNS: []string{"dev1.example", "b.example"}}, all, "dev1.example", nil},
		{"cn when no SAN", certstest.LeafOptions{CN: "cn-1"}, all, "cn-1", nil},
		{"cn first when configured", certstest.LeafOptions{CN: "cn-1", URIs: []string{"urn:dev:1"}}, []certs.IdentitySource{"cn", "uri"}, "cn-1", nil},
		{"two URIs refused", certstest.LeafOptions{CN: "cn-1", URIs: []string{"urn:dev:1", "urn:dev:2"}}, all, "", certs.ErrMultipleURIs},
		{"two URIs ignored when uri not in order", certstest.LeafOptions{CN: "cn-1", URIs: []string{"urn:dev:1", "urn:dev:2"}}, []certs.IdentitySource{"dns", "cn"}, "cn-1", nil},
		{"nothing", certstest.LeafOptions{DNS: []string{"a.example"}}, []certs.IdentitySource{"uri", "cn"}, "", certs.ErrNoIdentity},
		{"slash refused", certstest.LeafOptions{URIs: []string{"spiffe://example.org/dev/1"}}, nil, "", certs.ErrBadIdentity},
		{"wildcard refused", certstest.LeafOptions{CN: "+"}, nil, "", certs.ErrBadIdentity},
		{"too long refused", certstest.LeafOptions{CN: strings.Repeat("a", certs.MaxIdentityLen+1)}, nil, "", certs.ErrBadIdentity},
		{"unknown source", certstest.LeafOptions{CN: "cn-1"}, []certs.IdentitySource{"email"}, "", certs.ErrUnknownIdentitySource},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.leaf.Client = true
			got, err := certs.Identity(ca.Issue(t, tt.leaf).Cert, tt.order)
			if !errors.Is(err, tt.err) || got != tt.want {
				t.Fatalf("Identity: got %q, %v; want %q, %v", got, err, tt.want, tt.err)
			}
			if err != nil && certs.ClientCertRejectReason(err) != certs.RejectNoIdentity && !errors.Is(err, certs.ErrUnknownIdentitySource) {
				t.Errorf("reject reason: got %q, want %q", certs.ClientCertRejectReason(err), certs.RejectNoIdentity)
			}
		})
	}
	if _, err := certs.Identity(nil, nil); !errors.Is(err, certs.ErrNoIdentity) {
		t.Errorf("Identity(nil): got %v, want %v", err, certs.ErrNoIdentity)
	}
}

func TestParseIdentityOrder(t *testing.T) {
	tests := []struct {
		name  string
		in    []string
		want  string
		isErr bool
	}{
		{"default", nil, "[uri dns cn]", false},
		{"custom", []string{"CN", "dns"}, "[cn dns]", false},
		{"unknown", []string{"uri", "email"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := certs.ParseIdentityOrder(tt.in)
			if (err != nil) != tt.isErr {
				t.Fatalf("ParseIdentityOrder: got error %v, want error %v", err, tt.isErr)
			}
			if err == nil && fmtOrder(got) != tt.want {
				t.Errorf("got %s, want %s", fmtOrder(got), tt.want)
			}
		})
	}
}

// fmtOrder formats an order as "[uri dns]".
func fmtOrder(o []certs.IdentitySource) string {
	s := make([]string, len(o))
	for i, x := range o {
		s[i] = string(x)
	}
	return "[" + strings.Join(s, " ") + "]"
}
