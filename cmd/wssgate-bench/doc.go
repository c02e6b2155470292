// Command wssgate-bench is a load generator for a wssgate gateway. It speaks the
// gateway's real protocol: devices connect to the device port (development-mode
// ?device_id=, a bearer token or client certificate files) and send raw frames,
// app clients connect to /ws, subscribe with the JSON envelope and publish
// commands to devices.
//
// Usage:
//
//	wssgate-bench SCENARIO [flags]     SCENARIO: idle | fanout | command | handshake | reload | hostile
//
// Every run is bounded in time (--duration, --hold, --drain, --max-run) and in
// count (--devices, --apps, --concurrency), refuses targets off loopback unless
// --allow-remote is given, raises its own soft RLIMIT_NOFILE and refuses to start
// when the connections asked for cannot fit. With --pid it reads the gateway's CPU
// time and RSS from /proc/PID (with --more-pids, other processes' CPU added: a
// cluster's nodes and nats-server) and reports server CPU per operation and KiB of
// RSS per idle connection. --app-url may list several URLs: app clients spread
// over them round robin. It ends with exactly one line on stdout:
//
//	RESULT scenario=fanout subs=1000 ... deliveries_per_s=... p99_us=... missing=0 server_cpu_us_per_delivery=...
//
// The hostile scenario (hostile.go) measures good sessions receiving a
// fan-out while --hostile connections slowloris both ports, hold partial
// messages and flood pings, and reports the gateway's RSS (--pid) and
// goroutines (--ops, read from /metrics).
//
// Progress and diagnostics go to stderr.
//
// Concurrency: each connection is served by one reader goroutine; writes to a
// connection are serialized by its own mutex. Counters shared by readers are
// atomics; latency histograms are sharded, each shard behind a mutex. A
// scenario returns only after every goroutine it started has finished.
package main
