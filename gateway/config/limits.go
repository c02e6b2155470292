package config

import (
	"time"

	"github.com/wssgate/wssgate/gateway/limit"
)

// ProcessLimits bound the whole process (the top-level limits key).
type ProcessLimits struct {
	// MemoryBudget bounds, in bytes, the read buffers of partial messages
	// and the outbound queues of every session together. A session whose
	// next allocation would exceed it is closed with 1013 and counted; the
	// others keep serving. Default: limit.DefaultBudget (50 % of GOMEMLIMIT
	// if set, else 25 % of the cgroup limit or the machine's memory; at
	// least 64MiB, at most 4GiB).
	MemoryBudget ByteSize `yaml:"memory_budget"`
}

// HandshakeRate is a per-client-IP token bucket for new connections of a
// listener: PerSecond tokens a second, bursts of Burst. PerSecond 0 (the
// default) disables it.
type HandshakeRate struct {
	PerSecond float64 `yaml:"per_second"`
	// Burst defaults to PerSecond rounded up (at least 1).
	Burst int `yaml:"burst"`
}

// Flapping holds off a device identity replaced more than MaxReplacements
// times within Window: its connects are refused with 4008 for HoldOff.
// Device listener only.
type Flapping struct {
	// MaxReplacements defaults to 10; a negative value disables the check.
	MaxReplacements int `yaml:"max_replacements"`
	// Window defaults to 1m.
	Window time.Duration `yaml:"window"`
	// HoldOff defaults to 1m.
	HoldOff time.Duration `yaml:"hold_off"`
}

// Enabled reports whether flapping detection is on.
func (f Flapping) Enabled() bool { return f.MaxReplacements >= 0 }

// listenerCount is how many listeners share the file limit that
// max_connections defaults from.
const listenerCount = 2

// applyLimitsDefaults fills the defaults of hostile-load limits: the
// memory budget, max_connections of both listeners and device flapping.
func (c *Config) applyLimitsDefaults() {
	if c.Limits.MemoryBudget == 0 {
		c.Limits.MemoryBudget = ByteSize(limit.DefaultBudget())
	}
	for _, l := range []*Limits{&c.App.Limits, &c.Device.Limits} {
		if l.MaxConnections == 0 {
			l.MaxConnections = limit.DefaultMaxConnections(listenerCount)
		}
		if l.HandshakeRate.PerSecond > 0 && l.HandshakeRate.Burst == 0 {
			l.HandshakeRate.Burst = max(int(l.HandshakeRate.PerSecond+0.999), 1)
		}
	}
	f := &c.Device.Limits.Flapping
	if f.MaxReplacements == 0 {
		f.MaxReplacements = limit.DefaultFlapMax
	}
	if f.Window == 0 {
		f.Window = limit.DefaultFlapWindow
	}
	if f.HoldOff == 0 {
		f.HoldOff = limit.DefaultFlapHoldOff
	}
}

// validateLimits checks the hostile-load limits of the process and of
// both listeners.
func (c *Config) validateLimits(bad badFunc) {
	largest := max(c.App.Limits.MaxMessage, c.Device.Limits.MaxMessage)
	if c.Limits.MemoryBudget < largest {
		bad("limits.memory_budget", "must be at least the largest max_message (%s), got %s", largest, c.Limits.MemoryBudget)
	}
	for _, x := range []struct {
		name string
		l    Limits
	}{{"app.limits", c.App.Limits}, {"device.limits", c.Device.Limits}} {
		name, l := x.name, x.l
		if l.MaxConnectionsPerIP < 0 {
			bad(name+".max_connections_per_ip", "must not be negative")
		}
		if l.HandshakeRate.PerSecond < 0 || l.HandshakeRate.Burst < 0 {
			bad(name+".handshake_rate", "per_second and burst must not be negative")
		}
		if l.MaxMessagesPerS < 0 {
			bad(name+".max_messages_per_s", "must not be negative")
		}
		if l.MaxBytesPerS < 0 {
			bad(name+".max_bytes_per_s", "must not be negative")
		}
	}
	if c.App.Limits.Flapping != (Flapping{}) {
		bad("app.limits.flapping", "applies to device identities only: set device.limits.flapping")
	}
	if f := c.Device.Limits.Flapping; f.Enabled() && (f.Window < 0 || f.HoldOff < 0) {
		bad("device.limits.flapping", "window and hold_off must not be negative")
	}
}
