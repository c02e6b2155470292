package hub

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

func TestDeliveryFrameCachesPerKind(t *testing.T) {
	d := &Delivery{Message: Message{Channel: "c", Data: []byte("x")}}
	calls := 0
	enc := func(k string) func(Message) []byte {
		return func(m Message) []byte { calls++; return append([]byte(k), m.Data...) }
	}
	for range 3 {
		if got := string(d.Frame(0, enc("json:"))); got != "json:x" {
			t.Errorf("got kind 0 frame %q, want %q", got, "json:x")
		}
		if got := string(d.Frame(1, enc("raw:"))); got != "raw:x" {
			t.Errorf("got kind 1 frame %q, want %q", got, "raw:x")
		}
	}
	if calls != 2 {
		t.Errorf("got %d encodings, want 2", calls)
	}
	if got := string(d.Frame(NumKinds, enc("other:"))); got != "other:x" || calls != 3 {
		t.Errorf("got out-of-range kind frame %q after %d encodings, want %q after 3", got, calls, "other:x")
	}
}

func TestDeliveryFrameSharedAcrossSubscribers(t *testing.T) {
	h := newHub(t, "a", nil)
	var encodings int
	enc := func(m Message) []byte { encodings++; return m.Data }
	subs := make([]*framer, 100)
	for i := range subs {
		subs[i] = &framer{enc: enc}
		mustSubscribe(t, h, subs[i], "devices/+/up")
	}
	mustPublish(t, h, "devices/1/up")
	if encodings != 1 {
		t.Errorf("got %d encodings for %d subscribers, want 1", encodings, len(subs))
	}
	for i, s := range subs {
		if string(s.frame) != "x" {
			t.Fatalf("subscriber %d: got frame %q, want %q", i, s.frame, "x")
		}
	}
}

// framer asks each delivery for its kind-0 frame, as a session does.
type framer struct {
	enc   func(Message) []byte
	frame []byte
}

func (f *framer) Deliver(d *Delivery) bool {
	f.frame = d.Frame(0, f.enc)
	return true
}

func TestDeliveryFrameConcurrent(t *testing.T) {
	d := &Delivery{Message: Message{Data: []byte("x")}}
	var calls atomic.Int64
	enc := func(m Message) []byte { calls.Add(1); return m.Data }
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if got := string(d.Frame(1, enc)); got != "x" {
				t.Errorf("got frame %q, want %q", got, "x")
			}
		})
	}
	wg.Wait()
	if got := calls.Load(); got != 1 {
		t.Errorf("got %d encodings, want 1", got)
	}
}

func TestDirectLookup(t *testing.T) {
	b := NewMemoryBroker()
	t.Cleanup(func() { b.Close() })
	device, watcher, remoteDevice := new(recorder), new(recorder), new(recorder)
	lookup := func(r *recorder) func(string) Subscriber {
		return func(ch string) Subscriber {
			if ch == "devices/d1/down" {
				return r
			}
			return nil
		}
	}
	ha, hb := New("a", b), New("b", b)
	ha.SetDirect(lookup(device))
	hb.SetDirect(lookup(remoteDevice))
	for _, h := range []*Hub{ha, hb} {
		if err := h.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
	}
	mustSubscribe(t, ha, watcher, "devices/+/down")

	if got := mustPublish(t, ha, "devices/d1/down"); got != 2 {
		t.Errorf("reached %d, want 2 (the direct subscriber and the pattern one)", got)
	}
	if got := mustPublish(t, ha, "devices/d2/down"); got != 1 {
		t.Errorf("reached %d for another device, want 1 (the pattern one)", got)
	}
	if got, want := strings.Join(device.channels(), ","), "devices/d1/down"; got != want {
		t.Errorf("direct subscriber got %q, want %q", got, want)
	}
	// Through the broker, hub b's direct lookup delivers too.
	if got, want := strings.Join(remoteDevice.channels(), ","), "devices/d1/down"; got != want {
		t.Errorf("direct subscriber on the other node got %q, want %q", got, want)
	}
}
