package admin

import (
	"strings"
	"time"
)

// Role is what a listener serves: RoleApp or RoleDevice. The empty Role matches any role in
// filters.
type Role string

// Listener roles.
const (
	RoleApp    Role = "app"
	RoleDevice Role = "device"
)

// CertificateInfo describes one loaded certificate chain.
type CertificateInfo struct {
	Subject           string
	DNSNames          []string
	IPAddresses       []string // text form
	URIs              []string
	Issuer            string
	Serial            string // lowercase hex
	NotBefore         time.Time
	NotAfter          time.Time
	SHA256Fingerprint string // lowercase hex of the leaf DER, no colons
	KeyType           string // "ECDSA P-256", "RSA 2048", "Ed25519"
	CertFile          string // "" when given as PEM bytes
	KeyFile           string // "" when given as PEM bytes
	ChainLength       int    // leaf included
}

// CertificateBundle describes the bundle currently served.
type CertificateBundle struct {
	Generation       uint64 // 1 for the first load
	LoadedAt         time.Time
	Certificates     []CertificateInfo // [0] is the default for clients without a matching SNI
	ClientCASubjects []string
	Warnings         []string
}

// ReloadRequest asks for a reload. Nil PEM fields mean "re-read the configured file".
type ReloadRequest struct {
	DryRun      bool   // validate and report, do not swap
	CertPEM     []byte // replaces the default chain (leaf first); KeyPEM is then required
	KeyPEM      []byte
	ClientCAPEM []byte // replaces the client CA bundle
	Force       bool   // apply a bundle that stops covering names clients used recently
	AllNodes    bool   // then reload every other node of the cluster (outcomes in Warnings)
}

// ReloadResult reports a validated bundle.
type ReloadResult struct {
	Generation   uint64 // the new generation, or the current one after a dry run
	Warnings     []string
	Certificates []CertificateInfo
	// Refused are live device sessions the new bundle's client CAs or CRLs would refuse.
	Refused []SessionImpact
}

// SessionImpact is a live session that a new bundle would refuse, and why.
type SessionImpact struct {
	SessionID       string
	Identity        string
	PeerCertSubject string
	Reason          string
}

// SessionInfo describes one open WebSocket session.
type SessionInfo struct {
	ID              string
	Listener        string
	Role            Role
	Identity        string
	AuthMethod      string    // "jwt", "check", "cert", "token", "dev"; "" anonymous
	AuthExpiresAt   time.Time // when the credentials expire (as last refreshed); zero: never
	RemoteAddr      string
	LocalAddr       string
	ConnectedAt     time.Time
	LastActivity    time.Time
	TLSVersion      string // "TLS 1.3"
	CipherSuite     string
	ServerName      string // SNI
	ALPN            string
	PeerCertSubject string
	PeerCertSHA256  string // lowercase hex
	CertGeneration  uint64 // server bundle generation used in the handshake
	Origin          string
	UserAgent       string
	Subscriptions   []string
	MessagesIn      uint64
	MessagesOut     uint64
	BytesIn         uint64
	BytesOut        uint64
	QueueLen        int
	Drops           uint64 // frames lost: queue overflow, failed or timed-out write
	Node            string // the gateway node holding it ("" for a node running alone)
	Transport       string // "websocket", "socketio-polling" or "socketio-websocket"
}

// SessionFilter selects sessions; empty fields match everything.
type SessionFilter struct {
	Listener         string
	Role             Role
	Identity         string
	RemoteAddrPrefix string
	// After and Limit are a page hint: the server wants the sessions whose ID sorts after After,
	// and no more than Limit of them (0: all). A backend may ignore them and return every match.
	After string
	Limit int
}

// Match reports whether s passes f.
func (f SessionFilter) Match(s SessionInfo) bool {
	return (f.Listener == "" || s.Listener == f.Listener) &&
		(f.Role == "" || s.Role == f.Role) &&
		(f.Identity == "" || s.Identity == f.Identity) &&
		strings.HasPrefix(s.RemoteAddr, f.RemoteAddrPrefix)
}

// EventType says what happened to a session.
type EventType int

// Session event types.
const (
	EventConnected EventType = iota + 1
	EventDisconnected
)

// SessionEvent is one connect or disconnect.
type SessionEvent struct {
	Type      EventType
	Time      time.Time
	Session   SessionInfo
	CloseCode int    // disconnects: the close code, 0 when the connection dropped
	Reason    string // disconnects: e.g. "closed by admin", "slow consumer", "read: EOF"
}

// ReconnectRequest selects sessions to cycle after a certificate reload.
type ReconnectRequest struct {
	BelowGeneration uint64  // sessions with CertGeneration < this; 0: the current generation
	Listener        string  // "" for every listener
	RatePerSecond   float64 // 0: no limit
}

// Frame is one WebSocket message payload.
type Frame struct {
	Binary bool // binary frame, else text (UTF-8)
	Data   []byte
}

