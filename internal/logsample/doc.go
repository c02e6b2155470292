// Package logsample keeps log lines that an attacker can provoke (one per
// failed handshake, one per replaced session) from flooding the log. A
// Sampler lets the first N lines per key and window through (default 5 a
// second) and, at the end of each window, writes one summary line per key
// that had lines suppressed:
//
//	level=INFO msg="suppressed similar log lines" key=not_tls count=4995 window=1s
//
// The key is a string the caller chooses, such as a handshake failure
// reason. Handler wraps an slog.Handler and samples every record that
// carries a given attribute, keyed by that attribute's value; records
// without it pass untouched.
//
// Concurrency contract: New and NewHandler start one goroutine, a ticker
// that ends the windows; it is owned by the Sampler (or Handler) and
// stopped by Close, which writes the last summaries and waits for it. Every
// method is safe for concurrent use. Memory is bounded: at most MaxKeys
// keys are tracked per window, further keys share the key "(other)".
package logsample
