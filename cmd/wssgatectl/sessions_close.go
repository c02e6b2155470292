package main

import (
	"context"
	"fmt"
	"strings"

	adminv1 "github.com/wssgate/wssgate/gen/wssgate/admin/v1"
)

// runSessionsClose closes one session, or every session of --identity, with a WebSocket
// close code and reason.
func (c *cli) runSessionsClose(ctx context.Context, args []string) error {
	fs := c.newFlags()
	code := fs.Uint("code", 1000, "WebSocket close code `N`: 1000-1003, 1007-1014 or 3000-4999")
	reason := fs.String("reason", "", "close reason `R` (at most 123 bytes)")
	identity := fs.String("identity", "", "close every session of identity `I` instead of one ID")
	npos := 1
	if hasFlag(args, "identity") {
		npos = 0
	}
	pos, err := c.parse(fs, args, npos)
	if err != nil {
		return err
	}
	if *code > 0xffff {
		return c.usageErrorf("--code %d: want 1000-1003, 1007-1014 or 3000-4999", *code)
	}
	if npos == 0 && *identity == "" {
		return c.usageErrorf("--identity is empty")
	}
	req := &adminv1.CloseSessionRequest{Identity: *identity, Code: uint32(*code), Reason: *reason}
	if npos == 1 {
		req.Id = pos[0]
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	ctx, cancel := c.callCtx(ctx)
	defer cancel()
	resp, err := cl.CloseSession(ctx, req)
	if err != nil {
		return err
	}
	if c.g.json {
		return c.printJSON(resp)
	}
	if npos == 0 {
		_, err = fmt.Fprintf(c.stdout, "closed %d %s of identity %s (code %d)\n", resp.GetClosed(), plural(resp.GetClosed(), "session"), *identity, *code)
		return err
	}
	_, err = fmt.Fprintf(c.stdout, "closed session %s (code %d)\n", pos[0], *code)
	return err
}

// hasFlag reports whether args set the flag name (-name, --name, with or without =value).
func hasFlag(args []string, name string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		f := strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		if f != a && (f == name || strings.HasPrefix(f, name+"=")) {
			return true
		}
	}
	return false
}

func plural(n uint32, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
