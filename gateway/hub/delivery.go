package hub

import (
	"sync"
	"sync/atomic"
)

// Message is one publication.
type Message struct {
	Channel string
	Binary  bool   // binary payload (else UTF-8 text)
	Data    []byte // never modified after Publish: every recipient shares it
	Origin  string // id of the node that published it (set by Hub.Publish)
}

// Subscriber is a local recipient, typically a session. Deliver reports whether it accepted d.
// It must not block: it queues or refuses (for example when the session's queue is full, in
// which case the session closes itself with 1013). Deliver may be called concurrently by
// concurrent publishers, and may call back into the Hub. The dynamic type of a Subscriber must
// be comparable (a pointer, typically): the Hub keys its index by it.
type Subscriber interface {
	Deliver(d *Delivery) bool
}

// NumKinds is the number of frame encodings a Delivery caches (see Delivery.Frame): kind 0 for
// the JSON envelope sent to app clients, kind 1 for the raw frame sent to devices and kind 2 for
// the Socket.IO "message" event (package protocol numbers them).
const NumKinds = 3

// Delivery is one message being fanned out. It caches encoded frames so that each wire format is
// encoded once per publication, however many subscribers share it. The zero value with Message
// set is ready to use. A Delivery may be retained after Deliver returns; Frame is safe for
// concurrent use.
type Delivery struct {
	Message Message

	mu     sync.Mutex            // serializes the first encoding of each kind
	done   [NumKinds]atomic.Bool // done[k] is set once frames[k] is final
	frames [NumKinds][]byte      // written once under mu, read-only after done[k]
}

// Frame returns the encoding of d.Message for kind, calling enc once on first use and caching
// the result; later calls for the same kind return the cached slice and do not call enc, so
// every caller must pass an enc producing the same encoding for a given kind. The returned slice
// is shared and must not be modified. A kind outside [0, NumKinds) is not cached: enc is called
// every time.
func (d *Delivery) Frame(kind int, enc func(Message) []byte) []byte {
	if kind < 0 || kind >= NumKinds {
		return enc(d.Message)
	}
	if d.done[kind].Load() {
		return d.frames[kind]
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.done[kind].Load() {
		d.frames[kind] = enc(d.Message)
		d.done[kind].Store(true)
	}
	return d.frames[kind]
}
