// Package listener holds wssgate's two kinds of listener, thin adapters
// between sockets and the session core: App (net/http over the shared TLS
// configuration: the web app, /ws for browsers, /.well-known/wssgate and
// /wssgate.js) and Device (raw TLS and a zero-copy gobwas/ws upgrade, no
// net/http on the path).
//
// A listener does the handshake, names the peer (session.Info) and hands
// the connection to its Serve callback, which runs the session and
// returns when it ends. Each listener owns its accept loop and per-
// connection goroutines and stops them on Close. Counters in Stats are
// atomic and safe to read at any time.
package listener
