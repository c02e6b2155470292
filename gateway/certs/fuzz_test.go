package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzIdentity builds client certificates from random subject and SAN
// fields, both as parsed from a real signed certificate and as a bare
// struct (which holds values no encoder would write), and checks that
// Identity never panics, that an identity it returns satisfies the
// identity rule and comes from the first source present, and that every
// refusal wraps one of the documented sentinels.
func FuzzIdentity(f *testing.F) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	f.Add("cn-1", "dev1.example", "urn:dev:1", []byte{})
	f.Add("cn-1", "dev1.example\nb.example", "", []byte{1, 2})
	f.Add("cn-1", "", "urn:dev:1\nurn:dev:2", []byte{0, 2})
	f.Add("", "a.example", "spiffe://example.org/dev/1", []byte{0})
	f.Add("+", "", "", []byte{2})
	f.Add(strings.Repeat("a", MaxIdentityLen+1), "", "", []byte{2})
	f.Add("a\x7fb", "é.example", "urn:%C3%A9", []byte{3, 2})
	f.Fuzz(func(t *testing.T, cn, dns, uris string, orderBytes []byte) {
		tmpl := &x509.Certificate{Subject: pkix.Name{CommonName: cn}}
		if dns != "" {
			tmpl.DNSNames = strings.Split(dns, "\n")
		}
		for _, s := range strings.Split(uris, "\n") {
			if u, err := url.Parse(s); s != "" && err == nil {
				tmpl.URIs = append(tmpl.URIs, u)
			}
		}
		var order []IdentitySource
		for _, b := range orderBytes {
			order = append(order, []IdentitySource{IdentityURI, IdentityDNS, IdentityCN, "email"}[b%4])
		}
		checkIdentityResult(t, tmpl, order)
		tmpl.SerialNumber = big.NewInt(1)
		tmpl.NotBefore, tmpl.NotAfter = time.Unix(0, 0), time.Unix(1<<32, 0)
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			return // a value that cannot be encoded (non-ASCII DNS name, …)
		}
		parsed, err := x509.ParseCertificate(der)
		if err != nil {
			return
		}
		checkIdentityResult(t, parsed, order)
	})
}

func checkIdentityResult(t *testing.T, cert *x509.Certificate, order []IdentitySource) {
	t.Helper()
	id, err := Identity(cert, order)
	if err != nil {
		if id != "" {
			t.Fatalf("got identity %q with error %v", id, err)
		}
		for _, want := range []error{ErrNoIdentity, ErrMultipleURIs, ErrBadIdentity, ErrUnknownIdentitySource} {
			if errors.Is(err, want) {
				return
			}
		}
		t.Fatalf("error %v wraps none of the identity sentinels", err)
	}
	switch {
	case id == "", len(id) > MaxIdentityLen, !utf8.ValidString(id), strings.ContainsAny(id, "/+#"),
		strings.ContainsFunc(id, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		t.Fatalf("identity %q breaks the identity rule", id)
	}
	if order == nil {
		order = DefaultIdentityOrder
	}
	for _, src := range order {
		var v string
		switch src {
		case IdentityURI:
			if len(cert.URIs) == 1 {
				v = cert.URIs[0].String()
			}
		case IdentityDNS:
			if len(cert.DNSNames) > 0 {
				v = cert.DNSNames[0]
			}
		case IdentityCN:
			v = cert.Subject.CommonName
		}
		if v != "" {
			if v != id {
				t.Fatalf("got identity %q, want %q from %s, the first source present", id, v, src)
			}
			return
		}
	}
	t.Fatalf("identity %q from no source", id)
}
