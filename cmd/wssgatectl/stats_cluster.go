package main

import (
	"fmt"
	"strings"
	"time"

	adminv1 "github.com/wssgate/wssgate/gen/wssgate/admin/v1"
)

// printCluster prints the cluster link and each node's figures; nothing for a node alone.
func (c *cli) printCluster(resp *adminv1.GetStatsResponse) error {
	cs := resp.GetCluster()
	if cs == nil {
		return nil
	}
	fmt.Fprintln(c.stdout)
	link := "down (this node serves its own sessions only)"
	if cs.GetLinkUp() {
		link = "up, " + cs.GetServer()
	}
	k := newKV(c.stdout, "")
	k.add("cluster", link)
	k.add("nodes_seen", u(cs.GetNodesSeen()))
	k.add("cluster_messages_in", u(cs.GetMessagesIn()))
	k.add("cluster_messages_out", u(cs.GetMessagesOut()))
	k.add("cluster_dropped", u(cs.GetDropped()))
	if len(resp.GetMissingNodes()) > 0 {
		k.add("missing_nodes", strings.Join(resp.GetMissingNodes(), " "))
	}
	if err := k.flush(); err != nil {
		return err
	}
	fmt.Fprintln(c.stdout)
	now := time.Now()
	tw := table(c.stdout, "NODE", "UP", "LAST SEEN", "LISTENER", "OPEN", "HANDSHAKES", "MSGS IN", "MSGS OUT")
	for _, n := range resp.GetNodes() {
		up := fmt.Sprint(n.GetUp())
		if len(n.GetListeners()) == 0 {
			row(tw, n.GetNode(), up, when(n.GetLastSeen(), now), "-", "-", "-", "-", "-")
		}
		for _, l := range n.GetListeners() {
			row(tw, n.GetNode(), up, when(n.GetLastSeen(), now), l.GetName(), u(l.GetOpenSessions()),
				u(l.GetHandshakesOk()), u(l.GetMessagesIn()), u(l.GetMessagesOut()))
		}
	}
	return tw.Flush()
}