// Message is one publication on a channel.
type Message struct {
	Channel string
	Binary  bool // binary payload, else text (UTF-8)
	Data    []byte
	Time    time.Time // when the gateway received it; zero: now
}

// ListenerStats are the counters of one listener since start.
type ListenerStats struct {
	Name               string
	Address            string
	Role               Role
	OpenSessions       uint64
	HandshakesOK       uint64
	HandshakeFailures  map[string]uint64 // by reason, every reason of the gateway (0 included)
	MessagesIn         uint64
	MessagesOut        uint64
	BytesIn            uint64
	BytesOut           uint64
	SlowConsumerCloses uint64
	Drops              uint64 // frames lost: queue overflow, failed or timed-out write
	NamesNotCovered    uint64 // handshakes whose SNI or dialled IP the certificate did not cover
	// ClientCertRejections counts refused client certificates by reason ("unknown_ca",
	// "expired", "revoked", ...).
	ClientCertRejections map[string]uint64
	// AuthFailures counts unauthenticated handshakes by sub-reason ("missing", "expired",
	// "bad_signature", ...), every sub-reason present (0 included).
	AuthFailures map[string]uint64
	// SessionCloses counts the closes the gateway started, by close code in decimal ("1013").
	SessionCloses map[string]uint64
	// ProxiedWebSocketsOpen and ProxiedWebSocketsTotal count the app
	// listener's reverse-proxied WebSockets (open now, ever opened); they
	// also hold OpenSessions slots toward max_connections.
	ProxiedWebSocketsOpen, ProxiedWebSocketsTotal uint64
}

// ReloadStats count certificate reloads of one trigger ("admin", "sighup", "file").
type ReloadStats struct {
	Trigger    string
	OK, Failed uint64
}

// ProcessStats describe the process; CurrentProcess fills them.
type ProcessStats struct {
	StartedAt      time.Time
	Goroutines     uint64
	HeapAllocBytes uint64
	Version        string
}

// CertificateExpiry is the expiry of one served certificate.
type CertificateExpiry struct {
	Subject  string
	Serial   string // lowercase hex
	NotAfter time.Time
}

// StatsSnapshot is one consistent reading of the counters.
type StatsSnapshot struct {
	Listeners             []ListenerStats
	Process               ProcessStats
	CertificateGeneration uint64
	Certificates          []CertificateExpiry
	Reloads               []ReloadStats
	MemoryBudgetBytes     uint64        // limits.memory_budget
	MemoryInUseBytes      uint64        // held of it now
	Nodes                 []NodeStats   // cluster-wide GetStats: each node's listeners (Listeners is then the total)
	MissingNodes          []string      // known nodes that did not answer in time
	Cluster               *ClusterStats // this node's cluster link; nil for a node running alone
}

// NodeStats are one node's listener counters.
type NodeStats struct {
	Node      string
	Listeners []ListenerStats // empty when it did not answer
	Up        bool            // heard from within 3 heartbeat intervals
	LastSeen  time.Time
}

// ClusterStats describe this node's link to the NATS cluster.
type ClusterStats struct {
	LinkUp                  bool   // false: degraded, serving its own sessions only
	NodesSeen               uint64 // nodes known, this one included
	MessagesIn, MessagesOut uint64
	Dropped                 uint64 // not sent, dropped by a slow handler, or not delivered by a node
	Server                  string // NATS server connected to; "" when down
}

// Device is one connected device of the cluster.
type Device struct {
	Identity, Node, SessionID string
	ConnectedAt               time.Time
}

// Failure is one failed handshake.
type Failure struct {
	Time              time.Time
	Listener          string
	RemoteAddr        string
	ServerName        string // SNI, if the handshake got that far
	Stage             string // "tls", "http", "upgrade" or "auth"
	Reason            string // a handshake failure reason, as in ListenerStats.HandshakeFailures
	Message           string // one-line detail
	ClientCertSubject string
	Node              string // the gateway node whose listener refused it
	SubReason         string // for "unauthenticated": why the credentials were refused, e.g. "expired"
	ClientCertIssuer  string
	ClientCertSerial  string   // lowercase hex
	ClientCertSHA256  string   // lowercase hex of the DER
	CertificateSANs   []string // the served certificate's SANs, when it did not cover Name
	Name              string   // the SNI or dialled IP not covered (reason "name_not_covered")
}

// FailureFilter selects failures; zero fields match everything.
type FailureFilter struct {
	Listener string
	Since    time.Time
	Limit    int // 0: all that are kept
}

// Match reports whether x passes f's Listener and Since (Limit is applied by the caller).
func (f FailureFilter) Match(x Failure) bool {
	return (f.Listener == "" || x.Listener == f.Listener) && !x.Time.Before(f.Since)
}

// NameUse is one name (an SNI name, or an IP dialled without SNI) that clients used in
// successful handshakes.
type NameUse struct {
	Name       string
	Handshakes uint64
	LastSeen   time.Time
	Covered    bool // by the bundle served now
}
