package certs_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io/fs"
	"math/big"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wssgate/wssgate/gateway/certs"
	"github.com/wssgate/wssgate/gateway/certs/certstest"
)

// fixture is what a validation case builds its files from.
type fixture struct {
	t    *testing.T
	dir  string
	ca   *certstest.CA
	good *certstest.Leaf
}

// pair writes a leaf and returns its Pair.
func (f *fixture) pair(l *certstest.Leaf, name string) certs.Pair {
	c, k := l.Write(f.t, f.dir, name)
	return certs.Pair{CertFile: c, KeyFile: k}
}

// file writes data to dir/name and returns the path.
func (f *fixture) file(name string, data []byte) string {
	p := filepath.Join(f.dir, name)
	certstest.WriteFile(f.t, p, data, 0o600)
	return p
}

// rawCert signs a server certificate for pub with the fixture CA.
func (f *fixture) rawCert(pub any) []byte {
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7),
		Subject:      pkix.Name{CommonName: "odd.example"},
		DNSNames:     []string{"odd.example"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(90 * 24 * time.Hour),
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, f.ca.Cert, pub, f.ca.Key)
	if err != nil {
		f.t.Fatalf("create certificate: %v", err)
	}
	return certs.CertPEM(mustParse(f.t, der))
}

func mustParse(t *testing.T, der []byte) *x509.Certificate {
	t.Helper()
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("parse certificate: %v", err)
	}
	return c
}

