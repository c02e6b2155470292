package gateway

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/wssgate/wssgate/gateway/certs"
	"github.com/wssgate/wssgate/gateway/certs/certstest"
	"github.com/wssgate/wssgate/gateway/config"
	"github.com/wssgate/wssgate/gateway/listener"
)

// TestPlainHTTPOnAppPort: http:// typed for the app port gets a redirect
// to https://, anything else a 400 naming wss://; each is counted as
// not_tls, and TLS clients are served as before.
func TestPlainHTTPOnAppPort(t *testing.T) {
	h := newHarness(t, nil)
	cl := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	base := "http://" + h.app
	tests := []struct {
		method, path string
		upgrade      bool
		status       int
		location     string // for 308
		body         string // in the body
	}{
		{"GET", "/page?x=1", false, 308, "https://" + h.app + "/page?x=1", "https://"},
		{"HEAD", "/", false, 308, "https://" + h.app + "/", ""},
		{"POST", "/form", false, 400, "", "wss://"},
		{"GET", "/ws", true, 400, "", "wss://"},
		{"GET", "/ws?token=SeCrEt-tOkEn", true, 400, "", "wss://"},
	}
	for i, tt := range tests {
		req, _ := http.NewRequest(tt.method, base+tt.path, strings.NewReader(""))
		if tt.upgrade {
			req.Header.Set("Upgrade", "websocket")
			req.Header.Set("Connection", "Upgrade")
		}
		resp, err := cl.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", tt.method, tt.path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || resp.Header.Get("Location") != tt.location || !strings.Contains(string(body), tt.body) {
			t.Errorf("%s %s: got %d Location %q body %q, want %d %q containing %q",
				tt.method, tt.path, resp.StatusCode, resp.Header.Get("Location"), body, tt.status, tt.location, tt.body)
		}
		waitFor(t, "not_tls counted", func() bool { return h.g.app.Counters.Failures(listener.NotTLS) == uint64(i+1) })
	}
	if r := h.g.app.Counters.Recent(); len(r) != len(tests) || !strings.Contains(r[len(r)-1].Message, "answered 308 to https://") {
		t.Fatalf("failures: got %+v, want %d, the first naming the redirect", r, len(tests))
	}
	for _, f := range h.g.app.Counters.Recent() {
		if strings.Contains(f.Message, "SeCrEt") {
			t.Errorf("a failure shows the token: %q", f.Message)
		}
	}
	if strings.Contains(h.logs.String(), "SeCrEt") {
		t.Error("the log shows the token of a plain ws:// request")
	}
	h.dialApp().Close() // TLS still served
}

