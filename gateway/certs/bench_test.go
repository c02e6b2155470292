package certs_test

import (
	"crypto/tls"
	"testing"

	"github.com/wssgate/wssgate/gateway/certs"
	"github.com/wssgate/wssgate/gateway/certs/certstest"
)

// benchStore is a store with a default and one SNI certificate.
func benchStore(b *testing.B) *certs.Store {
	ca := certstest.NewCA(b, "Test Root")
	dir := b.TempDir()
	c1, k1 := serverLeaf(b, ca).Write(b, dir, "a")
	c2, k2 := ca.Issue(b, certstest.LeafOptions{DNS: []string{"*.api.example.net"}}).Write(b, dir, "b")
	s, err := certs.NewStore(certs.Options{Pairs: []certs.Pair{{CertFile: c1, KeyFile: k1}, {CertFile: c2, KeyFile: k2}}})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

func BenchmarkGetConfigForClient(b *testing.B) {
	cfg := benchStore(b).TLSConfig(deviceProfile)
	hello := &tls.ClientHelloInfo{ServerName: "example.com"}
	b.ReportAllocs()
	for b.Loop() {
		if c, err := cfg.GetConfigForClient(hello); c == nil || err != nil {
			b.Fatal("no config")
		}
	}
}

func BenchmarkGetCertificateSNI(b *testing.B) {
	cfg := benchStore(b).TLSConfig(appProfile)
	hello := &tls.ClientHelloInfo{ServerName: "x.api.example.net"}
	inner, _ := cfg.GetConfigForClient(hello)
	b.ReportAllocs()
	for b.Loop() {
		if c, err := inner.GetCertificate(hello); c == nil || err != nil {
			b.Fatal("no certificate")
		}
	}
}
