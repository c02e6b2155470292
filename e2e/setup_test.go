package e2e

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/wssgate/wssgate/gateway/certs/certstest"
	adminv1 "github.com/wssgate/wssgate/gen/wssgate/admin/v1"
)

// ioTimeout bounds every single read, dial and wait of these tests.
const ioTimeout = 10 * time.Second

// pki is the server side of a test: a CA and a leaf for localhost and
// 127.0.0.1, written to files.
type pki struct {
	ca                *certstest.CA
	server            *certstest.Leaf
	dir               string
	caFile            string
	certFile, keyFile string
	tls               *tls.Config // trusts ca, ServerName localhost
	spkiPin           string      // base64 SHA-256 of the leaf's SubjectPublicKeyInfo
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	dir := t.TempDir()
	ca := certstest.NewCA(t, "wssgate e2e CA")
	leaf := ca.Issue(t, certstest.LeafOptions{CN: "localhost", DNS: []string{"localhost"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	certFile, keyFile := leaf.Write(t, dir, "server")
	sum := sha256.Sum256(leaf.Cert.RawSubjectPublicKeyInfo)
	return &pki{
		ca: ca, server: leaf, dir: dir,
		caFile:   ca.WriteCA(t, dir),
		certFile: certFile, keyFile: keyFile,
		tls:     &tls.Config{RootCAs: ca.Pool, ServerName: "localhost"},
		spkiPin: base64.StdEncoding.EncodeToString(sum[:]),
	}
}

// gatewayConfig is what a test varies in the daemon's config.
type gatewayConfig struct {
	dev           bool
	app, device   string // listen addresses; "" means 127.0.0.1:0
	admin         string // "" means off
	clientCA      string // a file: device.client_auth require
	shutdownGrace string // "" means 2s
	appExtra      string // more keys of the app section, in flow style: ", auth: {...}"
}

// yaml renders c with p's certificate.
func (c gatewayConfig) yaml(p *pki) string {
	or := func(s, def string) string {
		if s == "" {
			return def
		}
		return s
	}
	var b strings.Builder
	fmt.Fprintf(&b, "dev: %t\nshutdown_grace: %s\n", c.dev, or(c.shutdownGrace, "2s"))
	fmt.Fprintf(&b, "tls:\n  certificates: [{cert: %q, key: %q}]\n  hostnames: [localhost]\n", p.certFile, p.keyFile)
	if c.clientCA != "" {
		fmt.Fprintf(&b, "  client_ca: %q\n", c.clientCA)
	}
	fmt.Fprintf(&b, "app: {address: %q%s}\n", or(c.app, "127.0.0.1:0"), c.appExtra)
	fmt.Fprintf(&b, "device:\n  address: %q\n", or(c.device, "127.0.0.1:0"))
	if c.clientCA != "" {
		b.WriteString("  client_auth: require\n")
	}
	fmt.Fprintf(&b, "admin: {address: %q}\nops: {address: \"off\"}\n", or(c.admin, "off"))
	return b.String()
}

// localURL is scheme://localhost:port/path for a listener bound to host:port.
func localURL(t *testing.T, scheme, hostport, path string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(hostport)
	if err != nil {
		t.Fatalf("split %q: %v", hostport, err)
	}
	return scheme + "://localhost:" + port + path
}

// dialWS opens a WebSocket with the gobwas client.
func dialWS(t *testing.T, tc *tls.Config, url string, header http.Header) net.Conn {
	t.Helper()
	d := ws.Dialer{TLSConfig: tc, Timeout: ioTimeout}
	if header != nil {
		d.Header = ws.HandshakeHeaderHTTP(header)
	}
	conn, _, _, err := d.Dial(context.Background(), url)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// readDevice reads one frame sent to a device.
func readDevice(t *testing.T, conn net.Conn) (string, ws.OpCode) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(ioTimeout))
	p, op, err := wsutil.ReadServerData(conn)
	if err != nil {
		t.Fatalf("device read: %v", err)
	}
	return string(p), op
}

// appFrame is a frame the gateway sends to app clients.
type appFrame struct {
	Type       string          `json:"type"`
	ID         int             `json:"id"`
	Channel    string          `json:"channel"`
	Data       json.RawMessage `json:"data"`
	DataBase64 string          `json:"data_base64"`
	Code       string          `json:"code"`
	Message    string          `json:"message"`
}

// readApp reads one JSON frame on an app connection.
func readApp(t *testing.T, conn net.Conn) appFrame {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(ioTimeout))
	p, _, err := wsutil.ReadServerData(conn)
	if err != nil {
		t.Fatalf("app read: %v", err)
	}
	var f appFrame
	if err := json.Unmarshal(p, &f); err != nil {
		t.Fatalf("app frame %q: %v", p, err)
	}
	return f
}

// subscribeApp opens /ws and subscribes to pattern, waiting for the ack.
func subscribeApp(t *testing.T, p *pki, appAddr, pattern string) net.Conn {
	t.Helper()
	conn := dialWS(t, p.tls, localURL(t, "wss", appAddr, "/ws"), nil)
	req, _ := json.Marshal(map[string]any{"type": "subscribe", "id": 1, "channel": pattern})
	if err := wsutil.WriteClientText(conn, req); err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	if f := readApp(t, conn); f.Type != "ack" || f.ID != 1 {
		t.Fatalf("subscribe %s: got %+v, want ack 1", pattern, f)
	}
	return conn
}

// adminClient connects to the admin API over loopback without TLS.
func adminClient(t *testing.T, addr string) adminv1.AdminServiceClient {
	t.Helper()
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("admin client: %v", err)
	}
	t.Cleanup(func() { cc.Close() })
	return adminv1.NewAdminServiceClient(cc)
}

// waitFor polls cond every 50 ms for up to ioTimeout.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(ioTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", ioTimeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// statusOf returns the HTTP status of a refused gobwas handshake, 0 if err
// is not one.
func statusOf(err error) int {
	var se ws.StatusError
	if errors.As(err, &se) {
		return int(se)
	}
	return 0
}

// tlsServerConfig serves p's leaf, for test servers that share its SPKI pin.
func (p *pki) tlsServerConfig() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{p.server.TLS}}
}
