// Package socketio speaks Engine.IO v4 and Socket.IO v5 on the server
// side: the packet codecs (Engine.IO packets and polling payloads,
// Socket.IO packets with binary attachments and their reassembly), the
// Engine.IO transport machine (handshake, long-polling, WebSocket, the
// polling → WebSocket upgrade, pings) and a Socket.IO layer for the
// namespace "/" that hands events to a Handler. It depends on the standard
// library, gobwas/ws and gateway/wire only; mapping events onto channels
// is the caller's job.
//
// Concurrency contract:
//   - Long-poll GETs and POSTs run on net/http's request goroutines; a GET
//     is held at most one ping interval and ends when its session closes.
//   - A WebSocket's reader runs on the hijacked request's goroutine and
//     its writer on a goroutine the Server starts; both are counted in the
//     Server's WaitGroup. With Config.ServeWebSocket the caller runs the
//     WebSocket (the gateway does, on its session.Session) and owns those
//     goroutines; Shutdown still closes their Conns. Shutdown closes every transport (no Socket.IO
//     DISCONNECT), which ends them, and waits for them until its context
//     ends.
//   - Pings, pong deadlines and upgrade deadlines are time.AfterFunc
//     timers owned by their session, stopped when it closes.
//   - Inbound packets of one session are handled one at a time (POSTs and
//     the WebSocket reader share a mutex), so Handler callbacks for one
//     socket do not overlap, except OnClose (see Handler).
//   - Emit, SendPrepared and Close are safe from any goroutine.
//
// Backpressure: each session's outbound side is bounded by MaxBufferBytes
// (the polling queue, then the WebSocket writer's queue). Overflow closes
// the session and is counted in Stats.SlowCloses; loss is never silent.
package socketio
