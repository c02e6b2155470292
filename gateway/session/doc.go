// Package session is the transport of one WebSocket connection after its
// handshake: a reader (the goroutine that calls Run), one writer goroutine
// that owns all writes to the socket and drains a byte-bounded outbound
// queue, and the Registry of live sessions. It sends and receives bytes;
// what they mean is the Handler's (package protocol), and it knows neither
// the hub nor any envelope.
//
// Concurrency contract: Send, Close and the accessors are safe from any
// goroutine. Handler callbacks run on the reader goroutine. The Registry
// holds Entries: a *Session, or a client that outlives one connection (a
// Socket.IO client of package protocol, whose WebSocket transport is a
// Session the registry does not list). Run returns only
// after the writer has stopped and the connection is closed. The writer
// goroutine is started and ended by the session itself (it parks while
// there is traffic and ends after a ping interval with nothing but pings).
//
// Slow-consumer policy: a frame that would push the queue past
// Limits.QueueBytes is not queued; the queue is dropped and the session is
// closed with 1013 (Try Again Later), counted in Totals.SlowCloses. Every
// frame lost that way, or to a failed or timed-out write, is counted in the
// session's Snapshot().Drops and the listener's Totals.Drops. Loss is never
// silent.
//
// Memory: read buffers of a partial message grow only as bytes arrive, in
// chunks of at most 64 KiB, and every chunk and queued frame is first
// taken from the process-wide Limits.Budget; a session whose next
// allocation does not fit is closed with 1013 "memory budget exceeded".
// Limits.MsgsPerSec and BytesPerSec close a session that sends faster
// with 1008 "rate limit". Every close the gateway starts is counted by
// code in Totals.Closes. After a close the reader started, Run reads the
// peer's frames (drain.go) and closes TCP as soon as the peer's close
// frame arrives, within 2 s for a silent peer.
package session
