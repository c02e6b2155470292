package socketio

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Engine.IO error codes, as the reference server sends them.
const (
	codeTransportUnknown  = 0
	codeUnknownSID        = 1
	codeBadHandshake      = 2
	codeBadRequest        = 3
	codeForbidden         = 4
	codeUnsupportedProto  = 5
	transportPolling      = "polling"
	transportWebSocket    = "websocket"
	engineProtocolVersion = "4"
)

var errorMessages = [...]string{
	codeTransportUnknown: "Transport unknown",
	codeUnknownSID:       "Session ID unknown",
	codeBadHandshake:     "Bad handshake method",
	codeBadRequest:       "Bad request",
	codeForbidden:        "Forbidden",
	codeUnsupportedProto: "Unsupported protocol version",
}

// Server speaks Engine.IO v4 and Socket.IO v5 (namespace "/") over HTTP
// long-polling and WebSocket. It is an http.Handler for Config.Path.
type Server struct {
	cfg Config
	h   Handler
	log *slog.Logger

	mu       sync.Mutex
	sessions map[string]*session // guarded by mu
	closed   bool                // guarded by mu; set by Shutdown

	wg    sync.WaitGroup // WebSocket readers and writers
	stats counters
}

// counters are the Server's totals.
type counters struct {
	handshakes, failures, slowCloses, upgrades atomic.Uint64
}

// Stats is a snapshot of a Server's counters.
type Stats struct {
	Sessions   int    // open Engine.IO sessions
	Handshakes uint64 // sessions opened
	Upgrades   uint64 // polling sessions upgraded to WebSocket
	Failures   uint64 // refused requests and connects (see Config.OnFailure)
	SlowCloses uint64 // sessions closed because their outbound queue overflowed
}

// NewServer returns a Server that hands Socket.IO events to h.
func NewServer(cfg Config, h Handler) (*Server, error) {
	if h == nil {
		return nil, fmt.Errorf("socketio: nil Handler")
	}
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Server{cfg: cfg, h: h, log: cfg.Logger, sessions: make(map[string]*session)}, nil
}

// Stats returns the Server's counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	n := len(s.sessions)
	s.mu.Unlock()
	return Stats{Sessions: n, Handshakes: s.stats.handshakes.Load(), Upgrades: s.stats.upgrades.Load(),
		Failures: s.stats.failures.Load(), SlowCloses: s.stats.slowCloses.Load()}
}

// Shutdown closes every session's transport (WebSockets, held polls):
// clients see "transport close" and reconnect; no Socket.IO DISCONNECT
// is sent. It waits for the WebSocket goroutines until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	all := make([]*session, 0, len(s.sessions))
	for _, ss := range s.sessions {
		all = append(all, ss)
	}
	s.mu.Unlock()
	for _, ss := range all {
		ss.close("server shutting down")
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("socketio: shutdown: %w", ctx.Err())
	}
}

// ServeHTTP answers Engine.IO requests.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, s.cfg.Path) && r.URL.Path+"/" != s.cfg.Path {
		s.fail(w, r, http.StatusNotFound, codeTransportUnknown, ReasonBadRequest, "path "+r.URL.Path+" is not "+s.cfg.Path)
		return
	}
	if r.Header.Get("Origin") != "" {
		if !s.cfg.CheckOrigin(r) {
			s.fail(w, r, http.StatusForbidden, codeForbidden, ReasonBadOrigin, fmt.Sprintf("origin %q not allowed for host %q", r.Header.Get("Origin"), r.Host))
			return
		}
		setCORS(w, r)
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	q := r.URL.Query()
	if eio := q.Get("EIO"); eio != engineProtocolVersion {
		s.fail(w, r, http.StatusBadRequest, codeUnsupportedProto, ReasonUnsupportedEIO, fmt.Sprintf("EIO=%q, only 4 is supported", eio))
		return
	}
	transport := q.Get("transport")
	if transport != transportPolling && transport != transportWebSocket {
		s.fail(w, r, http.StatusBadRequest, codeTransportUnknown, ReasonBadRequest, fmt.Sprintf("transport %q unknown", transport))
		return
	}
	sid := q.Get("sid")
	if sid == "" {
		s.handshake(w, r, transport)
		return
	}
	ss := s.lookup(sid)
	if ss == nil {
		s.fail(w, r, http.StatusBadRequest, codeUnknownSID, ReasonUnknownSID, "sid "+strconv.Quote(sid)+" unknown")
		return
	}
	if transport == transportWebSocket {
		s.upgradeSession(w, r, ss)
		return
	}
	ss.servePolling(w, r)
}

// setCORS answers an allowed origin, with credentials (cookies).
func setCORS(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Add("Vary", "Origin")
	if r.Method == http.MethodOptions {
		h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
		if rh := r.Header.Get("Access-Control-Request-Headers"); rh != "" {
			h.Set("Access-Control-Allow-Headers", rh)
		}
		h.Set("Access-Control-Max-Age", "600")
	}
}

// fail answers as the reference server does and reports the failure.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, status, code int, reason, msg string) {
	s.failure(r, reason, msg)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"code":%d,"message":%q}`, code, errorMessages[code])
}

// failure counts and reports a failure without answering.
func (s *Server) failure(r *http.Request, reason, msg string) {
	s.stats.failures.Add(1)
	s.log.Info("socket.io request refused", "reason", reason, "msg", msg, "remote", r.RemoteAddr)
	if s.cfg.OnFailure != nil {
		s.cfg.OnFailure(r, reason, msg)
	}
}

// handshake opens a session on either transport.
func (s *Server) handshake(w http.ResponseWriter, r *http.Request, transport string) {
	if r.Method != http.MethodGet {
		s.fail(w, r, http.StatusBadRequest, codeBadHandshake, ReasonBadHandshake, r.Method+" without sid: a handshake must be a GET")
		return
	}
	if transport == transportWebSocket {
		s.openWebSocket(w, r)
		return
	}
	ss := s.newSession(r, false)
	if ss == nil {
		http.Error(w, "server shutting down", http.StatusServiceUnavailable)
		return
	}
	b := append([]byte{byte(EIOOpen)}, ss.openJSON()...)
	writePolling(w, b)
}

// newSession registers a new session; nil after Shutdown.
func (s *Server) newSession(r *http.Request, websocketOnly bool) *session {
	ss := newSession(s, newID(), r)
	ss.websocketOnly = websocketOnly
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.sessions[ss.id] = ss
	s.mu.Unlock()
	s.stats.handshakes.Add(1)
	ss.schedulePing()
	return ss
}

func (s *Server) lookup(sid string) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[sid]
}

func (s *Server) remove(ss *session) {
	s.mu.Lock()
	if s.sessions[ss.id] == ss {
		delete(s.sessions, ss.id)
	}
	s.mu.Unlock()
}

// newID returns 120 random bits, base64url: 20 characters.
func newID() string {
	var b [15]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// writePolling writes a polling response body.
func writePolling(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(body)
}
