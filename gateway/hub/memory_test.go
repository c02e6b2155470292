package hub

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
)

// counter is a Subscriber that counts deliveries.
type counter struct{ n atomic.Int64 }

func (c *counter) Deliver(*Delivery) bool { c.n.Add(1); return true }

func TestMemoryBroker(t *testing.T) {
	b := NewMemoryBroker()
	t.Cleanup(func() { b.Close() })
	var got []string
	record := func(prefix string) func(Message) {
		return func(m Message) { got = append(got, prefix+m.Channel) }
	}
	s1, err := b.Subscribe(t.Context(), "devices/+/up", record("1:"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Subscribe(t.Context(), "#", record("2:")); err != nil {
		t.Fatal(err)
	}
	for _, ch := range []string{"devices/1/up", "other"} {
		if err := b.Publish(t.Context(), Message{Channel: ch}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s1.Unsubscribe(); err != nil {
		t.Fatal(err)
	}
	if err := s1.Unsubscribe(); err != nil {
		t.Errorf("got second Unsubscribe error %v, want nil", err)
	}
	if err := b.Publish(t.Context(), Message{Channel: "devices/2/up"}); err != nil {
		t.Fatal(err)
	}
	want := []string{"1:devices/1/up", "2:devices/1/up", "2:other", "2:devices/2/up"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestMemoryBrokerErrors(t *testing.T) {
	b := NewMemoryBroker()
	canceled, cancel := context.WithCancel(t.Context())
	cancel()
	nop := func(Message) {}
	tests := map[string]struct {
		call func() error
		want error
	}{
		"invalid pattern": {func() error { _, err := b.Subscribe(t.Context(), "a/#/b", nop); return err }, ErrInvalidPattern},
		"nil handler":     {func() error { _, err := b.Subscribe(t.Context(), "a", nil); return err }, errNilHandler},
		"canceled sub":    {func() error { _, err := b.Subscribe(canceled, "a", nop); return err }, context.Canceled},
		"invalid channel": {func() error { return b.Publish(t.Context(), Message{Channel: "a/#"}) }, ErrInvalidChannel},
		"canceled pub":    {func() error { return b.Publish(canceled, Message{Channel: "a"}) }, context.Canceled},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, tt.want) {
				t.Errorf("got error %v, want %v", err, tt.want)
			}
		})
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("got second Close error %v, want nil", err)
	}
	if err := b.Publish(t.Context(), Message{Channel: "a"}); !errors.Is(err, ErrClosed) {
		t.Errorf("got Publish error %v after Close, want %v", err, ErrClosed)
	}
	if _, err := b.Subscribe(t.Context(), "a", nop); !errors.Is(err, ErrClosed) {
		t.Errorf("got Subscribe error %v after Close, want %v", err, ErrClosed)
	}
}

func TestMemoryBrokerHandlerMayUnsubscribe(t *testing.T) {
	b := NewMemoryBroker()
	t.Cleanup(func() { b.Close() })
	var sub Subscription
	calls := 0
	sub, err := b.Subscribe(t.Context(), "#", func(Message) {
		calls++
		sub.Unsubscribe()
	})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := b.Publish(t.Context(), Message{Channel: "a"}); err != nil {
			t.Fatal(err)
		}
	}
	if calls != 1 {
		t.Errorf("got %d handler calls, want 1", calls)
	}
}