func TestNewStoreValidation(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name  string
		setup func(f *fixture) certs.Options
		want  error
		// in lists substrings the message must hold; "{cert}" stands for
		// Pairs[0].CertFile, "{key}" for Pairs[0].KeyFile.
		in []string
	}{
		{"no pairs", func(f *fixture) certs.Options { return certs.Options{} }, certs.ErrNoPairs, nil},
		{"missing cert file", func(f *fixture) certs.Options {
			return certs.Options{Pairs: []certs.Pair{{CertFile: filepath.Join(f.dir, "nope.pem"), KeyFile: "k"}}}
		}, fs.ErrNotExist, []string{"load cert {cert}"}},
		{"garbage cert", func(f *fixture) certs.Options {
			p := f.pair(f.good, "cert")
			p.CertFile = f.file("garbage.pem", []byte("not PEM"))
			return certs.Options{Pairs: []certs.Pair{p}}
		}, certs.ErrNoCertificate, []string{"load cert {cert}"}},
		{"garbage key", func(f *fixture) certs.Options {
			p := f.pair(f.good, "cert")
			p.KeyFile = f.file("garbage-key.pem", f.good.CertPEM)
			return certs.Options{Pairs: []certs.Pair{p}}
		}, certs.ErrNoKey, []string{"load key {key}"}},
		{"key does not match", func(f *fixture) certs.Options {
			p := f.pair(f.good, "cert")
			_, p.KeyFile = serverLeaf(f.t, f.ca).Write(f.t, f.dir, "other")
			return certs.Options{Pairs: []certs.Pair{p}}
		}, certs.ErrKeyMismatch, []string{"load cert {cert}", "{key}", "ECDSA P-256", `"CN=example.com"`}},
		{"key of another type", func(f *fixture) certs.Options {
			p := f.pair(f.good, "cert")
			_, k, _ := ed25519.GenerateKey(rand.Reader)
			p.KeyFile = f.file("ed-key.pem", mustKeyPEM(f.t, k))
			return certs.Options{Pairs: []certs.Pair{p}}
		}, certs.ErrKeyMismatch, []string{"{key} holds an Ed25519 key", "has ECDSA P-256"}},
		{"expired", func(f *fixture) certs.Options {
			l := f.ca.Issue(f.t, certstest.LeafOptions{CN: "old", DNS: []string{"old.example"}, NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-24 * time.Hour)})
			return certs.Options{Pairs: []certs.Pair{f.pair(l, "cert")}}
		}, certs.ErrExpired, []string{"load cert {cert}", "not after " + now.Add(-24*time.Hour).UTC().Format("2006-01-02")}},
		{"not yet valid", func(f *fixture) certs.Options {
			l := f.ca.Issue(f.t, certstest.LeafOptions{CN: "new", DNS: []string{"new.example"}, NotBefore: now.Add(72 * time.Hour)})
			return certs.Options{Pairs: []certs.Pair{f.pair(l, "cert")}}
		}, certs.ErrNotYetValid, []string{"load cert {cert}", "not before " + now.Add(72*time.Hour).UTC().Format("2006-01-02")}},
		{"expires soon is an error", func(f *fixture) certs.Options {
			l := f.ca.Issue(f.t, certstest.LeafOptions{CN: "soon", DNS: []string{"soon.example"}, NotAfter: now.Add(10*24*time.Hour + time.Hour)})
			return certs.Options{Pairs: []certs.Pair{f.pair(l, "cert")}, MinRemainingIsError: true}
		}, certs.ErrExpiresSoon, []string{"load cert {cert}", "expires in 10 days", "minimum is 30 days"}},
		{"hostname not covered", func(f *fixture) certs.Options {
			return certs.Options{Pairs: []certs.Pair{f.pair(f.good, "cert")}, Hostnames: []string{"example.com", "socket.example"}}
		}, certs.ErrHostnameNotCovered, []string{
			`load cert {cert}: certs: hostname not covered: "socket.example" is not in the certificate's SANs [DNS:example.com DNS:www.example.com IP:10.0.0.1]`,
		}},
		{"IP not covered", func(f *fixture) certs.Options {
			return certs.Options{Pairs: []certs.Pair{f.pair(f.good, "cert")}, Hostnames: []string{"10.0.0.1", "[::1]:8443"}}
		}, certs.ErrHostnameNotCovered, []string{`"[::1]:8443" is not in`}},
		{"leaf is a CA", func(f *fixture) certs.Options {
			key, _ := certs.KeyPEM(f.ca.Key)
			return certs.Options{Pairs: []certs.Pair{{CertFile: f.file("ca.pem", f.ca.CertPEM), KeyFile: f.file("ca-key.pem", key)}}}
		}, certs.ErrLeafIsCA, []string{"load cert {cert}", `"CN=Test Root" is a self-signed CA certificate that names no host`}},
		{"self-signed CA:TRUE leaf outside development mode", func(f *fixture) certs.Options {
			return certs.Options{Pairs: []certs.Pair{f.pair(selfSignedCALeaf(f.t), "cert")}}
		}, certs.ErrLeafIsCA, []string{"load cert {cert}", `"CN=localhost" is a self-signed CA certificate (CA:TRUE)`, "development mode only"}},
		{"client certificate served", func(f *fixture) certs.Options {
			l := f.ca.Issue(f.t, certstest.LeafOptions{CN: "device", Client: true})
			return certs.Options{Pairs: []certs.Pair{f.pair(l, "cert")}}
		}, certs.ErrNotServerCert, []string{"load cert {cert}", "[clientAuth]"}},
		{"RSA too small", func(f *fixture) certs.Options {
			l := f.ca.Issue(f.t, certstest.LeafOptions{CN: "weak", DNS: []string{"weak.example"}, RSABits: 1024})
			return certs.Options{Pairs: []certs.Pair{f.pair(l, "cert")}}
		}, certs.ErrRSAKeySize, []string{"load cert {cert}", "RSA 1024"}},
		{"RSA too large", func(f *fixture) certs.Options {
			n := new(big.Int).Lsh(big.NewInt(1), 8199)
			n.Add(n, big.NewInt(1))
			cert := f.rawCert(&rsa.PublicKey{N: n, E: 65537})
			return certs.Options{Pairs: []certs.Pair{{CertFile: f.file("big.pem", cert), KeyFile: f.file("big-key.pem", f.good.KeyPEM)}}}
		}, certs.ErrRSAKeySize, []string{"load cert {cert}", "RSA 8200"}},
		{"unsupported key type", func(f *fixture) certs.Options {
			pub, key, _ := ed25519.GenerateKey(rand.Reader)
			return certs.Options{Pairs: []certs.Pair{{CertFile: f.file("ed.pem", f.rawCert(pub)), KeyFile: f.file("ed-key.pem", mustKeyPEM(f.t, key))}}}
		}, certs.ErrUnsupportedKey, []string{"load cert {cert}", "Ed25519"}},
		{"unsupported curve", func(f *fixture) certs.Options {
			key, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
			return certs.Options{Pairs: []certs.Pair{{CertFile: f.file("p224.pem", f.rawCert(key.Public())), KeyFile: f.file("p224-key.pem", mustKeyPEM(f.t, key))}}}
		}, certs.ErrUnsupportedKey, []string{"load cert {cert}", "ECDSA P-224"}},
		{"missing intermediate", func(f *fixture) certs.Options {
			inter := f.ca.Intermediate(f.t, "Test Intermediate")
			l := inter.Issue(f.t, certstest.LeafOptions{CN: "example.com", DNS: []string{"example.com"}})
			return certs.Options{Pairs: []certs.Pair{f.pair(l, "cert")}, RootCAFile: f.ca.WriteCA(f.t, f.dir)}
		}, certs.ErrMissingIntermediate, []string{"load cert {cert}", `issuer "CN=Test Intermediate" of "CN=example.com"`}},
		{"chain to other roots", func(f *fixture) certs.Options {
			l := serverLeaf(f.t, f.ca)
			l.CertPEM = append(l.CertPEM, f.ca.CertPEM...)
			other := certstest.NewCA(f.t, "Other Root")
			return certs.Options{Pairs: []certs.Pair{f.pair(l, "cert")}, RootCAFile: other.WriteCA(f.t, f.dir)}
		}, certs.ErrChainUnverified, []string{"load cert {cert}", "Other_Root-", "unknown authority"}},
		{"client CA not a CA", func(f *fixture) certs.Options {
			return certs.Options{Pairs: []certs.Pair{f.pair(f.good, "cert")}, ClientCAFile: f.file("clientca.pem", f.good.CertPEM)}
		}, certs.ErrClientCANotCA, []string{"load client CA /", "/clientca.pem: certs:", `"CN=example.com"`}},
		{"client CA empty", func(f *fixture) certs.Options {
			return certs.Options{Pairs: []certs.Pair{f.pair(f.good, "cert")}, ClientCAFile: f.file("clientca.pem", nil)}
		}, certs.ErrNoClientCA, []string{"load client CA ", "clientca.pem"}},
		{"second pair bad", func(f *fixture) certs.Options {
			l := f.ca.Issue(f.t, certstest.LeafOptions{CN: "old", DNS: []string{"old.example"}, NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-time.Hour)})
			return certs.Options{Pairs: []certs.Pair{f.pair(f.good, "cert"), f.pair(l, "old")}}
		}, certs.ErrExpired, []string{"load cert /", "/old.pem: certs:"}},
	}
	ca := certstest.NewCA(t, "Test Root")
	good := serverLeaf(t, ca)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fixture{t: t, dir: t.TempDir(), ca: ca, good: good}
			opts := tt.setup(f)
			s, err := certs.NewStore(opts)
			if !errors.Is(err, tt.want) {
				t.Fatalf("NewStore: got %v (store %v), want %v", err, s != nil, tt.want)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("message is not one line: %q", msg)
			}
			for _, in := range tt.in {
				if len(opts.Pairs) > 0 {
					in = strings.ReplaceAll(in, "{cert}", opts.Pairs[0].CertFile)
					in = strings.ReplaceAll(in, "{key}", opts.Pairs[0].KeyFile)
				}
				if !strings.Contains(msg, in) {
					t.Errorf("message: got %q, want it to contain %q", msg, in)
				}
			}
		})
	}
}

