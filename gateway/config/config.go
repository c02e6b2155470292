// Package config holds wssgate's configuration: one YAML file, strictly
// decoded (an unknown key is an error naming the key and its line), with a
// documented default for every zero value.
//
// A Config is a plain value: build it with Load or Default, then call
// Validate. It is not safe to modify while the gateway runs.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is the whole gateway configuration.
type Config struct {
	// Dev enables development mode: devices may connect with ?device_id=ID
	// and no proof of identity (a warning is logged for each). Default
	// false; true when wssgate runs without a configuration file.
	Dev bool `yaml:"dev"`
	// StateDir is where development certificates are kept. Default:
	// $WSSGATE_STATE_DIR, else $XDG_STATE_HOME/wssgate, else
	// ~/.local/state/wssgate.
	StateDir string `yaml:"state_dir"`
	// Node names this gateway among several sharing a broker. Default: the
	// host name.
	Node string `yaml:"node"`

	TLS    TLS    `yaml:"tls"`
	App    App    `yaml:"app"`
	Device Device `yaml:"device"`
	Admin  Admin  `yaml:"admin"`
	Ops    Ops    `yaml:"ops"`

	Cluster Cluster       `yaml:"cluster"` // NATS cluster; see cluster.go
	Limits  ProcessLimits `yaml:"limits"`  // process-wide limits; see limits.go

	// ShutdownGrace bounds how long a shutdown waits for sessions to close
	// after Going Away was sent. Default 10s.
	ShutdownGrace time.Duration `yaml:"shutdown_grace"`
}

// TLS is the certificate bundle shared by every listener.
type TLS struct {
	// Certificates are served by SNI; the first one is the default.
	// Required unless Dev is set (then a development CA and leaf are made).
	Certificates []CertPair `yaml:"certificates"`
	// ClientCA is a PEM bundle of CAs trusted for device client
	// certificates. Required when device.client_auth is not "none".
	ClientCA string `yaml:"client_ca"`
	// RootCA, if set, is a PEM bundle the served chains must verify to.
	RootCA string `yaml:"root_ca"`
	// CRLFiles are revocation lists (PEM or DER) signed by a client CA;
	// revoked device certificates are refused. Re-read on every reload.
	CRLFiles []string `yaml:"crl_files"`
	// Hostnames are the public names (or IPs) clients use; each must be
	// covered by a certificate SAN. Default: app.public_host and
	// device.public_host when set.
	Hostnames []string `yaml:"hostnames"`
	// MinRemaining warns when a certificate expires sooner. Default 720h.
	MinRemaining time.Duration `yaml:"min_remaining"`
	// MinRemainingError refuses such a certificate instead of warning.
	MinRemainingError bool `yaml:"min_remaining_error"`
	// Watch reloads when a certificate, key, CA or CRL file changes on disk
	// (in place, renamed into place, or a Kubernetes secret's symlink
	// swap). Default true.
	Watch *bool `yaml:"watch"`
	// WatchDebounce waits this long after the last change before
	// reloading, so that a cert and its key written one after the other
	// load together. Default 250ms.
	WatchDebounce time.Duration `yaml:"watch_debounce"`
	// NamesWindow: a reload (admin, SIGHUP or file) whose new bundle stops covering a name
	// (SNI or dialled IP) that clients used this recently is refused. Default 24h.
	NamesWindow time.Duration `yaml:"names_window"`
	// ReloadForce applies SIGHUP and file reloads that stop covering such names anyway
	// (with a warning); the admin API forces per request. Default false.
	ReloadForce bool `yaml:"reload_force"`
}

// Watching reports whether file watching is on.
func (t TLS) Watching() bool { return t.Watch == nil || *t.Watch }

