package gateway

import (
	"crypto/tls"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws/wsutil"

	"github.com/wssgate/wssgate/gateway/certs"
	"github.com/wssgate/wssgate/gateway/certs/certstest"
	"github.com/wssgate/wssgate/gateway/config"
	"github.com/wssgate/wssgate/gateway/listener"
)

// servedSerial makes a fresh full handshake (no resumption) and returns
// the serial of the certificate served. On the device port it completes a
// WebSocket upgrade, so that the probe is not a failed handshake.
func (h *harness) servedSerial(addr string) *big.Int {
	h.t.Helper()
	if addr == h.device {
		probes++
		c, err := h.tryDial(fmt.Sprintf("wss://%s/device?device_id=probe-%d", addr, probes), nil, nil)
		if err != nil {
			h.t.Fatalf("handshake %s: %v", addr, err)
		}
		defer c.Close()
		return c.(*tls.Conn).ConnectionState().PeerCertificates[0].SerialNumber
	}
	c, err := tls.Dial("tcp", addr, h.tlsConfig(nil))
	if err != nil {
		h.t.Fatalf("handshake %s: %v", addr, err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber
}

var probes int // device probe ids; tests using servedSerial do not run in parallel

// waitServed waits until both listeners serve serial.
func (h *harness) waitServed(t *testing.T, serial *big.Int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for _, addr := range []string{h.app, h.device} {
		for h.servedSerial(addr).Cmp(serial) != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("%s still serves serial %v after %s, want %v", addr, h.servedSerial(addr), within, serial)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func (h *harness) leaf() *certstest.Leaf {
	return h.ca.Issue(h.t, certstest.LeafOptions{CN: "localhost", DNS: []string{"localhost"}})
}

func TestCertificateFileWatch(t *testing.T) {
	var dir string
	h := newHarness(t, func(c *config.Config, h *harness) {
		c.TLS.WatchDebounce = 100 * time.Millisecond
		// Kubernetes secret volume layout: tls.crt -> ..data/tls.crt, ..data -> ..v1
		dir = filepath.Join(h.dir, "secret")
		writeVersion(t, dir, "..v1", h.leaf())
		must(t, os.Symlink("..v1", filepath.Join(dir, "..data")))
		for _, f := range []string{"tls.crt", "tls.key"} {
			must(t, os.Symlink(filepath.Join("..data", f), filepath.Join(dir, f)))
		}
		c.TLS.Certificates = []config.CertPair{{Cert: filepath.Join(dir, "tls.crt"), Key: filepath.Join(dir, "tls.key")}}
	})
	t.Run("kubernetes symlink swap", func(t *testing.T) {
		next := h.leaf()
		writeVersion(t, dir, "..v2", next)
		must(t, os.Symlink("..v2", filepath.Join(dir, "..data_tmp")))
		must(t, os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")))
		must(t, os.RemoveAll(filepath.Join(dir, "..v1")))
		h.waitServed(t, next.Cert.SerialNumber, 5*time.Second)
	})
	// Replace the symlinks with plain files for the next two styles.
	plain := func(next *certstest.Leaf, write func(name string, data []byte)) {
		write("tls.crt", next.CertPEM)
		write("tls.key", next.KeyPEM)
	}
	t.Run("rename into place", func(t *testing.T) {
		next := h.leaf()
		plain(next, func(name string, data []byte) {
			tmp := filepath.Join(dir, "."+name+".tmp")
			must(t, os.WriteFile(tmp, data, 0o600))
			must(t, os.Rename(tmp, filepath.Join(dir, name)))
		})
		h.waitServed(t, next.Cert.SerialNumber, 5*time.Second)
	})
	t.Run("in-place write", func(t *testing.T) {
		next := h.leaf()
		plain(next, func(name string, data []byte) {
			must(t, os.WriteFile(filepath.Join(dir, name), data, 0o600))
		})
		h.waitServed(t, next.Cert.SerialNumber, 5*time.Second)
	})
	t.Run("bad key is refused, old certificate stays", func(t *testing.T) {
		before := h.g.Certs().Current()
		other := h.leaf()
		must(t, os.WriteFile(filepath.Join(dir, "tls.key"), other.KeyPEM, 0o600)) // key of another certificate
		time.Sleep(500 * time.Millisecond)                                        // debounce + reload attempt
		if got := h.servedSerial(h.device); got.Cmp(before.Certs[0].Leaf.SerialNumber) != 0 {
			t.Fatalf("serving serial %v after a bad key, want the old %v", got, before.Certs[0].Leaf.SerialNumber)
		}
		if h.g.Certs().Current().Generation != before.Generation {
			t.Fatal("generation changed after a refused reload")
		}
	})
}

func writeVersion(t *testing.T, dir, version string, l *certstest.Leaf) {
	must(t, os.MkdirAll(filepath.Join(dir, version), 0o700))
	must(t, os.WriteFile(filepath.Join(dir, version, "tls.crt"), l.CertPEM, 0o600))
	must(t, os.WriteFile(filepath.Join(dir, version, "tls.key"), l.KeyPEM, 0o600))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestReloadUnderLoad alternates two certificates through every reload
// path while sessions are live: none is closed, every new handshake sees
// the new certificate at once, no handshake fails.
func TestReloadUnderLoad(t *testing.T) {
	off := false
	h := newHarness(t, func(c *config.Config, _ *harness) { c.TLS.Watch = &off })
	certFile, keyFile := h.cfg.TLS.Certificates[0].Cert, h.cfg.TLS.Certificates[0].Key
	pair := [2]*certstest.Leaf{h.leaf(), h.leaf()}

	const apps, devices = 50, 50
	appConns := make([]net.Conn, 0, apps)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range apps + devices {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i < apps {
				c := h.dialApp()
				subscribe(t, c, "devices/+/up")
				mu.Lock()
				appConns = append(appConns, c)
				mu.Unlock()
				return
			}
			h.dialDevice(fmt.Sprintf("load-%d", i))
		}()
	}
	wg.Wait()
	waitFor(t, "all sessions", func() bool { return h.g.Registry().Len() == apps+devices })

	for i := range 12 {
		next := pair[i%2]
		switch i % 3 {
		case 0, 1: // files + SIGHUP's path
			must(t, os.WriteFile(certFile, next.CertPEM, 0o600))
			must(t, os.WriteFile(keyFile, next.KeyPEM, 0o600))
			if _, err := h.g.Reload(ReloadRequest{Trigger: "sighup"}); err != nil {
				t.Fatalf("reload %d: %v", i, err)
			}
		case 2: // the admin API's path: PEM bytes
			if _, err := h.g.Reload(ReloadRequest{Trigger: "admin", Source: certs.Source{CertPEM: next.CertPEM, KeyPEM: next.KeyPEM}}); err != nil {
				t.Fatalf("reload %d: %v", i, err)
			}
		}
		for _, addr := range []string{h.app, h.device} {
			if got := h.servedSerial(addr); got.Cmp(next.Cert.SerialNumber) != 0 {
				t.Fatalf("reload %d: %s serves %v, want %v", i, addr, got, next.Cert.SerialNumber)
			}
		}
	}
	waitFor(t, "probes gone", func() bool { return h.g.Registry().Len() == apps+devices })
	if n := h.g.device.Counters.Sessions.SlowCloses.Load(); n != 0 {
		t.Fatalf("%d slow-consumer closes", n)
	}
	for _, s := range h.g.Registry().List(nil) {
		if code, _ := s.CloseStatus(); code != 0 {
			t.Fatalf("session %s closing with %d after the reloads", s.Info().ID, code)
		}
	}
	for _, l := range h.g.Listeners() {
		for _, r := range listener.Reasons() {
			if n := l.Failures(r); n > 0 {
				t.Errorf("%s: %d handshake failures (%s)", l.Name, n, r)
			}
		}
	}
	// The old sessions still carry traffic.
	dev := h.dialDevice("after")
	if err := wsutil.WriteClientText(dev, []byte("still here")); err != nil {
		t.Fatal(err)
	}
	for _, c := range appConns {
		if m := readApp(t, c); string(m.Data) != `"still here"` {
			t.Fatalf("app got %+v after reloads, want the device's message", m)
		}
	}
}

// TestReloadEndsResumption: session tickets do not outlive their
// certificate generation, so a client that resumes gets the new
// certificate after a reload, in a full handshake.
func TestReloadEndsResumption(t *testing.T) {
	off := false
	h := newHarness(t, func(c *config.Config, _ *harness) { c.TLS.Watch = &off })
	tc := h.tlsConfig(nil)
	tc.ClientSessionCache = tls.NewLRUClientSessionCache(8)
	var last tls.ConnectionState
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: tc, DisableKeepAlives: true}}
	get := func() {
		resp, err := client.Get("https://" + h.app + "/.well-known/wssgate")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		last = *resp.TLS
	}
	get()
	get()
	if !last.DidResume {
		t.Fatal("second connection did not resume: the test proves nothing")
	}
	next := h.leaf()
	if _, err := h.g.Reload(ReloadRequest{Trigger: "admin", Source: certs.Source{CertPEM: next.CertPEM, KeyPEM: next.KeyPEM}}); err != nil {
		t.Fatal(err)
	}
	get()
	if last.DidResume || last.PeerCertificates[0].SerialNumber.Cmp(next.Cert.SerialNumber) != 0 {
		t.Fatalf("after reload: resumed=%v serial %v, want a full handshake with %v",
			last.DidResume, last.PeerCertificates[0].SerialNumber, next.Cert.SerialNumber)
	}
}
