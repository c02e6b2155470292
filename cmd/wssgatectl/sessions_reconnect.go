package main

import (
	"context"
	"flag"
	"fmt"
	"math"

	adminv1 "github.com/wssgate/wssgate/gen/wssgate/admin/v1"
)

// runSessionsReconnect closes, with 1012 (Service Restart), the sessions established with
// a certificate generation below N, at a bounded rate, so that clients reconnect and pick
// up a reloaded certificate. The call may take long at a low rate, so --timeout applies
// only when given explicitly; Ctrl-C stops it.
func (c *cli) runSessionsReconnect(ctx context.Context, args []string) error {
	fs := c.newFlags()
	below := fs.Uint64("below-generation", 0, "close sessions whose certificate generation is below `N` (0: the current generation); required")
	listener := fs.String("listener", "", "only sessions of listener `L`")
	rate := fs.Float64("rate", 0, "close at most `R` sessions per second (0: no limit)")
	if _, err := c.parse(fs, args, 0); err != nil {
		return err
	}
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == "below-generation" })
	switch {
	case !given:
		return c.usageErrorf("missing --below-generation N (0 selects every session from before the last reload)")
	case *rate < 0 || math.IsNaN(*rate) || math.IsInf(*rate, 0):
		return c.usageErrorf("--rate %v: want 0 (no limit) or more", *rate)
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	if c.g.timeoutSet {
		var cancel context.CancelFunc
		ctx, cancel = c.callCtx(ctx)
		defer cancel()
	}
	resp, err := cl.ReconnectSessions(ctx, &adminv1.ReconnectSessionsRequest{
		BelowGeneration: *below, Listener: *listener, RatePerSecond: *rate,
	})
	if err != nil {
		return err
	}
	if c.g.json {
		return c.printJSON(resp)
	}
	_, err = fmt.Fprintf(c.stdout, "closed %d sessions\n", resp.GetClosed())
	return err
}
