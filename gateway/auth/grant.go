package auth

import "time"

// Grant is what one accepted credential allows a session: who it is, how
// it proved it, until when, and (app sessions) which channels it may use.
type Grant struct {
	Identity string
	Method   Method
	// Expiry is when the credential lapses (a JWT's exp, the session
	// check's expires_at); zero means never.
	Expiry time.Time
	// Leeway is added to Expiry before the session is closed (jwt.leeway).
	Leeway time.Duration
	// Subscribe and Publish are the session's own allow-lists, already
	// narrowed (see Narrow). Unused by device sessions.
	Subscribe, Publish []string
}

// CloseAt is when a session holding g is closed with 4003 token expired:
// Expiry plus Leeway, or the zero time when g never expires.
func (g *Grant) CloseAt() time.Time {
	if g == nil || g.Expiry.IsZero() {
		return time.Time{}
	}
	return g.Expiry.Add(g.Leeway)
}
