package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/wssgate/wssgate/gateway/auth"
	"github.com/wssgate/wssgate/gateway/config"
)

// appAuth authenticates app clients on the app listener's WebSocket as
// app.auth says. It is read-only after newAppAuth; the verifier's JWKS
// goroutines are started by start and stopped by close.
type appAuth struct {
	mode     string // none, jwt or check ("" is none)
	dev      bool
	cookie   string
	verifier *auth.Verifier // mode jwt
	checker  *auth.Checker  // mode check
	sub, pub []string       // the listener's lists: the ceiling of every session's
	anon     *auth.Grant    // mode none: every session's grant, shared (read-only)
}

// newAppAuth builds app.auth's verifier or checker; errors name the key.
func newAppAuth(cfg *config.Config, log *slog.Logger) (*appAuth, error) {
	a := &appAuth{mode: cfg.App.Auth.Mode, dev: cfg.Dev, cookie: cfg.App.Auth.Cookie, sub: cfg.App.Subscribe, pub: cfg.App.Publish}
	var err error
	switch a.mode {
	case "jwt":
		if a.verifier, err = auth.NewVerifier(cfg.App.Auth.JWT, log); err != nil {
			return nil, fmt.Errorf("app.auth.jwt: %w", err)
		}
	case "check":
		if a.checker, err = auth.NewChecker(cfg.App.Auth.Check); err != nil {
			return nil, fmt.Errorf("app.auth.check: %w", err)
		}
	}
	m := auth.MethodNone
	if a.dev {
		m = auth.MethodDev
	}
	a.anon = a.grant("", m, time.Time{}, 0, nil, nil, false)
	if a.mode == "none" && !config.OnLoopback(cfg.App.Address) {
		log.Warn("app.auth.mode is none on an address reachable off loopback: anyone who reaches it may subscribe and publish within app.subscribe and app.publish",
			"address", cfg.App.Address)
	}
	return a, nil
}

// start fetches the JWKS, if any, and refreshes it until ctx ends.
func (a *appAuth) start(ctx context.Context) error {
	if a.verifier == nil {
		return nil
	}
	if err := a.verifier.Start(ctx); err != nil {
		return fmt.Errorf("app.auth.jwt: %w", err)
	}
	return nil
}

// close stops the verifier's goroutines. Idempotent.
func (a *appAuth) close() {
	if a.verifier != nil {
		a.verifier.Close()
	}
}

// authenticate decides who the client of an upgrade request is: the
// listener's Authenticate hook. Errors are *auth.Error values (their
// status and sub-reason say how to refuse); none contains the token.
func (a *appAuth) authenticate(r *http.Request) (*auth.Grant, error) {
	switch a.mode {
	case "jwt":
		tok, _ := auth.TokenFromRequest(r.Header, r.URL.Query(), a.cookie)
		c, err := a.verifier.Verify(r.Context(), tok)
		if err != nil {
			return nil, err
		}
		return a.grant(c.Subject, auth.MethodJWT, c.Expiry, a.verifier.Leeway(), c.Subscribe, c.Publish, c.HasPermissions), nil
	case "check":
		res, err := a.checker.Check(r.Context(), r)
		if err != nil {
			return nil, err
		}
		return a.grant(res.Identity, auth.MethodCheck, res.Expiry, 0, res.Subscribe, res.Publish, res.HasPermissions), nil
	}
	return a.anon, nil
}

// grant narrows the listener's lists for one identity ({sub} expanded).
func (a *appAuth) grant(id string, m auth.Method, exp time.Time, leeway time.Duration, sub, pub []string, has bool) *auth.Grant {
	return &auth.Grant{
		Identity: id, Method: m, Expiry: exp, Leeway: leeway,
		Subscribe: auth.Narrow(a.sub, id, sub, has),
		Publish:   auth.Narrow(a.pub, id, pub, has),
	}
}

// refresh verifies a refresh token: valid and for the same identity.
// It is protocol.App's Refresh (nil unless mode jwt).
func (a *appAuth) refresh(ctx context.Context, identity, token string) (time.Time, error) {
	c, err := a.verifier.Verify(ctx, token)
	if err != nil {
		return time.Time{}, err
	}
	if c.Subject != identity {
		return time.Time{}, fmt.Errorf("token is for another subject (the session's is %q)", identity)
	}
	return c.Expiry, nil
}

// refresher returns refresh when tokens can be refreshed (mode jwt).
func (a *appAuth) refresher() func(context.Context, string, string) (time.Time, error) {
	if a.verifier == nil {
		return nil
	}
	return a.refresh
}

// AuthenticateApp decides who the client of an app upgrade request is, as
// app.auth says (the /ws hook; other app transports may use it too).
func (g *Gateway) AuthenticateApp(r *http.Request) (*auth.Grant, error) {
	return g.appAuth.authenticate(r)
}

// startAuth starts the JWT verifiers' JWKS refresh for the gateway's
// lifetime (until Shutdown).
func (g *Gateway) startAuth() error {
	ctx, cancel := context.WithCancel(context.Background())
	g.stopAuth = cancel
	if err := g.appAuth.start(ctx); err != nil {
		return err
	}
	return g.devAuth.Start(ctx)
}

// stopAuthentication stops the verifiers and waits for their goroutines.
func (g *Gateway) stopAuthentication() {
	if g.stopAuth != nil {
		g.stopAuth()
	}
	g.appAuth.close()
	g.devAuth.Close()
}
