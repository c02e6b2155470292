package listener

import (
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wssgate/wssgate/gateway/session"
	"github.com/wssgate/wssgate/internal/logsample"
)

// Reason classifies a failed handshake.
type Reason int

// Handshake failure reasons, as the admin API and metrics name them.
const (
	BadPath Reason = iota
	BadOrigin
	Unauthenticated
	BadClientCertificate
	Timeout
	NotWebSocket
	NotTLS
	TLSFailure
	TooLarge
	TooManyConnections
	TooManyConnectionsPerIP
	HandshakeRate
	// Socket.IO (app listener, app.socketio.path): see socketio.Reason*.
	BadRequest        // a malformed Engine.IO or Socket.IO request or packet
	UnknownSID        // a sid the server does not know (or no longer: sticky sessions?)
	TransportMismatch // a websocket request for a sid that is not polling
	UnsupportedEIO    // EIO other than 4 (socket.io-client 2.x speaks EIO=3)
	BadHandshake      // a handshake that is not a GET
	SocketIODisabled  // a request for the path while app.socketio.enabled is false
	NameNotCovered    // the served certificate does not cover the SNI or dialled IP
	numReasons
)

var reasonNames = [numReasons]string{
	"bad_path", "bad_origin", "unauthenticated", "bad_client_certificate", "timeout",
	"not_websocket", "not_tls", "tls", "too_large", "too_many_connections",
	"too_many_connections_per_ip", "handshake_rate",
	"bad_request", "unknown_sid", "transport_mismatch", "unsupported_eio", "bad_handshake", "socketio_disabled",
	"name_not_covered",
}

// ReasonNamed returns the reason whose String is name.
func ReasonNamed(name string) (Reason, bool) {
	for i, n := range reasonNames {
		if n == name {
			return Reason(i), true
		}
	}
	return 0, false
}

// String returns the reason's metric label, e.g. "bad_origin".
func (r Reason) String() string { return reasonNames[r] }

// Reasons lists every reason, in order.
func Reasons() []Reason {
	out := make([]Reason, numReasons)
	for i := range out {
		out[i] = Reason(i)
	}
	return out
}

// Counters are one listener's counters: handshakes, failures by reason,
// open sessions, its sessions' running totals and the latest failures.
type Counters struct {
	Name    string
	Role    session.Role
	Address string // set once the listener is bound

	HandshakesOK atomic.Uint64
	failures     [numReasons]atomic.Uint64
	Open         atomic.Int64 // sessions open now
	Sessions     session.Totals
	// Sample, if set, samples the handshake-failure log lines by reason
	// (every failure is still counted and remembered). Its owner closes it.
	Sample *logsample.Sampler

	mu          sync.Mutex              // guards recent, next, certRejects and authFails
	recent      [recentFailures]Failure // ring buffer of the latest failures
	next        uint64                  // failures recorded so far; next slot is next % len
	certRejects map[string]uint64       // refused client certificates by reason
	authFails   map[string]uint64       // unauthenticated handshakes by auth.SubReason
}

// AuthFailures returns the unauthenticated handshakes by sub-reason (see
// auth.SubReason); reasons never seen are absent.
func (s *Counters) AuthFailures() map[string]uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.authFails)
}

// RejectCert counts one refused client certificate by reason (see
// certs.ClientCertRejectReason).
func (s *Counters) RejectCert(reason string) {
	s.mu.Lock()
	if s.certRejects == nil {
		s.certRejects = map[string]uint64{}
	}
	s.certRejects[reason]++
	s.mu.Unlock()
}

// CertRejects returns the refused client certificates by reason.
func (s *Counters) CertRejects() map[string]uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.certRejects)
}

// recentFailures is how many failed handshakes each listener remembers.
const recentFailures = 256

// Failure is one failed handshake, kept for diagnostics.
type Failure struct {
	Time              time.Time
	Remote            string
	ServerName        string // SNI
	Stage             string // "accept", "tls", "upgrade" or "auth"
	Reason            Reason
	Message           string // one line
	ClientCertSubject string // client certificate, if one was presented
	// SubReason is why credentials were refused (an auth.SubReason such as
	// "expired"), for Reason Unauthenticated; "" when not known.
	SubReason string
	// ClientCertIssuer, ClientCertSerial (lowercase hex) and
	// ClientCertSHA256 describe the presented client certificate, even a
	// refused one.
	ClientCertIssuer, ClientCertSerial, ClientCertSHA256 string
	// Name is the SNI or dialled IP the served certificate does not cover
	// (reason NameNotCovered), CertificateSANs that certificate's SANs.
	Name            string
	CertificateSANs []string
}

// Fail counts one failed handshake and remembers it.
func (s *Counters) Fail(f Failure) {
	s.failures[f.Reason].Add(1)
	if f.Time.IsZero() {
		f.Time = time.Now()
	}
	s.mu.Lock()
	s.recent[s.next%recentFailures] = f
	s.next++
	if f.SubReason != "" {
		if s.authFails == nil {
			s.authFails = map[string]uint64{}
		}
		s.authFails[f.SubReason]++ // bounded: the auth.SubReason set
	}
	s.mu.Unlock()
}

// fail counts, remembers and logs one failed handshake, in one line
// (sampled by reason when s.Sample is set: an attacker can fail handshakes
// as fast as they connect).
func (s *Counters) fail(log *slog.Logger, f Failure) {
	s.Fail(f)
	if s.Sample != nil && !s.Sample.Allow(f.Reason.String()) {
		return
	}
	log.Info("handshake failed", f.attrs()...)
}

// Recent returns the remembered failures, newest first.
func (s *Counters) Recent() []Failure {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := min(s.next, recentFailures)
	out := make([]Failure, 0, n)
	for i := range n {
		out = append(out, s.recent[(s.next-1-i)%recentFailures])
	}
	return out
}

// Failures returns the count for one reason.
func (s *Counters) Failures(r Reason) uint64 { return s.failures[r].Load() }
