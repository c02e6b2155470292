package main

import (
	"context"

	adminv1 "github.com/wssgate/wssgate/gen/wssgate/admin/v1"
)

// runDevices lists the connected devices of every node of the cluster.
func (c *cli) runDevices(ctx context.Context, args []string) error {
	fs := c.newFlags()
	req := &adminv1.ListDevicesRequest{}
	fs.StringVar(&req.IdentityPrefix, "prefix", "", "only devices whose identity starts with `P`")
	if _, err := c.parse(fs, args, 0); err != nil {
		return err
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	ctx, cancel := c.callCtx(ctx)
	defer cancel()
	resp, err := cl.ListDevices(ctx, req)
	if err != nil {
		return err
	}
	if c.g.json {
		return c.printJSON(resp)
	}
	tw := table(c.stdout, "IDENTITY", "NODE", "SESSION", "CONNECTED")
	for _, d := range resp.GetDevices() {
		row(tw, d.GetIdentity(), d.GetNode(), d.GetSessionId(), stamp(d.GetConnectedAt()))
	}
	return tw.Flush()
}
