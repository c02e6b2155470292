package hub

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// recorder is a Subscriber that records what it receives; refuse makes it decline deliveries.
type recorder struct {
	mu     sync.Mutex
	got    []Message
	refuse bool
}

func (r *recorder) Deliver(d *Delivery) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.refuse {
		return false
	}
	r.got = append(r.got, d.Message)
	return true
}

func (r *recorder) channels() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, m := range r.got {
		out = append(out, m.Channel)
	}
	return out
}

// newHub returns a started Hub closed at the end of the test.
func newHub(t *testing.T, node string, b Broker) *Hub {
	t.Helper()
	h := New(node, b)
	if err := h.Start(t.Context()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func mustSubscribe(t *testing.T, h *Hub, s Subscriber, patterns ...string) {
	t.Helper()
	for _, p := range patterns {
		if err := h.Subscribe(s, p); err != nil {
			t.Fatalf("Subscribe(%q): %v", p, err)
		}
	}
}

func mustPublish(t *testing.T, h *Hub, channel string) int {
	t.Helper()
	n, err := h.Publish(t.Context(), Message{Channel: channel, Data: []byte("x")})
	if err != nil {
		t.Fatalf("Publish(%q): %v", channel, err)
	}
	return n
}

func TestPublishRouting(t *testing.T) {
	tests := map[string]struct {
		patterns []string
		publish  []string
		want     []string
	}{
		"exact":              {[]string{"devices/1/up"}, []string{"devices/1/up", "devices/2/up"}, []string{"devices/1/up"}},
		"plus":               {[]string{"devices/+/up"}, []string{"devices/1/up", "devices/2/down", "devices/3/up"}, []string{"devices/1/up", "devices/3/up"}},
		"hash parent":        {[]string{"devices/#"}, []string{"devices", "devices/1/up", "other"}, []string{"devices", "devices/1/up"}},
		"dedupe overlapping": {[]string{"devices/+/up", "devices/#", "#", "devices/1/up"}, []string{"devices/1/up", "x"}, []string{"devices/1/up", "x"}},
		"none":               {[]string{"a/b"}, []string{"a", "a/b/c", "b/a"}, nil},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			h := newHub(t, "n1", nil)
			r := new(recorder)
			mustSubscribe(t, h, r, tt.patterns...)
			for _, ch := range tt.publish {
				mustPublish(t, h, ch)
			}
			if got := r.channels(); !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTrieMatchesReference(t *testing.T) {
	for name, tt := range matchTests {
		t.Run(name, func(t *testing.T) {
			if ValidPattern(tt.pattern) != nil || ValidChannel(tt.channel) != nil {
				t.Skip("invalid input: the hub rejects it before matching")
			}
			h := New("n1", nil)
			t.Cleanup(func() { h.Close() })
			r := new(recorder)
			// Unrelated patterns make the trie branch; they must not change the result.
			mustSubscribe(t, h, new(recorder), "x/#", "+/x", "a/b/c")
			mustSubscribe(t, h, r, tt.pattern)
			mustPublish(t, h, tt.channel)
			if got := len(r.channels()) == 1; got != tt.want {
				t.Errorf("trie match(%q, %q) = %v, want %v", tt.pattern, tt.channel, got, tt.want)
			}
		})
	}
}

func TestPublishReached(t *testing.T) {
	h := newHub(t, "n1", nil)
	a, b, refusing := new(recorder), new(recorder), &recorder{refuse: true}
	mustSubscribe(t, h, a, "devices/+/up", "devices/#")
	mustSubscribe(t, h, b, "devices/1/up")
	mustSubscribe(t, h, refusing, "#")
	if got := mustPublish(t, h, "devices/1/up"); got != 2 {
		t.Errorf("got reached %d, want 2", got)
	}
	if got := len(a.channels()); got != 1 {
		t.Errorf("got %d deliveries to a subscriber with two matching patterns, want 1", got)
	}
	if got := mustPublish(t, h, "nobody/here"); got != 0 {
		t.Errorf("got reached %d, want 0", got)
	}
}

func TestSubscribeIdempotentAndCounts(t *testing.T) {
	h := newHub(t, "n1", nil)
	a, b := new(recorder), new(recorder)
	mustSubscribe(t, h, a, "devices/+/up", "devices/+/up", "devices/#")
	mustSubscribe(t, h, b, "devices/+/up")
	if got, want := h.SubscriberCount(), 2; got != want {
		t.Errorf("got SubscriberCount %d, want %d", got, want)
	}
	if got, want := h.PatternCount(), 2; got != want {
		t.Errorf("got PatternCount %d, want %d", got, want)
	}
	mustPublish(t, h, "devices/1/up")
	if got := len(a.channels()); got != 1 {
		t.Errorf("got %d deliveries after a duplicate Subscribe, want 1", got)
	}
}

func TestSubscribeErrors(t *testing.T) {
	h := newHub(t, "n1", nil)
	tests := map[string]struct {
		s       Subscriber
		pattern string
		want    error
	}{
		"invalid pattern":    {new(recorder), "a/#/b", ErrInvalidPattern},
		"empty pattern":      {new(recorder), "", ErrInvalidPattern},
		"nil subscriber":     {nil, "a", ErrBadSubscriber},
		"not comparable":     {funcSubscriber(func(*Delivery) bool { return true }), "a", ErrBadSubscriber},
		"valid subscription": {new(recorder), "a/+", nil},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if err := h.Subscribe(tt.s, tt.pattern); !errors.Is(err, tt.want) {
				t.Errorf("got error %v, want %v", err, tt.want)
			}
		})
	}
}

// funcSubscriber is a non-comparable Subscriber, which Subscribe must refuse without panicking.
type funcSubscriber func(*Delivery) bool

func (f funcSubscriber) Deliver(d *Delivery) bool { return f(d) }

func TestUnsubscribe(t *testing.T) {
	h := newHub(t, "n1", nil)
	a, b := new(recorder), new(recorder)
	mustSubscribe(t, h, a, "devices/+/up", "devices/#")
	mustSubscribe(t, h, b, "devices/+/up")

	if !h.Unsubscribe(a, "devices/+/up") {
		t.Fatal("got Unsubscribe false for an existing subscription, want true")
	}
	if h.Unsubscribe(a, "devices/+/up") {
		t.Error("got Unsubscribe true for a removed subscription, want false")
	}
	if h.Unsubscribe(a, "never/subscribed") {
		t.Error("got Unsubscribe true for an unknown pattern, want false")
	}
	mustPublish(t, h, "devices/1/up")
	if got := len(a.channels()); got != 1 {
		t.Errorf("got %d deliveries via the remaining devices/#, want 1", got)
	}
	if !h.Unsubscribe(a, "devices/#") {
		t.Fatal("got Unsubscribe false for devices/#, want true")
	}
	mustPublish(t, h, "devices/2/up")
	if got := len(a.channels()); got != 1 {
		t.Errorf("got %d deliveries after unsubscribing everything, want 1", got)
	}
	if got := len(b.channels()); got != 2 {
		t.Errorf("got %d deliveries to the other subscriber, want 2", got)
	}
	if got, want := h.SubscriberCount(), 1; got != want {
		t.Errorf("got SubscriberCount %d, want %d", got, want)
	}
	if got, want := h.PatternCount(), 1; got != want {
		t.Errorf("got PatternCount %d, want %d", got, want)
	}
}

func TestUnsubscribeAll(t *testing.T) {
	h := newHub(t, "n1", nil)
	a, b := new(recorder), new(recorder)
	mustSubscribe(t, h, a, "devices/+/up", "devices/#", "#", "x/y")
	mustSubscribe(t, h, b, "devices/+/up")
	h.UnsubscribeAll(a)
	h.UnsubscribeAll(a) // no-op
	h.UnsubscribeAll(nil)
	mustPublish(t, h, "devices/1/up")
	mustPublish(t, h, "x/y")
	if got := a.channels(); len(got) != 0 {
		t.Errorf("got %q after UnsubscribeAll, want nothing", got)
	}
	if got, want := b.channels(), []string{"devices/1/up"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := h.PatternCount(), 1; got != want {
		t.Errorf("got PatternCount %d, want %d", got, want)
	}
	h.UnsubscribeAll(b)
	if got := h.SubscriberCount() + h.PatternCount(); got != 0 {
		t.Errorf("got %d subscribers+patterns left, want 0", got)
	}
	if h.root.children != nil && len(h.root.children) != 0 || h.root.plus != nil || h.root.hash != nil {
		t.Error("got trie nodes left after every subscription was removed, want an empty root")
	}
}

// selfRemover unsubscribes itself from inside Deliver, as a session closing on overflow does.
type selfRemover struct {
	h *Hub
	n int
}

func (s *selfRemover) Deliver(*Delivery) bool {
	s.n++
	s.h.UnsubscribeAll(s)
	return false
}

func TestDeliverMayCallBackIntoHub(t *testing.T) {
	h := newHub(t, "n1", nil)
	s := &selfRemover{h: h}
	mustSubscribe(t, h, s, "a/+", "a/#")
	mustPublish(t, h, "a/b")
	mustPublish(t, h, "a/b")
	if s.n != 1 {
		t.Errorf("got %d deliveries, want 1", s.n)
	}
}

func TestPublishErrors(t *testing.T) {
	h := newHub(t, "a", nil)
	canceled, cancel := context.WithCancel(t.Context())
	cancel()
	tests := map[string]struct {
		ctx     context.Context
		channel string
		want    error
	}{
		"wildcard channel": {t.Context(), "a/+", ErrInvalidChannel},
		"empty channel":    {t.Context(), "", ErrInvalidChannel},
		"canceled context": {canceled, "a", context.Canceled},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := h.Publish(tt.ctx, Message{Channel: tt.channel}); !errors.Is(err, tt.want) {
				t.Errorf("got error %v, want %v", err, tt.want)
			}
		})
	}
}

func TestCloseAndLifecycle(t *testing.T) {
	before := runtime.NumGoroutine()
	b := NewMemoryBroker()
	hubs := make([]*Hub, 0, 5)
	for i := range 4 {
		h := New(fmt.Sprint("n", i), b)
		if err := h.Start(t.Context()); err != nil {
			t.Fatalf("Start: %v", err)
		}
		mustSubscribe(t, h, new(recorder), "#")
		hubs = append(hubs, h)
	}
	own := New("own", nil)
	if err := own.Start(t.Context()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	hubs = append(hubs, own)
	if err := own.Start(t.Context()); !errors.Is(err, ErrStarted) {
		t.Errorf("got second Start error %v, want %v", err, ErrStarted)
	}
	mustPublish(t, hubs[0], "a/b")

	for _, h := range hubs {
		if err := h.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := h.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
	}
	if _, err := own.Publish(t.Context(), Message{Channel: "a"}); !errors.Is(err, ErrClosed) {
		t.Errorf("got Publish error %v after Close, want %v", err, ErrClosed)
	}
	if err := own.Subscribe(new(recorder), "a"); !errors.Is(err, ErrClosed) {
		t.Errorf("got Subscribe error %v after Close, want %v", err, ErrClosed)
	}
	if err := own.Start(t.Context()); !errors.Is(err, ErrClosed) {
		t.Errorf("got Start error %v after Close, want %v", err, ErrClosed)
	}
	if err := own.broker.Publish(t.Context(), Message{Channel: "a"}); !errors.Is(err, ErrClosed) {
		t.Errorf("got own broker Publish error %v after Close, want %v", err, ErrClosed)
	}
	if p := b.subs.Load(); p != nil && len(*p) != 0 {
		t.Errorf("got %d broker subscriptions after closing every hub, want 0", len(*p))
	}
	if err := b.Publish(t.Context(), Message{Channel: "a"}); err != nil {
		t.Errorf("got shared broker Publish error %v after closing its hubs, want nil (hubs do not own it)", err)
	}
	b.Close()

	// Nothing here starts a goroutine; allow the runtime a bounded moment to settle.
	for i := 0; i < 50 && runtime.NumGoroutine() > before; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if got := runtime.NumGoroutine(); got > before {
		t.Errorf("got %d goroutines after Close, want at most %d", got, before)
	}
}

func TestConcurrentPublishSubscribe(t *testing.T) {
	b := NewMemoryBroker()
	t.Cleanup(func() { b.Close() })
	ha, hb := newHub(t, "a", b), newHub(t, "b", b)
	const publishers, messages = 4, 200
	stable := new(counter)
	mustSubscribe(t, ha, stable, "devices/+/up", "devices/#", "#")
	mustSubscribe(t, hb, stable, "devices/+/up")

	var wg sync.WaitGroup
	for p := range publishers {
		wg.Go(func() {
			h := ha
			if p%2 == 1 {
				h = hb
			}
			for i := range messages {
				if _, err := h.Publish(t.Context(), Message{Channel: fmt.Sprintf("devices/%d/up", i)}); err != nil {
					t.Errorf("Publish: %v", err)
					return
				}
			}
		})
	}
	wg.Go(func() { // churn: subscribe and unsubscribe while publishers run
		for i := range messages {
			r := new(recorder)
			for _, p := range []string{"devices/+/up", fmt.Sprintf("devices/%d/#", i), "#"} {
				if err := ha.Subscribe(r, p); err != nil {
					t.Errorf("Subscribe(%q): %v", p, err)
					return
				}
			}
			ha.Unsubscribe(r, "#")
			ha.UnsubscribeAll(r)
		}
	})
	wg.Wait()
	// stable is subscribed on both hubs: every message reaches it exactly once per hub.
	if got, want := stable.n.Load(), int64(2*publishers*messages); got != want {
		t.Errorf("got %d deliveries, want %d", got, want)
	}
}
