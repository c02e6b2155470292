package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/wssgate/wssgate/gateway/hub"
)

// chanHandler returns a Broker handler that queues messages, and the queue.
func chanHandler() (func(hub.Message), chan hub.Message) {
	ch := make(chan hub.Message, 1024)
	return func(m hub.Message) {
		select {
		case ch <- m:
		default:
		}
	}, ch
}

func TestCrossNodeDelivery(t *testing.T) {
	_, nodes := startCluster(t, 3, "gw-1", "gw-2", "gw-3")
	local, r2, r3 := newRecorder(), newRecorder(), newRecorder()
	mustSubscribe(t, nodes[0].h, local, "devices/+/up")
	mustSubscribe(t, nodes[1].h, r2, "devices/+/up")
	mustSubscribe(t, nodes[2].h, r3, "devices/#")

	for _, m := range []hub.Message{
		{Channel: "devices/42/up", Data: []byte(`{"t":21.5}`)},
		{Channel: "devices/42/up", Data: []byte{0, 1, 2, 0xff}, Binary: true},
	} {
		reached, err := nodes[0].h.Publish(t.Context(), m)
		if err != nil || reached != 1 {
			t.Fatalf("Publish = %d, %v; want 1 local session reached, nil", reached, err)
		}
		expectMessage(t, local.next(t), m.Channel, string(m.Data), m.Binary, "gw-1")
		expectMessage(t, r2.next(t), m.Channel, string(m.Data), m.Binary, "gw-1")
		expectMessage(t, r3.next(t), m.Channel, string(m.Data), m.Binary, "gw-1")
	}
	// The local subscriber is not delivered to again through NATS; the others got one copy each.
	for _, r := range []*recorder{local, r2, r3} {
		r.none(t, 200*time.Millisecond)
	}
	st := nodes[0].b.Stats()
	if !st.LinkUp || st.Out == 0 || st.Dropped != 0 {
		t.Errorf("gw-1 stats = %+v, want link up, messages out, none dropped", st)
	}
	if st := nodes[1].b.Stats(); st.In == 0 {
		t.Errorf("gw-2 stats = %+v, want messages in", st)
	}
}

func TestEscapingAcrossNodes(t *testing.T) {
	_, nodes := startCluster(t, 2, "gw-1", "gw-2")
	all := newRecorder()
	mustSubscribe(t, nodes[1].h, all, "#")
	for _, tt := range subjectTests {
		t.Run(tt.name, func(t *testing.T) {
			// Through the Hub's "#" subscription.
			if _, err := nodes[0].h.Publish(t.Context(), hub.Message{Channel: tt.channel, Data: []byte(tt.name)}); err != nil {
				t.Fatalf("Publish: %v", err)
			}
			m := all.next(t)
			for string(m.Data) == "exact" { // copies of the previous case's broker publishes
				m = all.next(t)
			}
			expectMessage(t, m, tt.channel, tt.name, false, "gw-1")
			// Through a broker subscription to exactly that channel.
			h, got := chanHandler()
			sub, err := nodes[1].b.Subscribe(t.Context(), tt.channel, h)
			if err != nil {
				t.Fatalf("Subscribe(%q): %v", tt.channel, err)
			}
			defer sub.Unsubscribe()
			m = brokerPublishUntil(t, nodes[0].b, got, hub.Message{Channel: tt.channel, Origin: "gw-1", Data: []byte("exact")})
			expectMessage(t, m, tt.channel, "exact", false, "gw-1")
		})
	}
}

