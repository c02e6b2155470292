package hub

import (
	"context"
	"errors"
	"slices"
	"testing"
)

func TestTwoHubsOneBroker(t *testing.T) {
	b := NewMemoryBroker()
	t.Cleanup(func() { b.Close() })
	ha, hb := newHub(t, "a", b), newHub(t, "b", b)
	ra, rb := new(recorder), new(recorder)
	mustSubscribe(t, ha, ra, "devices/+/up", "devices/#")
	mustSubscribe(t, hb, rb, "devices/+/up", "#")

	if got := mustPublish(t, ha, "devices/1/up"); got != 1 {
		t.Errorf("got reached %d on hub a, want 1 (local only)", got)
	}
	for name, r := range map[string]*recorder{"a": ra, "b": rb} {
		r.mu.Lock()
		got := r.got
		r.mu.Unlock()
		if len(got) != 1 {
			t.Fatalf("subscriber on hub %s: got %d deliveries, want 1", name, len(got))
		}
		if got[0].Origin != "a" || got[0].Channel != "devices/1/up" || string(got[0].Data) != "x" {
			t.Errorf("subscriber on hub %s: got %+v, want origin a, devices/1/up, data x", name, got[0])
		}
	}

	hb.Close()
	mustPublish(t, ha, "devices/2/up")
	if got := len(rb.channels()); got != 1 {
		t.Errorf("got %d deliveries on a closed hub, want 1", got)
	}
	if got := len(ra.channels()); got != 2 {
		t.Errorf("got %d deliveries on hub a, want 2", got)
	}
}

func TestBrokerMessageWithOwnOriginIgnored(t *testing.T) {
	b := NewMemoryBroker()
	t.Cleanup(func() { b.Close() })
	h := newHub(t, "a", b)
	r := new(recorder)
	mustSubscribe(t, h, r, "#")
	if err := b.Publish(t.Context(), Message{Channel: "x", Origin: "a"}); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(t.Context(), Message{Channel: "y", Origin: "elsewhere"}); err != nil {
		t.Fatal(err)
	}
	if got, want := r.channels(), []string{"y"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// failingBroker is a Broker whose Publish fails; it checks that local delivery still happens.
type failingBroker struct{ *MemoryBroker }

var errBrokerDown = errors.New("broker down")

func (failingBroker) Publish(context.Context, Message) error { return errBrokerDown }

func TestPublishBrokerError(t *testing.T) {
	h := newHub(t, "a", failingBroker{NewMemoryBroker()})
	r := new(recorder)
	mustSubscribe(t, h, r, "#")
	n, err := h.Publish(t.Context(), Message{Channel: "x"})
	if !errors.Is(err, errBrokerDown) {
		t.Errorf("got error %v, want it to wrap %v", err, errBrokerDown)
	}
	if n != 1 || len(r.channels()) != 1 {
		t.Errorf("got reached %d and %d deliveries, want 1 and 1", n, len(r.channels()))
	}
}
