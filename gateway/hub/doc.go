// Package hub routes messages between the sessions of one gateway node and, through a Broker,
// between nodes.
//
// # Channels and patterns
//
// A channel is a '/'-separated string such as "devices/42/up". A pattern is a channel that may use
// the MQTT wildcards '+' (exactly one level) and '#' (zero or more remaining levels, last level
// only): "devices/+/up", "devices/42/#", "#". As in MQTT, "a/#" also matches "a", levels may be
// empty ("a//b" has three levels), and '+' and '#' must occupy a whole level. See ValidChannel,
// ValidPattern, Match and Covers.
//
// # Hub
//
// A Hub keeps an index of local subscriptions (a trie by level with an exact-child map, a '+' child
// and a '#' child, so matching costs grow with the depth of the channel, not with the number of
// subscriptions) and fans each published message out to every matching local Subscriber, at most
// once per subscriber, then hands it to the Broker for other nodes. Messages that come back from
// the Broker with this node's id as Origin are ignored: they were delivered locally already.
// DeliverLocal delivers to the local subscribers only (a cluster's scatter-gather publish, where
// every node counts its own recipients).
//
// # Concurrency contract
//
// Every Hub method is safe for concurrent use. One sync.RWMutex guards the subscription index
// (trie nodes, per-subscriber entries and counters); Subscribe and Unsubscribe take it for
// writing, Publish takes it for reading only while it copies the matching subscribers into a
// pooled slice. A publication whose recipients match through several patterns then removes the
// repeats under a small separate mutex (a sequence number stamped on each subscriber entry), so
// each subscriber gets a message at most once with no per-publication map or allocation.
// Subscriber.Deliver is then called with no hub lock held, sequentially for one message on the
// publishing goroutine. Consequences:
//   - Deliver may call back into the Hub (for example UnsubscribeAll when a session closes itself);
//   - Deliver may be called concurrently for different messages by concurrent publishers, so it
//     must be safe for concurrent use and must not block;
//   - a subscriber may still receive a message whose publication was already matching when its
//     Unsubscribe returned; no publication that starts after Unsubscribe returns reaches it.
//
// For one publisher, each subscriber sees messages in publication order. There is no ordering
// between different publishers.
//
// The in-memory Broker (MemoryBroker) delivers synchronously on the publishing goroutine; see its
// documentation.
package hub
