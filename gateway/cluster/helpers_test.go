package cluster

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/wssgate/wssgate/gateway/cluster/clustertest"
	"github.com/wssgate/wssgate/gateway/hub"
)

// Test timings: heartbeats every 100ms (down after 300ms), reconnect rounds from 20ms to 200ms.
const (
	testBeat = 100 * time.Millisecond
	waitFor  = 10 * time.Second // upper bound of every wait in these tests
)

func testOptions(node string, urls []string) Options {
	return Options{
		Node:              node,
		URLs:              urls,
		HeartbeatInterval: testBeat,
		ReconnectWait:     20 * time.Millisecond,
		MaxReconnectWait:  200 * time.Millisecond,
		ConnectTimeout:    time.Second,
		RPCTimeout:        2 * time.Second,
	}
}

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("test", t.Name())
	}
	return slog.New(slog.DiscardHandler)
}

// newBroker starts a Broker closed at the end of the test.
func newBroker(t *testing.T, opts Options) *Broker {
	t.Helper()
	b, err := New(t.Context(), opts, testLogger(t))
	if err != nil {
		t.Fatalf("New(%s): %v", opts.Node, err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// node is one gateway node of a test: its Broker and a started Hub on it.
type node struct {
	name string
	b    *Broker
	h    *hub.Hub
}

// startNodes starts one node per name, each given every URL, and waits until every Hub's
// broker subscription is known across the NATS cluster.
func startNodes(t *testing.T, urls []string, names ...string) []*node {
	t.Helper()
	var nodes []*node
	for _, name := range names {
		b := newBroker(t, testOptions(name, urls))
		h := hub.New(name, b)
		if err := h.Start(t.Context()); err != nil {
			t.Fatalf("Hub.Start(%s): %v", name, err)
		}
		t.Cleanup(func() { h.Close() })
		nodes = append(nodes, &node{name: name, b: b, h: h})
	}
	connected(t, nodes...)
	return nodes
}

// startCluster starts n NATS servers and one node per name.
func startCluster(t *testing.T, servers int, names ...string) (*clustertest.Cluster, []*node) {
	t.Helper()
	c := clustertest.Start(t, servers)
	return c, startNodes(t, c.URLs(), names...)
}

// connected waits until every node reaches every other: a probe published on each is
// received by each other node (route interest propagates asynchronously).
func connected(t *testing.T, nodes ...*node) {
	t.Helper()
	probes := make([]*recorder, len(nodes))
	for i, n := range nodes {
		probes[i] = newRecorder()
		mustSubscribe(t, n.h, probes[i], "_probe/#")
	}
	deadline := time.Now().Add(waitFor)
	for i, from := range nodes {
		for j := range nodes {
			if i == j {
				continue
			}
			ch := fmt.Sprintf("_probe/%s/%s", from.name, nodes[j].name)
			for {
				_, _ = from.h.Publish(t.Context(), hub.Message{Channel: ch})
				if probes[j].waitFor(ch, 50*time.Millisecond) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("node %s does not reach node %s after %s", from.name, nodes[j].name, waitFor)
				}
			}
		}
	}
	// Let the repeated probes arrive before the test starts.
	time.Sleep(50 * time.Millisecond)
	for i, n := range nodes {
		n.h.UnsubscribeAll(probes[i])
	}
}

// recorder is a Subscriber that keeps every message it gets.
type recorder struct {
	ch chan hub.Message
}

func newRecorder() *recorder { return &recorder{ch: make(chan hub.Message, 4096)} }

func (r *recorder) Deliver(d *hub.Delivery) bool {
	select {
	case r.ch <- d.Message:
		return true
	default:
		return false
	}
}

// waitFor waits up to d for a message on channel, dropping others.
func (r *recorder) waitFor(channel string, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case m := <-r.ch:
			if m.Channel == channel {
				return true
			}
		case <-timer.C:
			return false
		}
	}
}

// next returns the next message, failing the test after waitFor.
func (r *recorder) next(t *testing.T) hub.Message {
	t.Helper()
	select {
	case m := <-r.ch:
		return m
	case <-time.After(waitFor):
		t.Fatalf("no message after %s", waitFor)
		return hub.Message{}
	}
}

// none fails the test if a message arrives within d.
func (r *recorder) none(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case m := <-r.ch:
		t.Fatalf("unexpected message on %q: %q", m.Channel, m.Data)
	case <-time.After(d):
	}
}

func mustSubscribe(t *testing.T, h *hub.Hub, s hub.Subscriber, patterns ...string) {
	t.Helper()
	for _, p := range patterns {
		if err := h.Subscribe(s, p); err != nil {
			t.Fatalf("Subscribe(%q): %v", p, err)
		}
	}
}

// expectMessage fails unless m is the message (channel, data, binary) from origin.
func expectMessage(t *testing.T, m hub.Message, channel, data string, binary bool, origin string) {
	t.Helper()
	if m.Channel != channel || !bytes.Equal(m.Data, []byte(data)) || m.Binary != binary || m.Origin != origin {
		t.Fatalf("got %q %q binary=%v from %q, want %q %q binary=%v from %q",
			m.Channel, m.Data, m.Binary, m.Origin, channel, data, binary, origin)
	}
}

// eventually polls cond every 10ms until it holds, failing the test after waitFor.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %s", what, waitFor)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// publishUntil publishes m from n until r receives it (a route or a reconnect may still be on
// its way), failing the test after waitFor. It returns how many publishes it took.
func publishUntil(t *testing.T, n *node, r *recorder, m hub.Message) int {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for i := 1; ; i++ {
		_, _ = n.h.Publish(context.Background(), m)
		if r.waitFor(m.Channel, 50*time.Millisecond) {
			return i
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never received %q from %s", "subscriber", m.Channel, n.name)
		}
	}
}
