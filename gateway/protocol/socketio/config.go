package socketio

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gobwas/ws"
)

// Config configures a Server. Every zero value means the default given.
type Config struct {
	// Path the Server answers under. Default "/socket.io/".
	Path string
	// PingInterval: how often the server pings. Default 25 s. A long-poll
	// is held at most this long.
	PingInterval time.Duration
	// PingTimeout: how long the server waits for a pong. Default 20 s.
	PingTimeout time.Duration
	// UpgradeTimeout bounds a polling → websocket upgrade. Default 10 s.
	UpgradeTimeout time.Duration
	// WriteTimeout bounds one write to a WebSocket. Default 5 s.
	WriteTimeout time.Duration
	// MaxPayload: the largest POST body and WebSocket message in bytes,
	// announced to clients as maxPayload. Default 1,000,000.
	MaxPayload int
	// MaxBufferBytes bounds each session's outbound queue; overflow
	// closes the session (counted in Stats.SlowCloses). Default 1 MiB.
	MaxBufferBytes int
	// MaxAttachments bounds the binary attachments of one packet.
	// Default 10.
	MaxAttachments int
	// CheckOrigin decides requests that carry an Origin header (requests
	// without one pass). CORS headers are sent only for allowed origins.
	// Default: the origin's host must equal the request's Host.
	CheckOrigin func(r *http.Request) bool
	// Upgrade turns a request into a WebSocket connection and answers the
	// handshake. Default: gobwas/ws HTTPUpgrader.
	Upgrade func(w http.ResponseWriter, r *http.Request) (net.Conn, *bufio.ReadWriter, error)
	// ServeWebSocket, if set, serves every websocket request the Server
	// has checked (EIO, transport, sid) on a connection of the caller's
	// instead of the Server's own (Upgrade is then unused): it upgrades r,
	// calls AttachWebSocket with its Conn, feeds the connection's messages
	// to WebSocket.Receive and calls WebSocket.Closed when it ends; those
	// goroutines are the caller's. Default: none.
	ServeWebSocket func(w http.ResponseWriter, r *http.Request)
	// Authenticate maps the CONNECT packet's auth payload (nil without
	// one) and the handshake request to an identity and whatever the
	// caller keeps with it (Socket.Grant); an error is sent to the client
	// as CONNECT_ERROR with its message. Default: every client is
	// anonymous ("").
	Authenticate func(r *http.Request, auth json.RawMessage) (identity string, grant any, err error)
	// OnFailure is told about every refused request or connect, with a
	// Reason* constant and a message. Default: none.
	OnFailure func(r *http.Request, reason string, msg string)
	// Logger. Default slog.Default().
	Logger *slog.Logger
}

// Failure reasons given to Config.OnFailure.
const (
	ReasonBadRequest        = "bad_request"
	ReasonUnknownSID        = "unknown_sid"
	ReasonTransportMismatch = "transport_mismatch"
	ReasonUnsupportedEIO    = "unsupported_eio"
	ReasonBadHandshake      = "bad_handshake"
	ReasonBadOrigin         = "bad_origin"
	ReasonTooLarge          = "too_large"
	ReasonUnauthenticated   = "unauthenticated"
)

// withDefaults returns c with every zero value replaced by its default.
func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.PingInterval, 25*time.Second)
	def(&c.PingTimeout, 20*time.Second)
	def(&c.UpgradeTimeout, 10*time.Second)
	def(&c.WriteTimeout, 5*time.Second)
	if c.Path == "" {
		c.Path = "/socket.io/"
	}
	if c.MaxPayload == 0 {
		c.MaxPayload = 1_000_000
	}
	if c.MaxBufferBytes == 0 {
		c.MaxBufferBytes = 1 << 20
	}
	if c.MaxAttachments == 0 {
		c.MaxAttachments = 10
	}
	if c.CheckOrigin == nil {
		c.CheckOrigin = sameHost
	}
	if c.Upgrade == nil {
		c.Upgrade = gobwasUpgrade
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// validate reports the first bad setting, naming its field.
func (c *Config) validate() error {
	var errs []error
	if !strings.HasPrefix(c.Path, "/") || !strings.HasSuffix(c.Path, "/") {
		errs = append(errs, fmt.Errorf("socketio: Path %q must start and end with /", c.Path))
	}
	for name, d := range map[string]time.Duration{"PingInterval": c.PingInterval, "PingTimeout": c.PingTimeout,
		"UpgradeTimeout": c.UpgradeTimeout, "WriteTimeout": c.WriteTimeout} {
		if d < 0 {
			errs = append(errs, fmt.Errorf("socketio: %s must not be negative, got %v", name, d))
		}
	}
	if c.MaxPayload < 64 {
		errs = append(errs, fmt.Errorf("socketio: MaxPayload must be at least 64 bytes, got %d", c.MaxPayload))
	}
	if c.MaxBufferBytes < c.MaxPayload/4 {
		errs = append(errs, fmt.Errorf("socketio: MaxBufferBytes (%d) must be at least MaxPayload/4 (%d)", c.MaxBufferBytes, c.MaxPayload/4))
	}
	if c.MaxAttachments < 1 || c.MaxAttachments > 1000 {
		errs = append(errs, fmt.Errorf("socketio: MaxAttachments must be 1..1000, got %d", c.MaxAttachments))
	}
	return errors.Join(errs...)
}

// sameHost allows an origin whose host is the request's Host.
func sameHost(r *http.Request) bool {
	u, err := url.Parse(r.Header.Get("Origin"))
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host)
}

// gobwasUpgrade answers the WebSocket handshake with gobwas/ws.
func gobwasUpgrade(w http.ResponseWriter, r *http.Request) (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, _, err := ws.HTTPUpgrader{}.Upgrade(r, w)
	if err != nil {
		return nil, nil, fmt.Errorf("upgrade websocket: %w", err)
	}
	return conn, rw, nil
}
