package cluster

import (
	"testing"
	"time"
)

func member(b *Broker, name string) (Member, bool) {
	for _, m := range b.Members() {
		if m.Node == name {
			return m, true
		}
	}
	return Member{}, false
}

func TestMembership(t *testing.T) {
	c := startNATS3(t)
	opts := testOptions("gw-1", c)
	opts.ForgetAfter = 1500 * time.Millisecond
	opts.Addrs = Addrs{Admin: "127.0.0.1:9090"}
	b1 := newBroker(t, opts)
	b2 := newBroker(t, testOptions("gw-2", c))
	b3 := newBroker(t, testOptions("gw-3", c))

	eventually(t, "every node sees three members up", func() bool {
		return upCount(b1) == 3 && upCount(b2) == 3 && upCount(b3) == 3
	})
	ms := b1.Members()
	if !ms[0].Self || ms[0].Node != "gw-1" || ms[1].Node != "gw-2" || ms[2].Node != "gw-3" {
		t.Fatalf("Members = %+v, want gw-1 (self), gw-2, gw-3", ms)
	}
	if m, _ := member(b2, "gw-1"); m.Addrs.Admin != "127.0.0.1:9090" || !m.Started.Equal(ms[0].Started) {
		t.Errorf("gw-2 sees gw-1 as %+v, want its admin address and start time", m)
	}
	if st := b1.Stats(); st.Nodes != 3 || st.NodesUp != 3 {
		t.Errorf("Stats nodes = %d/%d, want 3/3", st.NodesUp, st.Nodes)
	}

	// gw-3 dies without a word (its connection drops): reported down, then forgotten.
	b3.nc.Close()
	eventually(t, "gw-3 reported down", func() bool {
		m, ok := member(b1, "gw-3")
		return ok && !m.Up
	})
	if st := b1.Stats(); st.Nodes != 3 || st.NodesUp != 2 {
		t.Errorf("Stats nodes = %d/%d, want 2/3", st.NodesUp, st.Nodes)
	}
	eventually(t, "gw-3 forgotten", func() bool { _, ok := member(b1, "gw-3"); return !ok })

	// gw-2 leaves cleanly: forgotten at once, never reported down.
	if err := b2.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "gw-2 forgotten after leaving", func() bool {
		m, ok := member(b1, "gw-2")
		if ok && !m.Up {
			t.Fatalf("gw-2 left cleanly but is reported down: %+v", m)
		}
		return !ok
	})
}

// startNATS3 starts a 3-server NATS cluster and returns its URLs.
func startNATS3(t *testing.T) []string {
	t.Helper()
	c, _ := startCluster(t, 3)
	return c.URLs()
}
