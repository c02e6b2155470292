package config

import (
	"os"
	"path/filepath"
	"time"
)

// Defaults that clients and operators depend on (README documents them).
const (
	DefaultAppAddress       = ":8443"
	DefaultDeviceAddress    = ":9443"
	DefaultDevAppAddress    = "127.0.0.1:8443"
	DefaultDevDeviceAddress = "127.0.0.1:9443"
	DefaultAdminAddress     = "127.0.0.1:9090"
	DefaultOpsAddress       = "127.0.0.1:9091"
	DefaultWSPath           = "/ws"
	DefaultDevicePath       = "/device"
	DefaultMaxMessage       = 1 << 20
	DefaultQueueBytes       = 1 << 20
	DefaultWriteTimeout     = 5 * time.Second
	DefaultPingInterval     = 30 * time.Second
	DefaultIdleTimeout      = 75 * time.Second
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultShutdownGrace    = 10 * time.Second
	DefaultMaxRequestBytes  = 8 << 10
	DefaultMinRemaining     = 30 * 24 * time.Hour
	DefaultWatchDebounce    = 250 * time.Millisecond
)

// Default allow-lists for app clients.
var (
	DefaultAppSubscribe = []string{"devices/+/up"}
	DefaultAppPublish   = []string{"devices/+/down"}
)

// Dev returns the development configuration used when no file is given:
// a generated certificate, both listeners on loopback, ?device_id allowed.
func Dev() *Config {
	c := &Config{Dev: true}
	c.App.Address = DefaultDevAppAddress
	c.Device.Address = DefaultDevDeviceAddress
	c.ApplyDefaults()
	return c
}

// ApplyDefaults fills every zero value with its documented default.
func (c *Config) ApplyDefaults() {
	if c.StateDir == "" {
		c.StateDir = DefaultStateDir()
	}
	if c.Node == "" {
		c.Node, _ = os.Hostname()
	}
	if c.ShutdownGrace == 0 {
		c.ShutdownGrace = DefaultShutdownGrace
	}
	if c.TLS.MinRemaining == 0 {
		c.TLS.MinRemaining = DefaultMinRemaining
	}
	if c.TLS.WatchDebounce == 0 {
		c.TLS.WatchDebounce = DefaultWatchDebounce
	}
	c.TLS.applyNamesDefaults()
	setStr(&c.App.Address, DefaultAppAddress)
	setStr(&c.App.WSPath, DefaultWSPath)
	if c.App.Subscribe == nil {
		c.App.Subscribe = DefaultAppSubscribe
	}
	if c.App.Publish == nil {
		c.App.Publish = DefaultAppPublish
	}
	c.App.Limits.applyDefaults()
	c.App.Auth.applyDefaults()
	c.App.SocketIO.applyDefaults()
	setStr(&c.Device.Address, DefaultDeviceAddress)
	setStr(&c.Device.Path, DefaultDevicePath)
	setStr(&c.Device.ClientAuth, "none")
	if len(c.Device.Identity) == 0 {
		c.Device.Identity = []string{"uri", "dns", "cn"}
	}
	if c.Device.MaxRequestBytes == 0 {
		c.Device.MaxRequestBytes = DefaultMaxRequestBytes
	}
	c.Device.Limits.applyDefaults()
	c.Device.Auth.applyDefaults()
	c.applyAdminDefaults()
	setStr(&c.Ops.Address, DefaultOpsAddress)
	c.Cluster.applyDefaults()
	c.applyLimitsDefaults()
}

func (l *Limits) applyDefaults() {
	if l.MaxMessage == 0 {
		l.MaxMessage = DefaultMaxMessage
	}
	if l.QueueBytes == 0 {
		l.QueueBytes = DefaultQueueBytes
	}
	if l.WriteTimeout == 0 {
		l.WriteTimeout = DefaultWriteTimeout
	}
	if l.PingInterval == 0 {
		l.PingInterval = DefaultPingInterval
	}
	if l.IdleTimeout == 0 {
		l.IdleTimeout = DefaultIdleTimeout
	}
	if l.HandshakeTimeout == 0 {
		l.HandshakeTimeout = DefaultHandshakeTimeout
	}
}

func setStr(p *string, def string) {
	if *p == "" {
		*p = def
	}
}

// DefaultStateDir is $WSSGATE_STATE_DIR, else $XDG_STATE_HOME/wssgate,
// else ~/.local/state/wssgate.
func DefaultStateDir() string {
	if d := os.Getenv("WSSGATE_STATE_DIR"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "wssgate")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "wssgate-state")
	}
	return filepath.Join(home, ".local", "state", "wssgate")
}
