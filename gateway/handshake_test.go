package gateway

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws/wsutil"

	"github.com/wssgate/wssgate/gateway/certs/certstest"
	"github.com/wssgate/wssgate/gateway/config"
	"github.com/wssgate/wssgate/gateway/listener"
)

func TestDeviceIdentity(t *testing.T) {
	const token = "s3cret-token"
	sum := sha256.Sum256([]byte(token))
	var clientCA *certstest.CA
	h := newHarness(t, func(c *config.Config, h *harness) {
		c.Dev = false
		clientCA = certstest.NewCA(t, "device CA")
		c.TLS.ClientCA = clientCA.WriteCA(t, h.dir)
		c.Device.ClientAuth = "optional"
		c.Device.Tokens = []config.DeviceToken{{Device: "tok-1", SHA256: hex.EncodeToString(sum[:])}}
	})
	good := clientCA.Issue(t, certstest.LeafOptions{CN: "cert-1", Client: true})
	stranger := certstest.NewCA(t, "other CA").Issue(t, certstest.LeafOptions{CN: "evil", Client: true})
	url := "wss://" + h.device + "/device"

	tests := []struct {
		name     string
		url      string
		hdr      http.Header
		cert     *tls.Certificate
		identity string // "" → refused
		status   string // in the refusal
	}{
		{"client certificate", url, nil, &good.TLS, "cert-1", ""},
		{"bearer token", url, http.Header{"Authorization": {"Bearer " + token}}, nil, "tok-1", ""},
		{"query token", url + "?token=" + token, nil, nil, "tok-1", ""},
		{"wrong token", url + "?token=nope", nil, nil, "", "401"},
		{"no proof", url, nil, nil, "", "401"},
		{"device_id outside dev mode", url + "?device_id=x", nil, nil, "", "401"},
		{"certificate from another CA", url, nil, &stranger.TLS, "", "certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := h.tryDial(tt.url, tt.hdr, tt.cert)
			if tt.identity == "" {
				if err == nil {
					// TLS 1.3: a rejected client certificate surfaces on first read.
					_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
					_, _, err = wsutil.ReadServerData(conn)
					conn.Close()
				}
				if err == nil || !strings.Contains(err.Error(), tt.status) {
					t.Fatalf("got %v, want a refusal mentioning %q", err, tt.status)
				}
				return
			}
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer conn.Close()
			waitFor(t, "device "+tt.identity, func() bool { _, ok := h.g.Registry().Device(tt.identity); return ok })
		})
	}
	waitFor(t, "failures counted", func() bool {
		return h.g.device.Counters.Failures(listener.Unauthenticated) == 3 &&
			h.g.device.Counters.Failures(listener.BadClientCertificate) == 1
	})
	if got := h.g.device.Counters.CertRejects()["unknown_ca"]; got != 1 {
		t.Errorf("client-certificate rejections for unknown_ca: got %d, want 1", got)
	}
}

func TestHandshakeLimits(t *testing.T) {
	h := newHarness(t, func(c *config.Config, _ *harness) {
		c.Device.Limits.HandshakeTimeout = 300 * time.Millisecond
		c.App.Limits.HandshakeTimeout = 300 * time.Millisecond
	})
	t.Run("silent TCP closed at the deadline", func(t *testing.T) {
		for _, addr := range []string{h.device, h.app} {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, err = c.Read(make([]byte, 1))
			c.Close()
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Errorf("%s: connection still open after 5 s, want closed at 300 ms", addr)
			}
		}
		waitFor(t, "timeout counted", func() bool { return h.g.device.Counters.Failures(listener.Timeout) == 1 })
	})
}