// TestPlainHTTPGarbage: bytes that are neither TLS nor HTTP reach TLS as
// before and fail there.
func TestPlainHTTPGarbage(t *testing.T) {
	h := newHarness(t, nil)
	conn, err := net.DialTimeout("tcp", h.app, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = conn.Write([]byte("\x00\x01garbage\r\n\r\n"))
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _ = bufio.NewReader(conn).ReadString('\n')
	waitFor(t, "tls failure", func() bool { return h.g.app.Counters.Failures(listener.TLSFailure) == 1 })
}

// TestRefusedClientCertificateDescribed: a device certificate from
// another CA is refused, and the failure says what was presented.
func TestRefusedClientCertificateDescribed(t *testing.T) {
	h := newHarness(t, func(c *config.Config, h *harness) {
		c.Dev = false
		c.TLS.ClientCA = certstest.NewCA(t, "device CA").WriteCA(t, h.dir)
		c.Device.ClientAuth = "optional"
	})
	stranger := certstest.NewCA(t, "other CA").Issue(t, certstest.LeafOptions{CN: "evil", Client: true})
	conn, err := h.tryDial("wss://"+h.device+"/device", nil, &stranger.TLS)
	if err == nil {
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err = conn.Read(make([]byte, 1)) // TLS 1.3: the refusal comes with the first read
		conn.Close()
	}
	if err == nil {
		t.Fatal("connected, want refused")
	}
	f := onlyFailure(t, h.g.device.Counters)
	want := certs.DescribePeer(stranger.Cert)
	if f.Reason != listener.BadClientCertificate || f.ClientCertSubject != "CN=evil" || f.ClientCertIssuer != "CN=other CA" ||
		f.ClientCertSerial != want.Serial || f.ClientCertSHA256 != want.SHA256 {
		t.Fatalf("failure: got %+v, want bad_client_certificate describing %+v", f, want)
	}
}

// TestReloadKeepsNamesClientsUse: a new certificate that drops a name
// clients used is refused with the name and its count, reported by a dry
// run, applied with Force; SIGHUP follows tls.reload_force.
func TestReloadKeepsNamesClientsUse(t *testing.T) {
	h, _ := newClassicHarness(t, func(c *config.Config, h *harness) {
		leaf := h.ca.Issue(t, certstest.LeafOptions{CN: "localhost", DNS: []string{"localhost", "example.com", "socket.example"}})
		certFile, keyFile := leaf.Write(t, h.dir, "wide")
		c.TLS.Certificates = []config.CertPair{{Cert: certFile, Key: keyFile}}
		c.TLS.Watch = new(bool)
	})
	for range 3 {
		cfg := h.tlsConfig(nil)
		cfg.ServerName = "socket.example"
		conn, err := dialWS("wss://"+h.device+"/device?device_id=d1", cfg)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		conn.Close()
	}
	waitFor(t, "names", func() bool { n := h.g.Names(0); return len(n) == 1 && n[0].Count == 3 })
	narrow := h.ca.Issue(t, certstest.LeafOptions{CN: "localhost", DNS: []string{"localhost", "example.com"}})
	src := certs.Source{CertPEM: narrow.CertPEM, KeyPEM: narrow.KeyPEM}

	_, err := h.g.Reload(ReloadRequest{Trigger: "admin", Source: src})
	var lost *certs.UncoveredNamesError
	if !errors.As(err, &lost) || !strings.Contains(err.Error(), `"socket.example": 3 handshakes, last `) {
		t.Fatalf("reload: got %v, want refused naming \"socket.example\": 3 handshakes", err)
	}
	if _, err := h.g.Reload(ReloadRequest{Trigger: "sighup", Source: src}); !errors.As(err, &lost) {
		t.Fatalf("SIGHUP reload with tls.reload_force false: got %v, want refused", err)
	}
	res, err := h.g.Reload(ReloadRequest{Trigger: "admin", Source: src, DryRun: true})
	if err != nil || !hasWarning(res.Bundle.Warnings, `"socket.example": 3 handshakes`) || h.g.Certs().Current().Generation != 1 {
		t.Fatalf("dry run: got %v, warnings %q, want ok with a warning naming the name and count", err, res.Bundle.Warnings)
	}
	res, err = h.g.Reload(ReloadRequest{Trigger: "admin", Source: src, Force: true})
	if err != nil || res.Generation != 2 || !hasWarning(res.Bundle.Warnings, "forced") {
		t.Fatalf("forced reload: got %v, generation %d, warnings %q", err, res.Generation, res.Bundle.Warnings)
	}
	if n := h.g.Names(0); len(n) != 1 || n[0].Covered {
		t.Fatalf("names after the forced reload: got %+v, want socket.example not covered", n)
	}
}

func hasWarning(ws []string, sub string) bool {
	for _, w := range ws {
		if strings.Contains(w, sub) {
			return true
		}
	}
	return false
}

// TestSIGHUPReloadForce: with tls.reload_force, SIGHUP and file reloads
// apply a bundle that drops a used name.
func TestSIGHUPReloadForce(t *testing.T) {
	h, _ := newClassicHarness(t, func(c *config.Config, h *harness) {
		c.TLS.ReloadForce = true
		c.TLS.Watch = new(bool)
	})
	h.dialDevice("d1").Close()
	waitFor(t, "names", func() bool { return len(h.g.Names(0)) == 1 })
	other := h.ca.Issue(t, certstest.LeafOptions{CN: "other", DNS: []string{"other.test"}})
	src := certs.Source{CertPEM: other.CertPEM, KeyPEM: other.KeyPEM}
	if _, err := h.g.Reload(ReloadRequest{Trigger: "admin", Source: src}); err == nil {
		t.Fatal("admin reload without force: applied, want refused")
	}
	if res, err := h.g.Reload(ReloadRequest{Trigger: "sighup", Source: src}); err != nil || res.Generation != 2 {
		t.Fatalf("SIGHUP reload with tls.reload_force: got %v, generation %d", err, res.Generation)
	}
}

// TestSPIFFEIdentityTemplate: identity [{uri: "spiffe://example.org/device/{id}"}]
// names a device by the captured part of its URI SAN.
func TestSPIFFEIdentityTemplate(t *testing.T) {
	var doc struct {
		Identity config.IdentityList `yaml:"identity"`
	}
	if err := yaml.Unmarshal([]byte(`identity: [{uri: "spiffe://example.org/device/{id}"}]`), &doc); err != nil {
		t.Fatal(err)
	}
	var clientCA *certstest.CA
	h := newHarness(t, func(c *config.Config, h *harness) {
		c.Dev = false
		clientCA = certstest.NewCA(t, "device CA")
		c.TLS.ClientCA = clientCA.WriteCA(t, h.dir)
		c.Device.ClientAuth = "require"
		c.Device.Identity = doc.Identity
	})
	leaf := clientCA.Issue(t, certstest.LeafOptions{CN: "cn-ignored", URIs: []string{"spiffe://example.org/device/sensor-9"}, Client: true})
	conn := h.dial("wss://"+h.device+"/device", nil, &leaf.TLS)
	defer conn.Close()
	waitFor(t, "device sensor-9", func() bool { _, ok := h.g.Registry().Device("sensor-9"); return ok })
}
