package clustere2e

import (
	"context"
	"slices"
	"testing"

	"github.com/wssgate/wssgate/gateway/hub"
)

func hubMsg(channel, text string) hub.Message {
	return hub.Message{Channel: channel, Data: []byte(text)}
}

// serverOf returns the index of the NATS server n is connected to.
func (e *env) serverOf(n *node) int {
	e.t.Helper()
	var idx int
	eventually(e.t, n.name+" connected to NATS", func() bool {
		st := n.g.Cluster().Stats()
		idx = slices.IndexFunc(e.nats.URLs(), func(u string) bool { return st.LinkUp && u == st.Server })
		return idx >= 0
	})
	return idx
}

func TestNATSOutages(t *testing.T) {
	e := newEnv(t, 3)
	a, b := e.nodes[0], e.nodes[1]
	dev := e.device(a, "d1")
	remote, local := e.app(b), e.app(a)
	remote.subscribe("devices/+/up")
	local.subscribe("devices/+/up")
	upFrom(t, dev, remote, "d1")

	// One NATS server of three goes away: the nodes on it reconnect to the others.
	e.nats.Stop(e.serverOf(a))
	upFrom(t, dev, remote, "d1")
	if r := command(t, e.app(e.nodes[2]), "d1", 2); r != 1 {
		t.Errorf("command after one NATS server stopped: reached %v, want 1", r)
	}

	// Every NATS server away: each node serves its own sessions; nothing crosses.
	e.nats.StopAll()
	eventually(t, "node 1 sees the link down", func() bool { return !a.g.ClusterLink().LinkUp })
	upFrom(t, dev, local, "d1")
	if r := command(t, local, "d1", 3); r != 1 {
		t.Errorf("local command while NATS is down: reached %v, want 1", r)
	}
	expectFrame(t, dev, "cmd-3")
	if r := command(t, e.app(b), "d1", 4); r != 0 {
		t.Errorf("command from node 2 while NATS is down: reached %v, want 0 (its own sessions only)", r)
	}
	st := a.g.ClusterStats(context.Background())
	if st.Link.LinkUp || !slices.Contains(st.Missing, "gw-2") || !slices.Contains(st.Missing, "gw-3") {
		t.Errorf("stats of node 1 with NATS down: link up %v, missing %v; want down and gw-2, gw-3 missing", st.Link.LinkUp, st.Missing)
	}
	if st.Link.Dropped == 0 {
		t.Errorf("stats of node 1 with NATS down: dropped 0, want the device's messages counted")
	}
	if n, err := a.g.Publish(context.Background(), hubMsg("devices/d1/down", "x")); err != nil || n != 1 {
		t.Errorf("admin publish on node 1 with NATS down: %d, %v; want 1, nil", n, err)
	}

	// NATS back (the same ports): the nodes reconnect by themselves.
	for i := range 3 {
		e.nats.Restart(i)
	}
	e.nats.WaitRoutes(3)
	e.waitMembers(3)
	upFrom(t, dev, remote, "d1")
	if r := command(t, e.app(e.nodes[2]), "d1", 5); r != 1 {
		t.Errorf("command after NATS restarted: reached %v, want 1", r)
	}
}
