// Package listener holds wssgate's two kinds of listener, thin adapters
// between sockets and sessions: App (net/http over the shared TLS
// configuration: the web app, /ws for browsers, /.well-known/wssgate,
// /wssgate.js and the Socket.IO path, socketio.go: the gateway's Socket.IO
// server, or a 404 saying it is disabled; its failures, origin rules and
// WebSocket upgrades are the listener's) and Device (raw TLS and a zero-copy gobwas/ws upgrade, no
// net/http on the path; upgrade.go bounds the request and keeps frames sent
// before the 101 and refuses malformed headers, tlsinfo.go records what TLS
// negotiated). limits.go wraps both net.Listeners: max_connections,
// max_connections_per_ip and handshake_rate are checked at accept, before
// TLS (a TLS alert; the app answers 503 to a few refused connections).
// Handshake-failure log lines are sampled by reason (Counters.Sample).
// coverage.go checks at each ClientHello whether the served certificate
// covers the SNI (or dialled IP) and records misses and the names of
// successful handshakes; plainhttp.go answers plain HTTP on the app port
// (308 to https://, or a 400 hint) before TLS sees it.
//
// A listener does the handshake, names the peer (session.Info; App through
// its Authenticate hook, Device through Auth, both giving an auth.Grant,
// refusals counted as unauthenticated with their auth.SubReason) and hands
// the connection and grant to its Upgraded callback, which starts the session on a
// goroutine of its own and returns. Each listener owns its accept loop and
// handshake goroutines and stops them on Close (net/http's for App); it
// does not own sessions, which the gateway ends through the registry.
// Counters are atomic (recent failures under one mutex) and safe to read at
// any time.
package listener
