package main

import (
	"context"
	"fmt"

	adminv1 "github.com/wssgate/wssgate/gen/wssgate/admin/v1"
)

// runPublish publishes one message on a channel and reports how many sessions it reached.
func (c *cli) runPublish(ctx context.Context, args []string) error {
	target, text, data, isBinary, err := c.parsePayload(args)
	if err != nil {
		return err
	}
	req := &adminv1.PublishRequest{Channel: target}
	if isBinary {
		req.Payload = &adminv1.PublishRequest_Binary{Binary: data}
	} else {
		req.Payload = &adminv1.PublishRequest_Text{Text: text}
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	ctx, cancel := c.callCtx(ctx)
	defer cancel()
	resp, err := cl.Publish(ctx, req)
	if err != nil {
		return err
	}
	if c.g.json {
		return c.printJSON(resp)
	}
	noun := "sessions"
	if resp.GetReached() == 1 {
		noun = "session"
	}
	_, err = fmt.Fprintf(c.stdout, "published to %s: reached %d %s\n", target, resp.GetReached(), noun)
	return err
}
