package listener

import (
	"sync/atomic"

	"github.com/wssgate/wssgate/gateway/session"
)

// Reason classifies a failed handshake.
type Reason int

// Handshake failure reasons, as the admin API and metrics name them.
const (
	BadPath Reason = iota
	BadOrigin
	Unauthenticated
	BadClientCert
	Timeout
	NotWebSocket
	NotTLS
	TLSFailure
	TooLarge
	Overloaded
	numReasons
)

var reasonNames = [numReasons]string{
	"bad_path", "bad_origin", "unauthenticated", "bad_client_cert", "timeout",
	"not_websocket", "not_tls", "tls", "too_large", "overloaded",
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

// Stats are one listener's counters.
type Stats struct {
	Name    string
	Role    session.Role
	Address string // set once the listener is bound

	HandshakesOK atomic.Uint64
	failures     [numReasons]atomic.Uint64
	Open         atomic.Int64 // sessions open now
	Sessions     session.Counters
}

// Fail counts one failed handshake.
func (s *Stats) Fail(r Reason) { s.failures[r].Add(1) }

// Failures returns the count for one reason.
func (s *Stats) Failures(r Reason) uint64 { return s.failures[r].Load() }
