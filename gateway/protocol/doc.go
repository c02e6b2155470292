// Package protocol is what a session speaks once its handshake is done:
// App, the JSON envelope of app clients on /ws (requests, allow-lists per
// session from its auth.Grant, token refresh, acks and errors, the message
// frame), and Device, raw frames
// on the device listener (devices/ID/up and devices/ID/down, see
// DeviceUp and DeviceDown), and SocketIO (socketio_app.go), Socket.IO
// events (subscribe, unsubscribe, publish, message) mapped onto channels
// with App's checks: each connected socket is a SocketIOClient, a
// session.Entry whatever its transport. Subpackage socketio speaks
// Engine.IO and Socket.IO.
//
// Each session gets a connection value of its protocol that wraps the
// transport (session.Session) and is both its session.Handler and the
// hub.Subscriber the hub delivers to: a delivery is encoded once per
// fan-out in the protocol's wire format (hub.Delivery.Frame) and handed to
// the session as bytes.
//
// Concurrency contract: App and Device are read-only after construction
// and shared by their sessions. Handler callbacks run on the session's
// reader goroutine; Deliver runs on publishers' goroutines and only queues.
// An app connection's subscription list is guarded by its own mutex.
// SocketIO's callbacks run on socketio's goroutines (long-poll POSTs, the
// WebSocket transport's reader); its client map is a sync.Map. The package
// starts no goroutines; a session whose credentials expire has one
// time.AfterFunc (expiry.go) that closes it with 4003, stopped at close.
package protocol
