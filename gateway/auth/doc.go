// Package auth turns what a client presents into an identity: for
// devices, a verified client certificate (by the device.identity rules), a
// token configured by its SHA-256, or, in development mode only, a bare
// ?device_id; for app clients, the tokens and session checks configured
// under app.auth. Every identity, whatever its source, passes the one rule
// of certs.ValidIdentity (it becomes a channel level).
//
// Concurrency contract: a Device authenticator is read-only after New and
// safe for concurrent use by every handshake; its development-mode warning
// is rate-limited under its own mutex. The package starts no goroutines of
// its own except where a type says so and stops them in Close.
package auth
