package clustertest

import (
	"fmt"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// readyTimeout bounds how long a server may take to accept clients and join its routes.
const readyTimeout = 10 * time.Second

// Cluster is a running set of embedded NATS servers. Its methods may be called from the test's
// goroutine only.
type Cluster struct {
	t       testing.TB
	mu      sync.Mutex        // guards servers (Cleanup may run on another goroutine)
	opts    []*server.Options // ports pinned after the first start, so restarts reuse them
	servers []*server.Server  // nil for a stopped server
}

// StartNATS starts a cluster of n routed servers and returns their client URLs and servers.
// They are shut down by t.Cleanup.
func StartNATS(t testing.TB, n int) (urls []string, servers []*server.Server) {
	t.Helper()
	c := Start(t, n)
	return c.URLs(), c.Servers()
}

// Start starts n servers (n ≥ 1) named "nats-0"…, on 127.0.0.1 ephemeral ports, joined by routes
// in a cluster named "wssgate-test", and waits until each one accepts clients and sees the n-1
// others. They are shut down by t.Cleanup.
func Start(t testing.TB, n int) *Cluster {
	t.Helper()
	if n < 1 {
		t.Fatalf("clustertest: want at least one server, got %d", n)
	}
	c := &Cluster{t: t, opts: make([]*server.Options, n), servers: make([]*server.Server, n)}
	t.Cleanup(c.StopAll)
	var routes []*url.URL
	for i := range n {
		o := &server.Options{
			ServerName: fmt.Sprintf("nats-%d", i),
			Host:       "127.0.0.1",
			Port:       -1,
			NoLog:      true,
			NoSigs:     true,
			Cluster:    server.ClusterOpts{Name: "wssgate-test", Host: "127.0.0.1", Port: -1},
			Routes:     routes,
		}
		s := c.run(o)
		// The server keeps o: restarts use a copy with the ports it got.
		saved := o.Clone()
		saved.Port = s.Addr().(*net.TCPAddr).Port
		saved.Cluster.Port = s.ClusterAddr().Port
		routes = append(routes, &url.URL{Scheme: "nats-route", Host: s.ClusterAddr().String()})
		c.opts[i], c.servers[i] = saved, s
	}
	for i, o := range c.opts {
		// For restarts: every server knows every other one, whatever order they come back in.
		o.Routes = append(routes[:i:i], routes[i+1:]...)
	}
	c.WaitRoutes(n)
	return c
}

// run starts one server and waits until it accepts clients.
func (c *Cluster) run(o *server.Options) *server.Server {
	c.t.Helper()
	s, err := server.NewServer(o)
	if err != nil {
		c.t.Fatalf("clustertest: new NATS server %s: %v", o.ServerName, err)
	}
	s.Start()
	if !s.ReadyForConnections(readyTimeout) {
		s.Shutdown()
		c.t.Fatalf("clustertest: NATS server %s not ready after %s", o.ServerName, readyTimeout)
	}
	return s
}

// URLs returns the client URLs of every server, stopped or not (nats://127.0.0.1:port).
func (c *Cluster) URLs() []string {
	urls := make([]string, len(c.opts))
	for i, o := range c.opts {
		urls[i] = fmt.Sprintf("nats://127.0.0.1:%d", o.Port)
	}
	return urls
}

// Servers returns the running servers (nil for a stopped one).
func (c *Cluster) Servers() []*server.Server {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*server.Server(nil), c.servers...)
}

// Stop shuts server i down and waits until it is gone. Stopping a stopped server is a no-op.
func (c *Cluster) Stop(i int) {
	c.mu.Lock()
	s := c.servers[i]
	c.servers[i] = nil
	c.mu.Unlock()
	if s != nil {
		s.Shutdown()
		s.WaitForShutdown()
	}
}

// StopAll shuts every server down.
func (c *Cluster) StopAll() {
	for i := range c.opts {
		c.Stop(i)
	}
}

// Restart starts server i again on its former ports (after Stop). Call WaitRoutes to wait for
// the routes.
func (c *Cluster) Restart(i int) {
	c.t.Helper()
	c.mu.Lock()
	running := c.servers[i] != nil
	c.mu.Unlock()
	if running {
		c.t.Fatalf("clustertest: restart of running server %d", i)
	}
	o := c.opts[i].Clone()
	s := c.run(o)
	c.mu.Lock()
	c.servers[i] = s
	c.mu.Unlock()
}

// WaitRoutes waits until each running server sees want-1 other servers, or fails the test after
// a bounded time.
func (c *Cluster) WaitRoutes(want int) {
	c.t.Helper()
	deadline := time.Now().Add(readyTimeout)
	for {
		ok := true
		for _, s := range c.Servers() {
			if s != nil && s.NumRemotes() < want-1 {
				ok = false
			}
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("clustertest: routes between %d servers not up after %s", want, readyTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
