// Package listener holds wssgate's two kinds of listener, thin adapters
// between sockets and sessions: App (net/http over the shared TLS
// configuration: the web app, /ws for browsers, /.well-known/wssgate and
// /wssgate.js) and Device (raw TLS and a zero-copy gobwas/ws upgrade, no
// net/http on the path; upgrade.go bounds the request and keeps frames sent
// before the 101, tlsinfo.go records what TLS negotiated).
//
// On the app port every plain HTTP request gets read and write deadlines
// (apphttp.go); a WebSocket that the root handler hijacks (the reverse
// proxy's upgrades) holds an Open slot, is idle-bounded and counted
// (proxied.go), and App.Close closes those still open.
//
// A listener does the handshake, names the peer (session.Info) and hands
// the connection to its Upgraded callback, which starts the session on a
// goroutine of its own and returns. Each listener owns its accept loop and
// handshake goroutines and stops them on Close (net/http's for App); it
// does not own sessions, which the gateway ends through the registry.
// Counters are atomic (recent failures under one mutex) and safe to read at
// any time.
package listener
