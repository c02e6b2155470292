package gateway

import (
	"log/slog"
	"net"
	"time"

	"github.com/gobwas/ws"

	"github.com/wssgate/wssgate/gateway/limit"
	"github.com/wssgate/wssgate/gateway/session"
	"github.com/wssgate/wssgate/gateway/wire"
	"github.com/wssgate/wssgate/internal/logsample"
)

// Keys of the gateway's sampled log lines (besides the session limits').
const sampleReplaced = "session_replaced"

// newLimits builds the process-wide memory budget, the flapping detector
// and the sampler, then both listeners' session limits. Shutdown closes
// the samplers.
func (g *Gateway) newLimits() {
	g.budget = limit.NewBudget(int64(g.cfg.Limits.MemoryBudget))
	g.sample = newSampler(g.log)
	if f := g.cfg.Device.Limits.Flapping; f.Enabled() {
		g.flap = limit.NewFlapping(f.MaxReplacements, f.Window, f.HoldOff)
	}
	g.appLimits, g.deviceLimits = g.sessionLimits(g.cfg.App.Limits), g.sessionLimits(g.cfg.Device.Limits)
}

// newSampler samples log lines an attacker can provoke: the first five per
// key a second, then one summary with the count.
func newSampler(log *slog.Logger) *logsample.Sampler {
	return logsample.New(log.Handler(), logsample.Options{})
}

// Budget returns the process-wide memory budget.
func (g *Gateway) Budget() *limit.Budget { return g.budget }

// flapping reports whether a device connecting as info's identity is held
// off: it is already, or it replaces a live session once too often within
// the window (logged once per hold-off).
func (g *Gateway) flapping(info *session.Info) bool {
	if g.flap == nil {
		return false
	}
	now := time.Now()
	if _, live := g.registry.Device(info.Identity); !live {
		return g.flap.HeldOff(info.Identity, now)
	}
	held, first := g.flap.Replace(info.Identity, now)
	if first {
		f := g.cfg.Device.Limits.Flapping
		g.log.Warn("device identity flapping: connects refused with 4008 for hold_off", "identity", info.Identity,
			"remote", info.RemoteAddr, "max_replacements", f.MaxReplacements, "window", f.Window, "hold_off", f.HoldOff)
	}
	return held
}

// refuse answers an upgraded connection with a close frame and closes it,
// without a session; the close is counted in totals.
func refuse(conn net.Conn, code ws.StatusCode, reason string, totals *session.Totals) {
	totals.Closes.Add(code)
	_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = conn.Write(wire.CloseFrame(code, reason))
	conn.Close()
}
