// Package wire holds wssgate's wire formats: the JSON envelope app clients
// speak on /ws, server-to-client WebSocket frames compiled once into bytes
// (so a fan-out writes the same slice to every recipient), and the RFC 6455
// rules that gobwas/ws leaves to its caller (close codes).
//
// Everything here is a pure function of its arguments and safe for
// concurrent use.
package wire
