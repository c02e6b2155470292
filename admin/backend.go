package admin

import (
	"context"
	"time"
)

// Certificates is the gateway's certificate store as the admin API sees it.
type Certificates interface {
	// Certificates describes the bundle currently served.
	Certificates(ctx context.Context) (CertificateBundle, error)
	// ReloadCertificates re-reads the files (or uses the PEM bytes of r), validates and,
	// unless r.DryRun, swaps the bundle. An invalid bundle returns an error wrapping
	// ErrInvalidArgument (see Invalid) with the precise reason; the old bundle stays.
	ReloadCertificates(ctx context.Context, r ReloadRequest) (ReloadResult, error)
}

// Sessions is the gateway's session registry as the admin API sees it.
type Sessions interface {
	// ListSessions returns the open sessions that match f (f.Match may be used), in any
	// order; the admin server sorts and pages them.
	ListSessions(ctx context.Context, f SessionFilter) ([]SessionInfo, error)
	// Session describes one session; an unknown id wraps ErrNotFound.
	Session(ctx context.Context, id string) (SessionInfo, error)
	// CloseSession closes a session with a WebSocket close code (already validated) and
	// reason; an unknown id wraps ErrNotFound.
	CloseSession(ctx context.Context, id string, code int, reason string) error
	// CloseIdentity closes every session of identity with a close code (already
	// validated) and reason, and returns how many it closed (0 is not an error).
	CloseIdentity(ctx context.Context, identity string, code int, reason string) (closed int, err error)
	// SendToSession queues one frame; an unknown id wraps ErrNotFound, a full queue
	// ErrResourceExhausted.
	SendToSession(ctx context.Context, id string, f Frame) error
	// WatchSessions calls fn for every connect and disconnect event until stop is called.
	// fn does not block and may be called from any goroutine, but not concurrently with
	// itself for one watch. After stop returns, fn is not called again.
	WatchSessions(ctx context.Context, fn func(SessionEvent)) (stop func(), err error)
	// ReconnectSessions closes, with 1012 (Service Restart), the sessions selected by r at
	// no more than r.RatePerSecond per second (0: no limit) and returns how many it closed.
	// It returns early, with the count so far and ctx's error, when ctx is done.
	ReconnectSessions(ctx context.Context, r ReconnectRequest) (closed int, err error)
}

// Messages is the gateway's pub/sub hub as the admin API sees it.
type Messages interface {
	// Publish publishes m and returns how many sessions accepted it. An invalid channel
	// wraps ErrInvalidArgument.
	Publish(ctx context.Context, m Message) (reached int, err error)
	// Subscribe calls fn for every message published on a channel matching pattern until
	// stop is called. An invalid pattern wraps ErrInvalidArgument. fn does not block and is
	// not called concurrently with itself for one subscription; m.Data must not be modified
	// by either side. After stop returns, fn is not called again.
	Subscribe(ctx context.Context, pattern string, fn func(m Message)) (stop func(), err error)
}

// Stats is the one source of the gateway's counters: GetStats, ListFailures and the
// Prometheus collector all read it.
type Stats interface {
	// Stats returns a consistent snapshot of the counters.
	Stats(ctx context.Context) (StatsSnapshot, error)
	// Failures returns recent failed handshakes matching f, newest first.
	Failures(ctx context.Context, f FailureFilter) ([]Failure, error)
}

// Names is the gateway's record of the names clients use (see certs.NameLog).
type Names interface {
	// Names returns the names used within the last within (0: the gateway's reload
	// window), most recently seen first.
	Names(ctx context.Context, within time.Duration) ([]NameUse, error)
}

// Cluster is the cluster-wide view only the admin API asks for (the Prometheus metrics stay per
// node: every node is scraped).
type Cluster interface {
	// Devices lists the connected devices whose identity starts with prefix, by identity.
	Devices(ctx context.Context, identityPrefix string) ([]Device, error)
	// ClusterStats is Stats with every node's listeners: Listeners summed over the nodes that
	// answered, Nodes, MissingNodes and Cluster set.
	ClusterStats(ctx context.Context) (StatsSnapshot, error)
}

// Backends are what the admin server serves. A nil field makes its RPCs return
// UNIMPLEMENTED.
type Backends struct {
	Certificates Certificates // GetCertificates, ReloadCertificates
	Sessions     Sessions     // ListSessions, GetSession, CloseSession, SendToSession, WatchSessions, ReconnectSessions
	Messages     Messages     // Publish, Subscribe
	Stats        Stats        // GetStats, ListFailures (and OpsHandler)
	Names        Names        // ListNames
	Cluster      Cluster      // ListDevices; GetStats when set
}
