// Package session runs one WebSocket connection after its handshake: a
// reader (the goroutine that calls Run) and one writer goroutine that owns
// all writes to the socket and drains a byte-bounded outbound queue.
//
// Concurrency contract: Send, Deliver, Close and the accessors are safe
// from any goroutine. Handler callbacks run on the reader goroutine. Run
// returns only after the writer has stopped and the connection is closed.
//
// Slow-consumer policy: a frame that would push the queue past
// Limits.QueueBytes is not queued; the queue is dropped and the session is
// closed with 1013 (Try Again Later), counted in Counters.SlowCloses. Loss
// is never silent.
package session