func TestHandshakeRefusals(t *testing.T) {
	h := newHarness(t, nil)
	status := func(t *testing.T, addr, req string) string {
		c, err := tls.Dial("tcp", addr, h.tlsConfig(nil))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.WriteString(c, req); err != nil {
			t.Fatal(err)
		}
		line, _ := io.ReadAll(io.LimitReader(c, 64))
		return string(line)
	}
	upgrade := "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	tests := []struct {
		name, addr, req, want string
	}{
		{"device bad path", h.device, "GET /nope HTTP/1.1\r\nHost: localhost\r\n" + upgrade + "\r\n", "HTTP/1.1 404"},
		{"device not websocket", h.device, "GET /device?device_id=a HTTP/1.1\r\nHost: localhost\r\n\r\n", "HTTP/1.1 400"},
		{"device unauthenticated", h.device, "GET /device HTTP/1.1\r\nHost: localhost\r\n" + upgrade + "\r\n", "HTTP/1.1 401"},
		{"device request too large", h.device, "GET /device HTTP/1.1\r\nHost: localhost\r\nX-Big: " + strings.Repeat("a", 9000) + "\r\n\r\n", "HTTP/1.1 431"},
		{"app wrong origin", h.app, "GET /ws HTTP/1.1\r\nHost: localhost\r\nOrigin: https://evil.example\r\n" + upgrade + "\r\n", "HTTP/1.1 403"},
		{"app not websocket", h.app, "GET /ws HTTP/1.1\r\nHost: localhost\r\n\r\n", "HTTP/1.1 400"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := status(t, tt.addr, tt.req); !strings.HasPrefix(got, tt.want) {
				t.Fatalf("got %q, want %s", got, tt.want)
			}
		})
	}
	t.Run("plain http on the device port", func(t *testing.T) {
		c, err := net.Dial("tcp", h.device)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "GET /device HTTP/1.1\r\nHost: localhost\r\n\r\n")
		b, _ := io.ReadAll(c)
		if !strings.Contains(string(b), "wss://") {
			t.Fatalf("got %q, want a hint to use wss://", b)
		}
		recent := h.g.device.Counters.Recent()
		if len(recent) == 0 || recent[0].Reason != listener.NotTLS || !strings.Contains(recent[0].Message, "not ws://") {
			t.Fatalf("recent failures: got %+v, want newest not_tls", recent)
		}
	})
	t.Run("plain http on the app port", func(t *testing.T) {
		c, err := net.Dial("tcp", h.app)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: localhost\r\n\r\n")
		b, _ := io.ReadAll(c)
		if !strings.HasPrefix(string(b), "HTTP/1.1 308") || !strings.Contains(string(b), "\r\nLocation: https://localhost/ws\r\n") {
			t.Fatalf("got %q, want 308 to https://localhost/ws", b)
		}
		// Not necessarily the newest: the previous subtests' failures are
		// recorded after their responses are written.
		waitFor(t, "not_tls recorded on the app listener", func() bool {
			return slices.ContainsFunc(h.g.app.Counters.Recent(), func(f listener.Failure) bool { return f.Reason == listener.NotTLS })
		})
	})
	t.Run("same-host origin allowed", func(t *testing.T) {
		h.dial("wss://"+h.app+"/ws", http.Header{"Origin": {"https://" + h.app}}, nil)
	})
}

func TestDeviceMutualTLS(t *testing.T) {
	var clientCA *certstest.CA
	var revoked *certstest.Leaf
	h := newHarness(t, func(c *config.Config, h *harness) {
		c.Dev = false
		clientCA = certstest.NewCA(t, "device CA")
		c.TLS.ClientCA = clientCA.WriteCA(t, h.dir)
		revoked = clientCA.Issue(t, certstest.LeafOptions{CN: "revoked-1", Client: true})
		c.TLS.CRLFiles = []string{writeFile(t, h.dir, "devices.crl", clientCA.CRL(t, revoked.Cert))}
		c.Device.ClientAuth = "require"
	})
	url := "wss://" + h.device + "/device"
	tests := []struct {
		name     string
		cert     *certstest.Leaf
		identity string // "" → refused
		reason   string // failure reason recorded
	}{
		{"good certificate, CN identity", clientCA.Issue(t, certstest.LeafOptions{CN: "dev-1", Client: true}), "dev-1", ""},
		{"URI SAN identity wins", clientCA.Issue(t, certstest.LeafOptions{CN: "x", URIs: []string{"urn:dev:d9"}, Client: true}), "urn:dev:d9", ""},
		{"revoked", revoked, "", "revoked"},
		{"expired", clientCA.Issue(t, certstest.LeafOptions{CN: "old", Client: true,
			NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)}), "", "expired"},
		{"wrong CA", certstest.NewCA(t, "rogue").Issue(t, certstest.LeafOptions{CN: "rogue", Client: true}), "", "unknown_ca"},
		{"two URI SANs", clientCA.Issue(t, certstest.LeafOptions{CN: "two", URIs: []string{"urn:a", "urn:b"}, Client: true}), "", "unauthenticated"},
		{"no certificate", nil, "", "no_certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cert *tls.Certificate
			if tt.cert != nil {
				cert = &tt.cert.TLS
			}
			conn, err := h.tryDial(url, nil, cert)
			if tt.identity != "" {
				if err != nil {
					t.Fatalf("dial: %v", err)
				}
				defer conn.Close()
				waitFor(t, "device "+tt.identity, func() bool { _, ok := h.g.Registry().Device(tt.identity); return ok })
				return
			}
			if err == nil {
				_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
				_, _, err = wsutil.ReadServerData(conn) // TLS 1.3: the refusal comes with the first read
				conn.Close()
			}
			if err == nil {
				t.Fatal("connected, want refused")
			}
			waitFor(t, "failure recorded", func() bool {
				r := h.g.device.Counters.Recent()
				return len(r) > 0 && strings.Contains(r[0].Reason.String()+" "+r[0].Message, tt.reason)
			})
		})
	}
}
