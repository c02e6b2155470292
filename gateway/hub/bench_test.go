package hub

import (
	"fmt"
	"strconv"
	"testing"
)

// nop is a Subscriber that accepts every delivery and does nothing.
type nop struct{ _ int }

func (*nop) Deliver(*Delivery) bool { return true }

// spreadHub returns a Hub with n subscriptions (one per subscriber) spread like a real
// deployment: mostly one device each, at depths 3 and 5, plus a few wildcard patterns.
func spreadHub(b *testing.B, n int) *Hub {
	b.Helper()
	h := New("bench", nil)
	b.Cleanup(func() { h.Close() })
	wild := []string{"devices/+/up", "devices/+/#", "tenants/+/devices/+/up", "tenants/7/#", "+/+/+/+/+/+/+/+"}
	for i := range n {
		var p string
		switch {
		case i < len(wild):
			p = wild[i]
		case i%4 == 0:
			p = fmt.Sprintf("tenants/%d/devices/%d/up", i%100, i)
		case i%4 == 1:
			p = fmt.Sprintf("devices/%d/#", i)
		default:
			p = fmt.Sprintf("devices/%d/up", i)
		}
		if err := h.Subscribe(new(nop), p); err != nil {
			b.Fatal(err)
		}
	}
	return h
}

// benchMatch measures finding the trie nodes that match channel (the matching part of Publish).
func benchMatch(b *testing.B, h *Hub, channel string) {
	b.ReportAllocs()
	nodes := make([]*node, 0, 64)
	for b.Loop() {
		h.mu.RLock()
		nodes = h.root.match(channel, false, nodes[:0])
		h.mu.RUnlock()
	}
	b.ReportMetric(float64(len(nodes)), "nodes")
}

// BenchmarkMatch100kSubs varies the depth of the published channel at 100k subscriptions.
func BenchmarkMatch100kSubs(b *testing.B) {
	h := spreadHub(b, 100_000)
	for _, ch := range []string{
		"devices",
		"devices/42/up",
		"tenants/42/devices/42/up",
		"tenants/7/devices/42/up/a/b/c",
		"tenants/7/devices/42/up/a/b/c/d/e/f/g/h/i/j/k",
	} {
		b.Run("depth="+strconv.Itoa(depth(ch)), func(b *testing.B) { benchMatch(b, h, ch) })
	}
}

// BenchmarkMatchBySubs keeps the channel fixed and varies the number of subscriptions: the cost
// must stay flat.
func BenchmarkMatchBySubs(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		h := spreadHub(b, n)
		b.Run("subs="+strconv.Itoa(n), func(b *testing.B) { benchMatch(b, h, "tenants/42/devices/44/up") })
	}
}

func depth(ch string) int {
	n := 1
	for i := range len(ch) {
		if ch[i] == '/' {
			n++
		}
	}
	return n
}

// BenchmarkPublishFanout10k publishes one message to 10k local subscribers through a started Hub
// (own MemoryBroker included). overlap: half of them match through two patterns (deduplicated);
// frame: every subscriber asks for the encoded frame, which is encoded once per publication.
func BenchmarkPublishFanout10k(b *testing.B) {
	const subs = 10_000
	msg := Message{Channel: "devices/42/up", Data: []byte(`{"t":21.5}`)}
	enc := func(m Message) []byte { return append([]byte(`{"type":"message","data":`), m.Data...) }
	for _, tc := range []struct {
		name    string
		overlap bool
		frame   bool
	}{{"plain", false, false}, {"overlap", true, false}, {"frame", false, true}} {
		b.Run(tc.name, func(b *testing.B) {
			h := New("bench", nil)
			b.Cleanup(func() { h.Close() })
			if err := h.Start(b.Context()); err != nil {
				b.Fatal(err)
			}
			for i := range subs {
				var s Subscriber = new(nop)
				if tc.frame {
					s = &framer{enc: enc}
				}
				if err := h.Subscribe(s, "devices/+/up"); err != nil {
					b.Fatal(err)
				}
				if tc.overlap && i%2 == 0 {
					if err := h.Subscribe(s, "devices/#"); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				n, err := h.Publish(b.Context(), msg)
				if err != nil || n != subs {
					b.Fatalf("got reached %d, err %v, want %d, nil", n, err, subs)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*subs), "ns/delivery")
		})
	}
}

// BenchmarkSubscribeUnsubscribe subscribes and unsubscribes one subscriber to a device pattern in
// a Hub that holds 100k subscriptions.
func BenchmarkSubscribeUnsubscribe(b *testing.B) {
	h := spreadHub(b, 100_000)
	s := new(nop)
	patterns := make([]string, 1024)
	for i := range patterns {
		patterns[i] = fmt.Sprintf("devices/%d/up", 1_000_000+i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p := patterns[i%len(patterns)]
		i++
		if err := h.Subscribe(s, p); err != nil {
			b.Fatal(err)
		}
		if !h.Unsubscribe(s, p) {
			b.Fatal("got Unsubscribe false, want true")
		}
	}
}
