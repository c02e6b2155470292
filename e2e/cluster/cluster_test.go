package clustere2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wssgate/wssgate/gateway"
	"github.com/wssgate/wssgate/gateway/session"
)

// upFrom waits until app receives a telemetry message of device id (the device keeps sending
// one per try: at most once, so a frame sent while a route forms may be lost).
func upFrom(t *testing.T, dev, app *conn, id string) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for i := 0; time.Now().Before(deadline); i++ {
		dev.mustSend(fmt.Sprintf(`{"n":%d}`, i))
		for {
			f, ok := app.next(200 * time.Millisecond)
			if !ok {
				break
			}
			if strings.Contains(string(f.data), `"channel":"devices/`+id+`/up"`) {
				return
			}
		}
	}
	t.Fatalf("no devices/%s/up message reached the app within %s", id, wait)
}

// command publishes to devices/id/down from app (acked) and returns reached.
func command(t *testing.T, app *conn, id string, n float64) float64 {
	t.Helper()
	m := app.ack(fmt.Sprintf(`{"type":"publish","id":%v,"channel":"devices/%s/down","data":"cmd-%v"}`, n, id, n), n)
	if m["type"] != "ack" {
		t.Fatalf("publish to devices/%s/down: %v", id, m)
	}
	r, _ := m["reached"].(float64)
	return r
}

// expectFrame waits for a frame on dev with exactly text.
func expectFrame(t *testing.T, dev *conn, text string) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		f, ok := dev.next(time.Until(deadline))
		if !ok {
			break
		}
		if string(f.data) == text {
			return
		}
	}
	t.Fatalf("device did not receive %q within %s", text, wait)
}

func TestCrossNodeUpDownAndReached(t *testing.T) {
	e := newEnv(t, 3)
	a, b, c := e.nodes[0], e.nodes[1], e.nodes[2]
	dev := e.device(a, "d1")
	watcher := e.app(b)
	watcher.subscribe("devices/+/up")
	upFrom(t, dev, watcher, "d1") // up: device on node 1, app on node 2

	cmd := e.app(c)
	if r := command(t, cmd, "d1", 7); r != 1 {
		t.Errorf("publish from node 3 to a device on node 1: reached %v, want 1", r)
	}
	expectFrame(t, dev, "cmd-7")
	if r := command(t, e.app(a), "d1", 8); r != 1 { // the local fast path
		t.Errorf("publish on the device's own node: reached %v, want 1", r)
	}
	expectFrame(t, dev, "cmd-8")
	if r := command(t, cmd, "nobody", 9); r != 0 {
		t.Errorf("publish to an unknown device: reached %v, want 0", r)
	}
	// Two subscribers of devices/+/down on nodes 1 and 2 and the device: reached 3.
	for _, n := range []*node{a, b} {
		e.app(n).subscribe("devices/+/down")
	}
	if r := command(t, cmd, "d1", 10); r != 3 {
		t.Errorf("publish with subscribers on two nodes and the device: reached %v, want 3", r)
	}
	// The admin Publish counts the cluster too.
	if n, err := c.g.Publish(context.Background(), hubMsg("devices/d1/down", "admin")); err != nil || n != 3 {
		t.Errorf("Gateway.Publish on node 3: reached %d, %v; want 3", n, err)
	}
}

func TestTakeoverAcrossNodes(t *testing.T) {
	e := newEnv(t, 3)
	a, c := e.nodes[0], e.nodes[2]
	old := e.device(a, "dup")
	eventually(t, "node 1 registered the device", func() bool { return len(devices(t, c.g, "dup")) == 1 })
	e.device(c, "dup")
	if code, ok := old.closeCode(wait); !ok || code != session.CodeReplaced {
		t.Fatalf("older session on node 1: close code %v (closed %v), want 4001", code, ok)
	}
	eventually(t, "one dup session, on node 3", func() bool {
		ds := devices(t, a.g, "dup")
		return len(ds) == 1 && ds[0].Node == c.name
	})

	// Both at once, on two nodes: exactly one survives, every round.
	for round := range 5 {
		id := fmt.Sprintf("race-%d", round)
		var wg sync.WaitGroup
		conns := make([]*conn, 2)
		for i, n := range []*node{e.nodes[0], e.nodes[1]} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cl, err := e.dial("wss://" + n.dev + "/device?device_id=" + id)
				if err != nil {
					t.Errorf("dial %s: %v", n.name, err)
					return
				}
				conns[i] = cl
			}()
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		eventually(t, "exactly one of two simultaneous sessions closed with 4001", func() bool {
			closed := 0
			for _, cl := range conns {
				if code, ok := cl.closeCode(0); ok && code == session.CodeReplaced {
					closed++
				}
			}
			return closed == 1
		})
		time.Sleep(100 * time.Millisecond) // no second close may follow
		open := 0
		for _, cl := range conns {
			if _, closed := cl.closeCode(0); !closed {
				open++
			}
		}
		if ds := devices(t, e.nodes[2].g, id); open != 1 || len(ds) != 1 {
			t.Fatalf("round %d: %d connections open, %d sessions listed (%v); want exactly one", round, open, len(ds), ds)
		}
	}
}

func devices(t *testing.T, g *gateway.Gateway, prefix string) []gateway.Device {
	t.Helper()
	ds, missing := g.Devices(context.Background(), prefix)
	if len(missing) > 0 {
		t.Logf("devices: missing nodes %v", missing)
	}
	return ds
}
