// Package certs owns the gateway's TLS material: it loads certificate chains,
// keys and the client-CA bundle, validates them as one bundle, and serves them
// to every listener through tls.Config callbacks so that one reload swaps the
// certificates for all listeners at once without touching live connections.
//
// # Concurrency contract
//
// A Store is safe for concurrent use. The current Bundle sits behind an
// atomic pointer: the handshake path (the GetConfigForClient callback of every
// config returned by TLSConfig) performs one atomic load and an index, takes
// no lock and allocates nothing. Reload and TLSConfig are
// serialized by one mutex; a reload builds and validates a complete new
// Bundle first and only then swaps the pointer, so a failed reload leaves the
// old bundle in place and a handshake never sees a half-built one.
// Established connections keep the certificate they handshook with.
//
// Session tickets are encrypted with the keys of the listener's outer config
// (rotated by crypto/tls), so they survive reloads: a client that resumes a
// session keeps seeing the certificate of its first handshake, while
// crypto/tls re-verifies a resumed client certificate against the current
// client CAs.
//
// A Bundle is immutable once published: callers may read its fields from any
// goroutine but must not modify them (including the contents of slices and
// pools).
//
// Bundle.Coverage (the handshake-time check that the served certificate
// covers the client's SNI or dialled IP) reads indexes precomputed when the
// bundle is built and allocates nothing in the covered case. A NameLog is
// safe for concurrent use behind one mutex held for a map lookup and a list
// move per Record; it starts no goroutine. Store.Reload reads the
// NameLog set by SetNameLog under the store's mutex.
//
// Identity, the generation helpers (NewCA, Issue) and EnsureDev hold no
// shared state; EnsureDev writes files through temp-file + rename so that a
// concurrent reader never sees a partly written file.
package certs
