package certs_test

import (
	"crypto"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/wssgate/wssgate/gateway/certs"
	"github.com/wssgate/wssgate/gateway/certs/certstest"
)

// serverLeaf issues a server certificate for example.com, www.example.com
// and 10.0.0.1 (plus 127.0.0.1 for dials by address).
func serverLeaf(t testing.TB, ca *certstest.CA) *certstest.Leaf {
	t.Helper()
	return ca.Issue(t, certstest.LeafOptions{
		CN:  "example.com",
		DNS: []string{"example.com", "www.example.com"},
		IPs: []net.IP{net.ParseIP("10.0.0.1")},
	})
}

// newStore writes leaf to dir and opens a store on it.
func newStore(t testing.TB, leaf *certstest.Leaf, opts certs.Options) *certs.Store {
	t.Helper()
	certFile, keyFile := leaf.Write(t, t.TempDir(), "cert")
	opts.Pairs = append([]certs.Pair{{CertFile: certFile, KeyFile: keyFile}}, opts.Pairs...)
	s, err := certs.NewStore(opts)
	if err != nil {
		t.Fatalf("NewStore: %v", err)
	}
	return s
}

// server is a TLS echo server on 127.0.0.1:0.
type server struct {
	addr string
	errs chan error // server-side handshake results, nil for success
}

// serve runs an echo server with cfg until the test ends.
func serve(t testing.TB, cfg *tls.Config) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	s := &server{addr: ln.Addr().String(), errs: make(chan error, 64)}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.handle(tls.Server(c, cfg))
			}()
		}
	}()
	return s
}

// handle handshakes, reports the result and echoes until the peer leaves.
func (s *server) handle(c *tls.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	err := c.Handshake()
	select {
	case s.errs <- err:
	default:
	}
	if err != nil {
		return
	}
	c.SetDeadline(time.Time{})
	io.Copy(c, c)
}

// handshakeErr returns the next server-side handshake result.
func (s *server) handshakeErr(t testing.TB) error {
	t.Helper()
	select {
	case err := <-s.errs:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("no server-side handshake result within 10s")
		return nil
	}
}

// dial connects with cc and does one echo round trip, which surfaces a
// client certificate refused after a TLS 1.3 handshake.
func dial(t testing.TB, addr string, cc *tls.Config) (*tls.Conn, error) {
	t.Helper()
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cc)
	if err != nil {
		return nil, err
	}
	if err := roundTrip(c); err != nil {
		c.Close()
		return nil, err
	}
	t.Cleanup(func() { c.Close() })
	return c, nil
}

// roundTrip writes one byte and reads it back.
func roundTrip(c *tls.Conn) error {
	c.SetDeadline(time.Now().Add(5 * time.Second))
	defer c.SetDeadline(time.Time{})
	if _, err := c.Write([]byte{'x'}); err != nil {
		return err
	}
	_, err := io.ReadFull(c, make([]byte, 1))
	return err
}

// mustDial is dial that fails the test on error.
func mustDial(t testing.TB, addr string, cc *tls.Config) *tls.Conn {
	t.Helper()
	c, err := dial(t, addr, cc)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	return c
}

// clientConfig trusts ca and names serverName.
func clientConfig(ca *certstest.CA, serverName string) *tls.Config {
	return &tls.Config{RootCAs: ca.Pool, ServerName: serverName}
}

// peerFingerprint is the SHA-256 of the server leaf c received, as hex.
func peerFingerprint(c *tls.Conn) string {
	return fingerprint(c.ConnectionState().PeerCertificates[0])
}

// fingerprint formats a certificate's SHA-256 like Cert.FingerprintHex.
func fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}

// pemBlock encodes one PEM block.
func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// mustDER returns the first PEM block's bytes.
func mustDER(t testing.TB, data []byte) []byte {
	t.Helper()
	b, _ := pem.Decode(data)
	if b == nil {
		t.Fatalf("no PEM block")
	}
	return b.Bytes
}

// pemNext returns the bytes of the first PEM block of data and the rest.
func pemNext(data []byte) ([]byte, []byte) {
	b, rest := pem.Decode(data)
	if b == nil {
		return nil, nil
	}
	return b.Bytes, rest
}

// loadKey reads a PEM private key through a store-independent parser.
func loadKey(t testing.TB, file string) crypto.Signer {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	k, err := x509.ParsePKCS8PrivateKey(mustDER(t, data))
	if err != nil {
		t.Fatal(err)
	}
	return k.(crypto.Signer)
}

// writePEM writes a certificate PEM and the key (PKCS#8) to two files.
func writePEM(t testing.TB, certFile string, certPEM []byte, keyFile string, key crypto.Signer) {
	t.Helper()
	keyPEM, err := certs.KeyPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	certstest.WriteFile(t, certFile, certPEM, 0o644)
	certstest.WriteFile(t, keyFile, keyPEM, 0o600)
}
