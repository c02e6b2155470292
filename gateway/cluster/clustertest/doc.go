// Package clustertest starts embedded NATS server clusters for tests: n servers on loopback
// ephemeral ports, joined by routes, that a test can stop and restart on the same ports to
// simulate outages. The servers' goroutines belong to the NATS servers; t.Cleanup shuts every
// server down.
package clustertest
