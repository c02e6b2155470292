package gateway

import (
	"cmp"
	"time"

	"github.com/wssgate/wssgate/gateway/certs"
)

// NameUse is one name clients used in successful handshakes (an SNI name,
// or an IP dialled without SNI) and whether the served bundle covers it.
type NameUse struct {
	certs.NameUse
	Covered bool
}

// Names returns the names clients used within the last within (0: the
// reload window, tls.names_window), most recently seen first. Reloads
// refuse to stop covering them.
func (g *Gateway) Names(within time.Duration) []NameUse {
	if within <= 0 {
		within = cmp.Or(g.cfg.TLS.NamesWindow, certs.DefaultNameWindow)
	}
	b := g.certs.Current()
	uses := g.names.Recent(time.Now().Add(-within))
	out := make([]NameUse, len(uses))
	for i, u := range uses {
		out[i] = NameUse{NameUse: u, Covered: b.Covers(u.Name)}
	}
	return out
}
