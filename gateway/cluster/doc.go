// Package cluster joins wssgate nodes through NATS: a hub.Broker (Broker), node membership from
// heartbeats (Members), a scatter-gather RPC for the cluster-wide admin API (Handle, Call,
// CallAll), the cross-node "newest session wins" helpers (Newer, AnnounceIdentity,
// OnIdentity) and system messages on <name>._sys.<kind> (PublishSys, SubscribeSys: the
// gateway's session events). The subpackage clustertest starts an embedded NATS cluster for tests.
//
// # Subjects
//
// A channel maps to the subject "<name>." followed by one token per '/'-separated level, where
// every byte outside [A-Za-z0-9_-] is written %XX (upper-case hex), an empty level is the token
// "%" (which no other level produces: a real '%' is always "%25"), and a '_' opening the first
// level is written "%5F". So ".", "*", ">", spaces, non-ASCII, '%' and empty levels round-trip
// (ChannelSubject, SubjectChannel) and channel subjects never collide with the cluster's own,
// whose first token starts with '_':
//
//	<name>._sys.hb                 heartbeats (JSON: node, started, addrs)
//	<name>._sys.id                 identity announcements (JSON: node, identity, session, time)
//	<name>._rpc.<node>.<method>    requests to one node (Call)
//	<name>._rpc.all.<method>       requests to every node (CallAll)
//
// Patterns map '+' to '*' and a final '#' to '>'; "a/#" subscribes to both "<name>.a" and
// "<name>.a.>", which are disjoint, so a message reaches one subscription once
// (PatternSubjects); both feed one queue read by one goroutine, so the order holds across them. A "#" subscription (the Hub's) also receives the '_' subjects at the NATS
// level and skips them, at the cost of decoding one heartbeat per node and interval.
//
// A message is sent as one NATS message: the data as payload, the origin node and the binary
// flag in the headers Wssgate-Origin and Wssgate-Binary.
//
// # Guarantees
//
//   - Delivery across nodes is at most once (NATS core, no persistence, no retry).
//   - Nothing is buffered while NATS is away: the connection's reconnect buffer is disabled, so a
//     Publish while disconnected fails at once with ErrLinkDown and is counted in
//     Stats.Dropped; it is never queued for later or lost silently. A message already handed to
//     the socket when the link breaks may still be lost (at most once).
//   - Messages of one publishing node reach a subscription in publication order while the link
//     stays up; there is no order between different publishers.
//   - The connection reconnects forever with backoff (ReconnectWait doubling up to
//     MaxReconnectWait) over every URL and the servers NATS gossips; nats.go sends every
//     subscription again after each reconnect. A Broker whose first connect fails starts anyway,
//     degraded, and keeps trying.
//   - A node silent for 3 heartbeat intervals is reported with Up=false, never hidden, and
//     forgotten after ForgetAfter; a node that closes its Broker says so and is forgotten at once.
//
// # Concurrency contract
//
// Every exported method is safe for concurrent use. Goroutines: nats.go's own (reader, flusher,
// one per subscription that calls its handler, one message at a time), owned by the NATS
// connection; the heartbeat loop and the goroutines serving RPC requests (at most
// RPCConcurrency), owned by the Broker. Close cancels and waits for the Broker's goroutines,
// then closes the connection, which stops nats.go's. Subscription handlers and the OnIdentity
// callback run on nats.go goroutines and must not block; a handler that falls behind by more
// than 65,536 messages or 64 MiB (8,192 messages for a two-subject "x/#" pattern, whose queue is
// drained by a goroutine owned by the Broker and stopped by Unsubscribe or Close) loses the
// excess, counted in Stats.SlowDropped. CallAll runs the local handler on a goroutine bounded by
// its ctx.
package cluster
