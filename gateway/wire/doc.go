// Package wire holds the WebSocket wire rules wssgate owns, below any
// protocol: server-to-client frames compiled once into bytes (so a fan-out
// writes the same slice to every recipient), text frames built in place,
// JSON string encoding for them, and the RFC 6455 rules that gobwas/ws
// leaves to its caller (close codes). What a session speaks on top (the
// app envelope, raw device frames) is package protocol's.
//
// Everything here is a pure function of its arguments and safe for
// concurrent use.
package wire
