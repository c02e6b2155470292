package hub

import (
	"context"
	"errors"
)

// ErrClosed is returned by the methods of a closed Hub or MemoryBroker.
var ErrClosed = errors.New("hub: closed")

// Broker carries messages between gateway nodes. Implementations: MemoryBroker (one process) and,
// later, NATS.
type Broker interface {
	// Publish sends m to every subscription whose pattern matches m.Channel, on every node,
	// including the publishing node's own subscriptions. m.Data must not be modified afterwards.
	// ctx bounds the hand-off to the transport, not the delivery to remote subscribers.
	Publish(ctx context.Context, m Message) error
	// Subscribe calls h with each message published to a channel matching pattern until the
	// subscription is unsubscribed or the broker is closed. ctx bounds the subscribe call only.
	// h may be called concurrently and must not block for long; m.Data must not be modified.
	Subscribe(ctx context.Context, pattern string, h func(m Message)) (Subscription, error)
	// Close releases the broker; its subscriptions stop and later calls return an error.
	Close() error
}

// Subscription is one Broker.Subscribe registration.
type Subscription interface {
	// Unsubscribe stops the subscription. Calls to the handler already in progress may complete
	// after it returns. Calling it again is a no-op.
	Unsubscribe() error
}
