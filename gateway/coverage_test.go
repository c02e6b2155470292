package gateway

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/wssgate/wssgate/gateway/certs"
	"github.com/wssgate/wssgate/gateway/certs/certstest"
	"github.com/wssgate/wssgate/gateway/config"
	"github.com/wssgate/wssgate/gateway/listener"
)

// lockedBuffer is a log sink safe for the gateway's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// lines returns the log lines containing every one of subs.
func (l *lockedBuffer) lines(subs ...string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range strings.Split(l.b.String(), "\n") {
		if !slices.ContainsFunc(subs, func(s string) bool { return !strings.Contains(line, s) }) {
			out = append(out, line)
		}
	}
	return out
}

var classicSANs = []string{"DNS:localhost", "DNS:example.com"}

// newClassicHarness serves a certificate for localhost and example.com
// (no IP SANs) on both listeners, bound to 127.0.0.2, and captures the log.
func newClassicHarness(t *testing.T, mutate func(c *config.Config, h *harness)) (*harness, *lockedBuffer) {
	logs := &lockedBuffer{}
	h := newHarness(t, func(c *config.Config, h *harness) {
		leaf := h.ca.Issue(t, certstest.LeafOptions{CN: "localhost", DNS: []string{"localhost", "example.com"}})
		certFile, keyFile := leaf.Write(t, h.dir, "classic")
		c.TLS.Certificates = []config.CertPair{{Cert: certFile, Key: keyFile}}
		c.App.Address, c.Device.Address = "127.0.0.2:0", "127.0.0.2:0"
		h.logw = logs
		if mutate != nil {
			mutate(c, h)
		}
	})
	return h, logs
}

// onlyFailure waits for the listener's one failure and checks that no
// second one follows.
func onlyFailure(t *testing.T, c *listener.Counters) listener.Failure {
	t.Helper()
	waitFor(t, c.Name+" failure", func() bool { return len(c.Recent()) > 0 })
	time.Sleep(100 * time.Millisecond) // a second entry would be recorded by now
	r := c.Recent()
	if len(r) != 1 {
		t.Fatalf("%s failures: got %d, want 1: %+v", c.Name, len(r), r)
	}
	return r[0]
}

func checkNotCovered(t *testing.T, f listener.Failure, name string, sni bool) {
	t.Helper()
	want := certs.NotCoveredMessage(name, sni, classicSANs)
	if f.Reason != listener.NameNotCovered || f.Name != name || !slices.Equal(f.CertificateSANs, classicSANs) ||
		!strings.HasPrefix(f.Message, want) {
		t.Fatalf("failure: got reason %s name %q SANs %v message %q, want name_not_covered %q %v %q…",
			f.Reason, f.Name, f.CertificateSANs, f.Message, name, classicSANs, want)
	}
	if sni && f.ServerName != name {
		t.Errorf("failure SNI: got %q, want %q", f.ServerName, name)
	}
}

// TestNameNotCovered is the classic "Hostname/IP does not match
// certificate's altnames": a client that verifies aborts, a client that
// does not goes on; either way one failure and one log line name the name
// and the SANs.
func TestNameNotCovered(t *testing.T) {
	tests := []struct {
		name   string
		sni    string // "" dials the IP without SNI
		verify bool
		// then: the message goes on with what failed next (by role); the
		// app listener has no request to fail when the client closes.
		then map[string]bool
	}{
		{"SNI, client aborts", "socket.example", true, map[string]bool{AppListener: true, DeviceListener: true}},
		{"IP without SNI, client aborts", "", true, map[string]bool{AppListener: true, DeviceListener: true}},
		{"SNI, client goes on and closes", "socket.example", false, map[string]bool{DeviceListener: true}},
	}
	for _, tt := range tests {
		for _, role := range []string{AppListener, DeviceListener} {
			t.Run(tt.name+"/"+role, func(t *testing.T) {
				h, logs := newClassicHarness(t, nil)
				addr, counters := h.app, h.g.app.Counters
				if role == DeviceListener {
					addr, counters = h.device, h.g.device.Counters
				}
				cfg := &tls.Config{ServerName: tt.sni, RootCAs: h.ca.Pool, InsecureSkipVerify: !tt.verify, NextProtos: []string{"http/1.1"}}
				if tt.sni == "" {
					cfg.ServerName = "127.0.0.2" // verified against the IP SANs; not sent as SNI
				}
				conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
				if tt.verify != (err != nil) {
					t.Fatalf("dial: got %v, want an error: %v", err, tt.verify)
				}
				if conn != nil {
					conn.Close() // as Node's ws does after its own name check
				}
				name := cmp.Or(tt.sni, "127.0.0.2")
				f := onlyFailure(t, counters)
				checkNotCovered(t, f, name, tt.sni != "")
				if got := strings.Contains(f.Message, "; the handshake then failed: "); got != tt.then[role] {
					t.Errorf("message %q: goes on with what failed next: %v, want %v", f.Message, got, tt.then[role])
				}
				if got := counters.Failures(listener.NameNotCovered); got != 1 {
					t.Errorf("name_not_covered count: got %d, want 1", got)
				}
				if got := logs.lines("handshake failed", "listener="+role); len(got) != 1 || !strings.Contains(got[0], "which the certificate does not cover [DNS:localhost DNS:example.com]") {
					t.Errorf("log lines of the failure: got %q, want one naming the SANs", got)
				}
			})
		}
	}
}

// dialWS opens a WebSocket with the given TLS configuration.
func dialWS(url string, cfg *tls.Config) (net.Conn, error) {
	d := ws.Dialer{TLSConfig: cfg, Timeout: 5 * time.Second}
	conn, br, _, err := d.Dial(context.Background(), url)
	if br != nil {
		ws.PutReader(br)
	}
	return conn, err
}

// TestNameNotCoveredSessionStays: a client that does not verify and
// upgrades gets its session; the miss is recorded once and the name is
// remembered as uncovered.
func TestNameNotCoveredSessionStays(t *testing.T) {
	h, _ := newClassicHarness(t, nil)
	d := h.tlsConfig(nil)
	d.ServerName, d.InsecureSkipVerify = "socket.example", true
	conn, err := dialWS("wss://"+h.device+"/device?device_id=d1", d)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	waitFor(t, "device d1", func() bool { _, ok := h.g.Registry().Device("d1"); return ok })
	f := onlyFailure(t, h.g.device.Counters)
	checkNotCovered(t, f, "socket.example", true)
	names := h.g.Names(0)
	if len(names) != 1 || names[0].Name != "socket.example" || names[0].Count != 1 || names[0].Covered {
		t.Fatalf("names: got %+v, want socket.example once, not covered", names)
	}
}

// TestCoveredHandshakesRecordNames: covered handshakes are not failures;
// their names are counted.
func TestCoveredHandshakesRecordNames(t *testing.T) {
	h, _ := newClassicHarness(t, nil)
	for range 3 {
		h.dialApp().Close()
	}
	h.dialDevice("d2").Close()
	waitFor(t, "names", func() bool {
		n := h.g.Names(time.Hour)
		return len(n) == 1 && n[0].Name == "localhost" && n[0].Count == 4 && n[0].Covered
	})
	if r := append(h.g.app.Counters.Recent(), h.g.device.Counters.Recent()...); len(r) != 0 {
		t.Fatalf("failures: got %+v, want none", r)
	}
}