// mustKeyPEM encodes a key, failing t on error.
func mustKeyPEM(t *testing.T, key any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatalf("marshal key: %v", err)
	}
	return pemBlock("PRIVATE KEY", der)
}

func TestNewStoreAccepts(t *testing.T) {
	ca := certstest.NewCA(t, "Test Root")
	inter := ca.Intermediate(t, "Test Intermediate")
	dir := t.TempDir()
	now := time.Now()
	tests := []struct {
		name      string
		leaf      *certstest.Leaf
		chain     []byte // appended to the leaf PEM
		opts      certs.Options
		wantWarns []string
	}{
		{"ECDSA with hostnames", serverLeaf(t, ca), nil,
			certs.Options{Hostnames: []string{"example.com", "WWW.example.com.", "10.0.0.1", "example.com:8443"}}, nil},
		{"RSA 2048", ca.Issue(t, certstest.LeafOptions{CN: "rsa", DNS: []string{"rsa.example"}, RSABits: 2048}), nil,
			certs.Options{Hostnames: []string{"rsa.example"}}, nil},
		{"wildcard", ca.Issue(t, certstest.LeafOptions{CN: "wild", DNS: []string{"*.example.net"}}), nil,
			certs.Options{Hostnames: []string{"a.example.net"}}, nil},
		{"chain to roots", inter.Issue(t, certstest.LeafOptions{CN: "example.com", DNS: []string{"example.com"}}), inter.CertPEM,
			certs.Options{RootCAFile: ca.WriteCA(t, dir)}, nil},
		{"expires soon is a warning", ca.Issue(t, certstest.LeafOptions{CN: "soon", DNS: []string{"soon.example"}, NotAfter: now.Add(12*24*time.Hour + time.Hour)}), nil,
			certs.Options{}, []string{"cert.pem: expires in 12 days (" + now.Add(12*24*time.Hour+time.Hour).UTC().Format("2006-01-02") + ")"}},
		{"self-signed CA:TRUE leaf (openssl req -x509) is a warning in development mode", selfSignedCALeaf(t), nil,
			certs.Options{Hostnames: []string{"localhost", "127.0.0.1"}, AllowSelfSignedCA: true},
			[]string{`"CN=localhost" is a self-signed CA certificate (CA:TRUE) served as the leaf (development mode only): clients must trust this very certificate, and some refuse a CA as a server certificate`}},
		{"custom minimum", ca.Issue(t, certstest.LeafOptions{CN: "soon", DNS: []string{"soon.example"}, NotAfter: now.Add(12*24*time.Hour + time.Hour)}), nil,
			certs.Options{MinRemaining: 7 * 24 * time.Hour, MinRemainingIsError: true}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leaf := *tt.leaf
			leaf.CertPEM = append(append([]byte{}, leaf.CertPEM...), tt.chain...)
			s := newStore(t, &leaf, tt.opts)
			b := s.Current()
			if got, want := b.Generation, uint64(1); got != want {
				t.Errorf("generation: got %d, want %d", got, want)
			}
			if got, want := b.Certs[0].FingerprintHex(), fingerprint(tt.leaf.Cert); got != want {
				t.Errorf("fingerprint: got %s, want %s", got, want)
			}
			if got, want := len(b.Warnings), len(tt.wantWarns); got != want {
				t.Fatalf("warnings: got %q, want %q", b.Warnings, tt.wantWarns)
			}
			for i, w := range tt.wantWarns {
				if !strings.HasSuffix(b.Warnings[i], w) {
					t.Errorf("warning %d: got %q, want suffix %q", i, b.Warnings[i], w)
				}
			}
		})
	}
}

// selfSignedCALeaf makes what `openssl req -x509` makes by default: a
// self-signed certificate with CA:TRUE that also names hosts.
func selfSignedCALeaf(t *testing.T) *certstest.Leaf {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(42),
		Subject:               pkix.Name{CommonName: "localhost"},
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(825 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("create certificate: %v", err)
	}
	cert := mustParse(t, der)
	keyPEM, err := certs.KeyPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	return &certstest.Leaf{Cert: cert, Key: key, CertPEM: certs.CertPEM(cert), KeyPEM: keyPEM}
}

func TestKeyTypes(t *testing.T) {
	ca := certstest.NewCA(t, "Test Root")
	s := newStore(t, ca.Issue(t, certstest.LeafOptions{CN: "a", DNS: []string{"a.example"}, IPs: []net.IP{net.IPv6loopback}}), certs.Options{})
	if got, want := s.Current().Certs[0].KeyType, "ECDSA P-256"; got != want {
		t.Errorf("key type: got %q, want %q", got, want)
	}
	if got := s.Current().Certs[0].FingerprintHex(); len(got) != 64 || strings.ToLower(got) != got {
		t.Errorf("fingerprint: got %q, want 64 lowercase hex digits", got)
	}
}
