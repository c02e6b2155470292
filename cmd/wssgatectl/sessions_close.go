package main

import (
	"context"
	"fmt"

	adminv1 "github.com/wssgate/wssgate/gen/wssgate/admin/v1"
)

// runSessionsClose closes one session with a WebSocket close code and reason.
func (c *cli) runSessionsClose(ctx context.Context, args []string) error {
	fs := c.newFlags()
	code := fs.Uint("code", 1000, "WebSocket close code `N`: 1000-1003, 1007-1014 or 3000-4999")
	reason := fs.String("reason", "", "close reason `R` (at most 123 bytes)")
	pos, err := c.parse(fs, args, 1)
	if err != nil {
		return err
	}
	if *code > 0xffff {
		return c.usageErrorf("--code %d: want 1000-1003, 1007-1014 or 3000-4999", *code)
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	ctx, cancel := c.callCtx(ctx)
	defer cancel()
	resp, err := cl.CloseSession(ctx, &adminv1.CloseSessionRequest{Id: pos[0], Code: uint32(*code), Reason: *reason})
	if err != nil {
		return err
	}
	if c.g.json {
		return c.printJSON(resp)
	}
	_, err = fmt.Fprintf(c.stdout, "closed session %s (code %d)\n", pos[0], *code)
	return err
}