// CertPair is one certificate chain and its key, both PEM files.
type CertPair struct {
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

// Limits bound what one session may cost. Zero values take the defaults.
type Limits struct {
	// MaxMessage is the largest message accepted, fragmented or not.
	// Default 1MiB. Larger → close 1009.
	MaxMessage ByteSize `yaml:"max_message"`
	// QueueBytes bounds the outbound queue of one session. Default 1MiB.
	// Overflow → close 1013, counted as a slow-consumer close.
	QueueBytes ByteSize `yaml:"queue_bytes"`
	// WriteTimeout bounds one write to the peer. Default 5s.
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// PingInterval is how often the gateway pings. Default 30s.
	PingInterval time.Duration `yaml:"ping_interval"`
	// IdleTimeout closes a session that sent no frame for this long.
	// Default 75s.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// HandshakeTimeout covers TLS and the WebSocket upgrade. Default 10s.
	HandshakeTimeout time.Duration `yaml:"handshake_timeout"`
	// MaxConnections caps open connections (handshakes and sessions) on
	// the listener. Default: what RLIMIT_NOFILE allows, split across both
	// listeners (limit.DefaultMaxConnections), so accept never hits EMFILE.
	MaxConnections int `yaml:"max_connections"`
	// MaxConnectionsPerIP caps connections from one client IP (IPv6: one
	// /64); 0 (default) means no cap. Over it → closed at accept, counted.
	MaxConnectionsPerIP int `yaml:"max_connections_per_ip"`
	// HandshakeRate limits new connections per client IP; off by default.
	HandshakeRate HandshakeRate `yaml:"handshake_rate"`
	// MaxMessagesPerS and MaxBytesPerS bound what one session may send;
	// 0 (default) means no limit. Over → close 1008 "rate limit", counted.
	MaxMessagesPerS float64  `yaml:"max_messages_per_s"`
	MaxBytesPerS    ByteSize `yaml:"max_bytes_per_s"`
	// Flapping: device.limits only; see Flapping.
	Flapping Flapping `yaml:"flapping"`
}

// App is the HTTPS listener for web apps and browsers.
type App struct {
	// Address to listen on. Default ":8443" ("127.0.0.1:8443" in dev mode).
	Address string `yaml:"address"`
	// PublicHost, if set, names the host in /.well-known/wssgate instead of
	// the request's Host.
	PublicHost string `yaml:"public_host"`
	// PublicPort, if set, is the port clients reach the app on (behind a
	// port mapping). Default: the listening port.
	PublicPort int `yaml:"public_port"`
	// WSPath is the browser WebSocket endpoint. Default "/ws".
	WSPath string `yaml:"ws_path"`
	// StaticDir serves files at "/" when set.
	StaticDir string `yaml:"static_dir"`
	// Upstream reverse-proxies "/" (and WebSocket upgrades on other paths)
	// to this http:// or https:// URL when set. Exclusive with StaticDir.
	// Default: the built-in demo page.
	Upstream string `yaml:"upstream"`
	// AllowedOrigins for /ws. Default: the request's own host only. "*"
	// allows any origin. Requests without Origin (non-browsers) pass.
	AllowedOrigins []string `yaml:"allowed_origins"`
	// Subscribe and Publish are the channel patterns app clients may use.
	// Defaults: subscribe ["devices/+/up"], publish ["devices/+/down"].
	Subscribe []string `yaml:"subscribe"`
	Publish   []string `yaml:"publish"`
	Limits    Limits   `yaml:"limits"`
	Auth      AppAuth  `yaml:"auth"`
	SocketIO  SocketIO `yaml:"socketio"`
}

// Device is the WSS listener for devices.
type Device struct {
	// Address to listen on. Default ":9443" ("127.0.0.1:9443" in dev mode).
	Address string `yaml:"address"`
	// PublicHost and PublicPort: as for App.
	PublicHost string `yaml:"public_host"`
	PublicPort int    `yaml:"public_port"`
	// Path is the WebSocket endpoint. Default "/device".
	Path string `yaml:"path"`
	// ClientAuth: "none" (default), "optional" or "require".
	ClientAuth string `yaml:"client_auth"`
	// Identity is the order in which a client certificate names the
	// device: of "uri", "dns", "cn", and templates (see IdentityList).
	// Default [uri, dns, cn].
	Identity IdentityList `yaml:"identity"`
	// Tokens map bearer tokens (by SHA-256) to device identities.
	Tokens []DeviceToken `yaml:"tokens"`
	// MaxRequestBytes bounds the upgrade request. Default 8KiB.
	MaxRequestBytes ByteSize   `yaml:"max_request_bytes"`
	Limits          Limits     `yaml:"limits"`
	Auth            DeviceAuth `yaml:"auth"`
}

// DeviceToken grants the identity Device to whoever presents the token
// whose SHA-256 (hex) is SHA256.
type DeviceToken struct {
	Device string `yaml:"device"`
	SHA256 string `yaml:"sha256"`
}

// Admin is the gRPC admin API.
type Admin struct {
	// Address for gRPC over TCP. Default "127.0.0.1:9090"; "off" disables.
	Address string `yaml:"address"`
	// UnixSocket, if set, also serves the API on this socket path.
	UnixSocket string `yaml:"unix_socket"`
	// ClientCA enables mTLS for admin clients (required off loopback,
	// unless tokens are set); needs Clients. The server certificate is the
	// shared one unless TLS is set.
	ClientCA string `yaml:"client_ca"`
	// Tokens grant roles by SHA-256 (hex) of a bearer token.
	Tokens []AdminToken `yaml:"tokens"`
	// Clients map client certificate identities to roles; see AdminClient.
	Clients []AdminClient `yaml:"clients"`
	// TLS, if set, is the admin server's own certificate and key. Default:
	// the gateway's certificate bundle. TLS is served off loopback always,
	// on loopback when TLS or ClientCA is set.
	TLS *CertPair `yaml:"tls"`
	// MaxMessage bounds a gRPC message in either direction. Default: the
	// largest listener max_message plus 64KiB, at least 4MiB.
	MaxMessage ByteSize `yaml:"max_message"`
	// MaxConcurrentStreams bounds the concurrent calls of one client
	// connection. Default 64.
	MaxConcurrentStreams uint32 `yaml:"max_concurrent_streams"`
}

// AdminToken grants Role ("read" or "admin") to a bearer token.
type AdminToken struct {
	Name   string `yaml:"name"`
	Role   string `yaml:"role"`
	SHA256 string `yaml:"sha256"`
}

// Ops is the operations HTTP listener (/metrics, /healthz, /readyz).
type Ops struct {
	// Address. Default "127.0.0.1:9091"; "off" disables.
	Address string `yaml:"address"`
}

// Load reads and strictly decodes the YAML file at path, applies defaults
// and validates the result.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	c, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	c.resolvePaths(filepath.Dir(path))
	return c, nil
}

// Parse decodes YAML strictly, applies defaults and validates.
func Parse(b []byte) (*Config, error) {
	c := &Config{}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	c.ApplyDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// resolvePaths makes relative file paths relative to the config's folder.
func (c *Config) resolvePaths(dir string) {
	abs := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	for i := range c.TLS.Certificates {
		abs(&c.TLS.Certificates[i].Cert)
		abs(&c.TLS.Certificates[i].Key)
	}
	abs(&c.TLS.ClientCA)
	abs(&c.TLS.RootCA)
	for i := range c.TLS.CRLFiles {
		abs(&c.TLS.CRLFiles[i])
	}
	c.Admin.resolvePaths(dir)
	abs(&c.App.StaticDir)
	abs(&c.StateDir)
	c.App.Auth.resolvePaths(abs)
	c.Device.Auth.resolvePaths(abs)
	c.Cluster.resolvePaths(abs)
}
