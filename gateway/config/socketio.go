package config

import (
	"strings"
	"time"
)

// Socket.IO defaults (the reference server's).
const (
	DefaultSocketIOPath         = "/socket.io/"
	DefaultSocketIOPingInterval = 25 * time.Second
	DefaultSocketIOPingTimeout  = 20 * time.Second
)

// SocketIO serves Engine.IO v4 / Socket.IO v5 clients on the app listener
// (app.socketio). maxPayload is the app listener's limits.max_message and
// each client's outbound buffer its limits.queue_bytes.
type SocketIO struct {
	// Enabled: unset means on; false answers the path with a 404 that says
	// how to turn it on.
	Enabled *bool `yaml:"enabled"`
	// Path the clients' "path" option names. Default "/socket.io/".
	Path string `yaml:"path"`
	// PingInterval: how often the server pings; a long-poll is held at most
	// this long. Default 25s.
	PingInterval time.Duration `yaml:"ping_interval"`
	// PingTimeout: how long a pong may take. Default 20s.
	PingTimeout time.Duration `yaml:"ping_timeout"`
}

// On reports whether Socket.IO is served (unset means on).
func (s SocketIO) On() bool { return s.Enabled == nil || *s.Enabled }

func (s *SocketIO) applyDefaults() {
	setStr(&s.Path, DefaultSocketIOPath)
	if s.PingInterval == 0 {
		s.PingInterval = DefaultSocketIOPingInterval
	}
	if s.PingTimeout == 0 {
		s.PingTimeout = DefaultSocketIOPingTimeout
	}
}

// validate reports the problems of app.socketio; wsPath is app.ws_path.
func (s *SocketIO) validate(wsPath string, bad badFunc) {
	if !strings.HasPrefix(s.Path, "/") || !strings.HasSuffix(s.Path, "/") || len(s.Path) < 3 {
		bad("app.socketio.path", "want a path that starts and ends with /, like /socket.io/, got %q", s.Path)
	}
	if strings.TrimSuffix(s.Path, "/") == wsPath {
		bad("app.socketio.path", "%q is app.ws_path: choose another path", s.Path)
	}
	if s.PingInterval < 0 || s.PingTimeout < 0 {
		bad("app.socketio", "ping_interval and ping_timeout must not be negative")
	}
}
