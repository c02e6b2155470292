package certs_test

import (
	"errors"
	"testing"

	"github.com/wssgate/wssgate/gateway/certs"
	"github.com/wssgate/wssgate/gateway/certs/certstest"
)

func TestIdentityTemplate(t *testing.T) {
	ca := certstest.NewCA(t, "Device CA")
	spiffe := "uri:spiffe://example.org/device/{id}"
	tests := []struct {
		name  string
		leaf  certstest.LeafOptions
		order []string
		want  string
		err   error
	}{
		{"spiffe", certstest.LeafOptions{CN: "cn-1", URIs: []string{"spiffe://example.org/device/sensor-9"}}, []string{spiffe}, "sensor-9", nil},
		{"spiffe among other URIs", certstest.LeafOptions{URIs: []string{"urn:x:1", "spiffe://example.org/device/sensor-9"}}, []string{spiffe}, "sensor-9", nil},
		{"two matching URIs", certstest.LeafOptions{URIs: []string{"spiffe://example.org/device/a", "spiffe://example.org/device/b"}}, []string{spiffe}, "", certs.ErrMultipleURIs},
		{"slash in capture refused", certstest.LeafOptions{CN: "cn-1", URIs: []string{"spiffe://example.org/device/sensor-9/extra"}}, []string{spiffe}, "", certs.ErrBadIdentity},
		{"other trust domain falls through", certstest.LeafOptions{CN: "cn-1", URIs: []string{"spiffe://other.org/device/sensor-9"}}, []string{spiffe, "cn"}, "cn-1", nil},
		{"empty capture is no match", certstest.LeafOptions{CN: "cn-1", URIs: []string{"spiffe://example.org/device/"}}, []string{spiffe, "cn"}, "cn-1", nil},
		{"suffix template", certstest.LeafOptions{URIs: []string{"urn:dev:42:v1"}}, []string{"uri:urn:dev:{id}:v1"}, "42", nil},
		{"dns template", certstest.LeafOptions{DNS: []string{"other.example", "Sensor-9.Devices.Example.com"}}, []string{"dns:{id}.devices.example.com"}, "Sensor-9", nil},
		{"dns template is one label", certstest.LeafOptions{CN: "cn-1", DNS: []string{"a.b.devices.example.com"}}, []string{"dns:{id}.devices.example.com", "cn"}, "cn-1", nil},
		{"no match anywhere", certstest.LeafOptions{DNS: []string{"x.example"}}, []string{spiffe}, "", certs.ErrNoIdentity},
		{"plain uri still refuses slashes", certstest.LeafOptions{URIs: []string{"spiffe://example.org/device/sensor-9"}}, []string{"uri"}, "", certs.ErrBadIdentity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			order, err := certs.ParseIdentityOrder(tt.order)
			if err != nil {
				t.Fatalf("ParseIdentityOrder(%q): %v", tt.order, err)
			}
			tt.leaf.Client = true
			got, err := certs.Identity(ca.Issue(t, tt.leaf).Cert, order)
			if !errors.Is(err, tt.err) || got != tt.want {
				t.Fatalf("Identity: got %q, %v; want %q, %v", got, err, tt.want, tt.err)
			}
		})
	}
}

func TestParseIdentitySource(t *testing.T) {
	tests := []struct {
		in   string
		want certs.IdentitySource
		err  error
	}{
		{"URI", "uri", nil},
		{"cn", "cn", nil},
		{"uri:spiffe://example.org/device/{id}", "uri:spiffe://example.org/device/{id}", nil},
		{"DNS:{id}.devices.example.com", "dns:{id}.devices.example.com", nil},
		{"uri:spiffe://example.org/device/", "", certs.ErrBadIdentityTemplate},
		{"uri:{id}/{id}", "", certs.ErrBadIdentityTemplate},
		{"cn:{id}", "", certs.ErrUnknownIdentitySource},
		{"email", "", certs.ErrUnknownIdentitySource},
		{"", "", certs.ErrUnknownIdentitySource},
	}
	for _, tt := range tests {
		got, err := certs.ParseIdentitySource(tt.in)
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("ParseIdentitySource(%q): got %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}
