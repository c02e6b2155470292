// Package clustere2e tests several wssgate nodes as one gateway over an embedded 3-server NATS
// cluster (gateway/cluster/clustertest): in-process nodes (gateway.New) for cross-node up/down,
// reached counts, takeover and NATS outages, and three real "wssgate serve --config" processes
// (internal/daemontest) for the cluster-wide admin API through real gRPC clients and /readyz.
// It needs nothing but Go and runs in every "go test ./...", in its own package so that the
// race build of the rest stays within budget.
//
// Concurrency: the package has no exported API; each test starts its own NATS cluster and nodes.
package clustere2e