// brokerPublishUntil publishes m on b until got receives a message (a new subscription's
// interest may still be on its way through the routes), and returns that message.
func brokerPublishUntil(t *testing.T, b *Broker, got chan hub.Message, m hub.Message) hub.Message {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for time.Now().Before(deadline) {
		if err := b.Publish(t.Context(), m); err != nil {
			t.Fatalf("Publish(%q): %v", m.Channel, err)
		}
		select {
		case r := <-got:
			return r
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("no message on %q after %s", m.Channel, waitFor)
	return hub.Message{}
}

func TestHashMatchesParentOnce(t *testing.T) {
	_, nodes := startCluster(t, 2, "gw-1", "gw-2")
	h, got := chanHandler()
	sub, err := nodes[1].b.Subscribe(t.Context(), "a/#", h)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	brokerPublishUntil(t, nodes[0].b, got, hub.Message{Channel: "a/warm", Origin: "gw-1"})
	time.Sleep(100 * time.Millisecond) // let repeated warm-up copies arrive
	for len(got) > 0 {
		<-got
	}
	for _, ch := range []string{"ab", "b/a", "a", "a/", "a/b/c", "x"} {
		if err := nodes[0].b.Publish(t.Context(), hub.Message{Channel: ch, Origin: "gw-1"}); err != nil {
			t.Fatal(err)
		}
	}
	var gotCh []string
	for range 3 {
		select {
		case m := <-got:
			gotCh = append(gotCh, m.Channel)
		case <-time.After(waitFor):
			t.Fatalf("got %q, want a, a/, a/b/c", gotCh)
		}
	}
	if fmt.Sprint(gotCh) != "[a a/ a/b/c]" {
		t.Fatalf("a/# received %q, want [a a/ a/b/c] in order", gotCh)
	}
	select {
	case m := <-got:
		t.Fatalf("a/# also received %q", m.Channel)
	case <-time.After(200 * time.Millisecond):
	}
}

func TestOncePerSubscriberWithOverlappingPatterns(t *testing.T) {
	_, nodes := startCluster(t, 2, "gw-1", "gw-2")
	r := newRecorder()
	mustSubscribe(t, nodes[1].h, r, "a/#", "a/+", "+/b", "#", "a/b")
	for i := range 3 {
		if _, err := nodes[0].h.Publish(t.Context(), hub.Message{Channel: "a/b", Data: []byte{byte(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		if m := r.next(t); m.Data[0] != byte(i) {
			t.Fatalf("message %d has data %v", i, m.Data)
		}
	}
	r.none(t, 200*time.Millisecond)
}

func TestServerDownTrafficResumes(t *testing.T) {
	c, nodes := startCluster(t, 3, "gw-1", "gw-2")
	r := newRecorder()
	mustSubscribe(t, nodes[1].h, r, "devices/+/up")
	before := nodes[0].b.Stats()
	// Stop the server gw-1 is connected to (both nodes, if they share it).
	for i, u := range c.URLs() {
		if u == before.Server {
			c.Stop(i)
		}
	}
	eventually(t, "gw-1 reconnects to another server", func() bool {
		st := nodes[0].b.Stats()
		return st.LinkUp && st.Server != before.Server
	})
	publishUntil(t, nodes[0], r, hub.Message{Channel: "devices/1/up", Data: []byte("after")})
	if st := nodes[0].b.Stats(); st.Reconnects < before.Reconnects+1 {
		t.Errorf("reconnects = %d, want more than %d", st.Reconnects, before.Reconnects)
	}
}

func TestAllDownNoBufferingThenResume(t *testing.T) {
	c, nodes := startCluster(t, 3, "gw-1", "gw-2", "gw-3")
	for _, n := range nodes {
		n.b.Handle("ping", func(ctx context.Context, req []byte) ([]byte, error) { return []byte("pong"), nil })
	}
	eventually(t, "three members up", func() bool { return upCount(nodes[0].b) == 3 })
	local, remote := newRecorder(), newRecorder()
	mustSubscribe(t, nodes[0].h, local, "devices/+/up")
	mustSubscribe(t, nodes[1].h, remote, "devices/+/up")

	c.StopAll()
	eventually(t, "gw-1 link down", func() bool { return !nodes[0].b.Stats().LinkUp })
	dropped := nodes[0].b.Stats().Dropped
	start := time.Now()
	for i := range 100 {
		reached, err := nodes[0].h.Publish(t.Context(), hub.Message{Channel: "devices/lost/up", Data: []byte{byte(i)}})
		if !errors.Is(err, ErrLinkDown) || reached != 1 {
			t.Fatalf("Publish while NATS is down = %d, %v; want 1 local, ErrLinkDown", reached, err)
		}
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("100 publishes while down took %s: they must fail at once", d)
	}
	if got := nodes[0].b.Stats().Dropped - dropped; got != 100 {
		t.Errorf("dropped = %d, want 100", got)
	}
	for i := range 100 {
		if m := local.next(t); m.Data[0] != byte(i) {
			t.Fatalf("local delivery %d: data %v", i, m.Data)
		}
	}
	// The cluster-wide call still answers for this node and reports the others missing.
	replies, errs, missing := nodes[0].b.CallAll(t.Context(), "ping", nil)
	if string(replies["gw-1"]) != "pong" || len(replies) != 1 || len(errs) != 0 || fmt.Sprint(missing) != "[gw-2 gw-3]" {
		t.Errorf("CallAll while down = %q, %v, missing %v; want gw-1 only, missing [gw-2 gw-3]", replies, errs, missing)
	}

	for i := range 3 {
		c.Restart(i)
	}
	c.WaitRoutes(3)
	eventually(t, "every node reconnected", func() bool {
		for _, n := range nodes {
			if !n.b.Stats().LinkUp {
				return false
			}
		}
		return true
	})
	publishUntil(t, nodes[0], remote, hub.Message{Channel: "devices/back/up", Data: []byte("back")})
	// Nothing published during the outage arrives late.
	for len(remote.ch) > 0 {
		if m := <-remote.ch; m.Channel == "devices/lost/up" {
			t.Fatalf("a message published while NATS was down was delivered after the restart")
		}
	}
	eventually(t, "members up again", func() bool { return upCount(nodes[0].b) == 3 })
	replies, _, missing = nodes[0].b.CallAll(t.Context(), "ping", nil)
	if len(replies) != 3 || len(missing) != 0 {
		t.Errorf("CallAll after restart = %q, missing %v; want 3 replies", replies, missing)
	}
}

func TestDegradedStart(t *testing.T) {
	// A port with nothing listening (yet).
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)

	nodes := make([]*node, 2)
	for i, name := range []string{"gw-1", "gw-2"} {
		b := newBroker(t, testOptions(name, []string{url}))
		h := hub.New(name, b)
		if err := h.Start(t.Context()); err != nil {
			t.Fatalf("Hub.Start while NATS is unreachable: %v", err)
		}
		t.Cleanup(func() { h.Close() })
		nodes[i] = &node{name: name, b: b, h: h}
	}
	if st := nodes[0].b.Stats(); st.LinkUp {
		t.Fatalf("link up with no server: %+v", st)
	}
	if err := nodes[0].b.Publish(t.Context(), hub.Message{Channel: "x", Origin: "gw-1"}); !errors.Is(err, ErrLinkDown) {
		t.Fatalf("Publish before the first connect: %v, want ErrLinkDown", err)
	}

	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(s.Shutdown)
	if !s.ReadyForConnections(waitFor) {
		t.Fatal("NATS server not ready")
	}
	r := newRecorder()
	mustSubscribe(t, nodes[1].h, r, "devices/+/up")
	publishUntil(t, nodes[0], r, hub.Message{Channel: "devices/1/up", Data: []byte("late")})
}

func TestClosed(t *testing.T) {
	c := startNATS1(t)
	b := newBroker(t, testOptions("gw-1", c))
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := b.Publish(t.Context(), hub.Message{Channel: "x"}); !errors.Is(err, hub.ErrClosed) {
		t.Errorf("Publish after Close: %v", err)
	}
	if _, err := b.Subscribe(t.Context(), "x", func(hub.Message) {}); !errors.Is(err, hub.ErrClosed) {
		t.Errorf("Subscribe after Close: %v", err)
	}
	if _, err := b.Call(t.Context(), "gw-1", "m", nil); !errors.Is(err, hub.ErrClosed) {
		t.Errorf("Call after Close: %v", err)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	for name, o := range map[string]Options{
		"no node":     {URLs: []string{"nats://127.0.0.1:4222"}},
		"node all":    {Node: "all", URLs: []string{"nats://127.0.0.1:4222"}},
		"no URL":      {Node: "n"},
		"bad URL":     {Node: "n", URLs: []string{"http://x"}},
		"bad name":    {Node: "n", URLs: []string{"nats://127.0.0.1:4222"}, Name: "a.b"},
		"no creds":    {Node: "n", URLs: []string{"nats://127.0.0.1:4222"}, Credentials: "/nonexistent.creds"},
		"cert no key": {Node: "n", URLs: []string{"nats://127.0.0.1:4222"}, TLS: clusterTLS("", "c.pem", "")},
	} {
		t.Run(name, func(t *testing.T) {
			if b, err := New(t.Context(), o, nil); err == nil {
				b.Close()
				t.Fatal("New succeeded")
			}
		})
	}
}

// startNATS1 starts one NATS server and returns its URL list.
func startNATS1(t *testing.T) []string {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(s.Shutdown)
	if !s.ReadyForConnections(waitFor) {
		t.Fatal("NATS server not ready")
	}
	return []string{s.ClientURL()}
}

func upCount(b *Broker) int {
	n := 0
	for _, m := range b.Members() {
		if m.Up {
			n++
		}
	}
	return n
}
