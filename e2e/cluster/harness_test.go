package clustere2e

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/wssgate/wssgate/gateway"
	"github.com/wssgate/wssgate/gateway/certs/certstest"
	"github.com/wssgate/wssgate/gateway/cluster/clustertest"
	"github.com/wssgate/wssgate/gateway/config"
)

// wait bounds every wait of these tests.
const wait = 15 * time.Second

// node is one in-process gateway of the test cluster.
type node struct {
	name string
	g    *gateway.Gateway
	app  string // host:port
	dev  string
}

// env is an embedded 3-server NATS cluster and gateway nodes, each given every NATS URL.
type env struct {
	t     *testing.T
	nats  *clustertest.Cluster
	ca    *certstest.CA
	nodes []*node
}

// newEnv starts the NATS cluster and n gateway nodes gw-1…gw-n, and waits until every node
// sees every other one.
func newEnv(t *testing.T, n int) *env {
	t.Helper()
	e := &env{t: t, nats: clustertest.Start(t, 3), ca: certstest.NewCA(t, "wssgate cluster test CA")}
	dir := t.TempDir()
	leaf := e.ca.Issue(t, certstest.LeafOptions{CN: "localhost", DNS: []string{"localhost"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	certFile, keyFile := leaf.Write(t, dir, "server")
	for i := range n {
		e.nodes = append(e.nodes, e.start(fmt.Sprintf("gw-%d", i+1), certFile, keyFile, dir))
	}
	e.waitMembers(n)
	return e
}

func (e *env) start(name, certFile, keyFile, dir string) *node {
	t := e.t
	c := &config.Config{Dev: true, StateDir: dir, Node: name}
	c.TLS.Certificates = []config.CertPair{{Cert: certFile, Key: keyFile}}
	c.App.Address, c.Device.Address = "127.0.0.1:0", "127.0.0.1:0"
	c.Cluster.NATS = e.nats.URLs()
	c.App.Subscribe = []string{"devices/+/up", "devices/+/down"}
	c.ApplyDefaults()
	if err := c.Validate(); err != nil {
		t.Fatalf("config of %s: %v", name, err)
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo})).With("node", name)
	g, err := gateway.New(c, log)
	if err != nil {
		t.Fatalf("gateway.New %s: %v", name, err)
	}
	if err := g.Start(context.Background()); err != nil {
		t.Fatalf("Start %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := g.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown %s: %v", name, err)
		}
	})
	return &node{name: name, g: g, app: g.AppAddr().String(), dev: g.DeviceAddr().String()}
}

// waitMembers waits until every node sees n nodes up.
func (e *env) waitMembers(n int) {
	e.t.Helper()
	eventually(e.t, "every node sees the others", func() bool {
		for _, nd := range e.nodes {
			up := 0
			for _, m := range nd.g.Cluster().Members() {
				if m.Up {
					up++
				}
			}
			if up < n {
				return false
			}
		}
		return true
	})
}

// eventually polls cond every 20 ms until it holds, or fails t after wait.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", wait, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// conn is a WebSocket client of the test; frames are read by one goroutine into a channel.
type conn struct {
	t      *testing.T
	c      net.Conn
	frames chan frame
	closed chan ws.StatusCode // the close code the server sent (or 1006), once
	wmu    sync.Mutex
}

type frame struct {
	op   ws.OpCode
	data []byte
}

func (e *env) dial(url string) (*conn, error) {
	d := ws.Dialer{TLSConfig: &tls.Config{RootCAs: e.ca.Pool, ServerName: "localhost"}, Timeout: 5 * time.Second}
	c, br, _, err := d.Dial(context.Background(), url)
	if err != nil {
		return nil, err
	}
	if br != nil {
		ws.PutReader(br)
	}
	cl := &conn{t: e.t, c: c, frames: make(chan frame, 1024), closed: make(chan ws.StatusCode, 1)}
	e.t.Cleanup(func() { c.Close() })
	go cl.read()
	return cl, nil
}

// device connects a device of identity id (development mode: ?device_id=) to n.
func (e *env) device(n *node, id string) *conn {
	e.t.Helper()
	c, err := e.dial("wss://" + n.dev + "/device?device_id=" + id)
	if err != nil {
		e.t.Fatalf("device %s on %s: %v", id, n.name, err)
	}
	return c
}

// app connects an app client to n.
func (e *env) app(n *node) *conn {
	e.t.Helper()
	c, err := e.dial("wss://" + n.app + "/ws")
	if err != nil {
		e.t.Fatalf("app on %s: %v", n.name, err)
	}
	return c
}

// read runs until the connection ends; it records the server's close code.
func (c *conn) read() {
	defer close(c.frames)
	for {
		data, op, err := wsutil.ReadServerData(c.c)
		if err != nil {
			code := ws.StatusAbnormalClosure
			var ce wsutil.ClosedError
			if asClosed(err, &ce) {
				code = ce.Code
			}
			c.closed <- code
			return
		}
		c.frames <- frame{op, data}
	}
}

func asClosed(err error, ce *wsutil.ClosedError) bool {
	x, ok := err.(wsutil.ClosedError)
	if ok {
		*ce = x
	}
	return ok
}

// send writes one text frame.
func (c *conn) send(s string) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return wsutil.WriteClientText(c.c, []byte(s))
}

func (c *conn) mustSend(s string) {
	c.t.Helper()
	if err := c.send(s); err != nil {
		c.t.Fatalf("send %s: %v", s, err)
	}
}

// next returns the next frame within d; ok is false on timeout or end.
func (c *conn) next(d time.Duration) (frame, bool) {
	select {
	case f, ok := <-c.frames:
		return f, ok
	case <-time.After(d):
		return frame{}, false
	}
}

// expect reads frames until one satisfies match, failing t after wait.
func (c *conn) expect(what string, match func(map[string]any) bool) map[string]any {
	c.t.Helper()
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		f, ok := c.next(time.Until(deadline))
		if !ok {
			break
		}
		var m map[string]any
		if json.Unmarshal(f.data, &m) == nil && match(m) {
			return m
		}
	}
	c.t.Fatalf("no %s within %s", what, wait)
	return nil
}

// ack sends a request and returns its ack (or error) frame.
func (c *conn) ack(req string, id float64) map[string]any {
	c.t.Helper()
	c.mustSend(req)
	return c.expect(fmt.Sprintf("ack %v", id), func(m map[string]any) bool { return m["id"] == id })
}

// subscribe subscribes an app client to pattern and waits for the ack.
func (c *conn) subscribe(pattern string) {
	c.t.Helper()
	if m := c.ack(fmt.Sprintf(`{"type":"subscribe","id":1,"channel":%q}`, pattern), 1); m["type"] != "ack" {
		c.t.Fatalf("subscribe %s: %v", pattern, m)
	}
}

// closeCode waits for the server to close the connection and returns its close code.
func (c *conn) closeCode(d time.Duration) (ws.StatusCode, bool) {
	select {
	case code := <-c.closed:
		c.closed <- code
		return code, true
	default:
	}
	select {
	case code := <-c.closed:
		c.closed <- code
		return code, true
	case <-time.After(d):
		return 0, false
	}
}
