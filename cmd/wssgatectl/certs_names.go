package main

import (
	"context"
	"strconv"

	"google.golang.org/protobuf/types/known/durationpb"

	adminv1 "github.com/wssgate/wssgate/gen/wssgate/admin/v1"
)

// runCertsNames lists the names clients used in recent successful handshakes, most
// recently seen first: a reload that stops covering one of them is refused unless forced.
func (c *cli) runCertsNames(ctx context.Context, args []string) error {
	fs := c.newFlags()
	within := fs.Duration("within", 0, "only names seen in the last `DURATION` (0: the gateway's tls.names_window)")
	if _, err := c.parse(fs, args, 0); err != nil {
		return err
	}
	if *within < 0 {
		return c.usageErrorf("--within %v: want a positive duration", *within)
	}
	req := &adminv1.ListNamesRequest{}
	if *within > 0 {
		req.Within = durationpb.New(*within)
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	ctx, cancel := c.callCtx(ctx)
	defer cancel()
	resp, err := cl.ListNames(ctx, req)
	if err != nil {
		return err
	}
	if c.g.json {
		return c.printJSON(resp)
	}
	tw := table(c.stdout, "NAME", "HANDSHAKES", "LAST SEEN", "COVERED")
	for _, n := range resp.GetNames() {
		covered := "yes"
		if !n.GetCovered() {
			covered = "NO"
		}
		row(tw, n.GetName(), strconv.FormatUint(n.GetHandshakes(), 10), stamp(n.GetLastSeen()), covered)
	}
	return tw.Flush()
}
