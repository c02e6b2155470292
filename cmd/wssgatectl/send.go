package main

import (
	"context"
	"fmt"

	adminv1 "github.com/wssgate/wssgate/gen/wssgate/admin/v1"
)

// runSend queues one text or binary frame for one session.
func (c *cli) runSend(ctx context.Context, args []string) error {
	target, text, data, isBinary, err := c.parsePayload(args)
	if err != nil {
		return err
	}
	req := &adminv1.SendToSessionRequest{Id: target}
	if isBinary {
		req.Payload = &adminv1.SendToSessionRequest_Binary{Binary: data}
	} else {
		req.Payload = &adminv1.SendToSessionRequest_Text{Text: text}
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	ctx, cancel := c.callCtx(ctx)
	defer cancel()
	resp, err := cl.SendToSession(ctx, req)
	if err != nil {
		return err
	}
	if c.g.json {
		return c.printJSON(resp)
	}
	_, err = fmt.Fprintf(c.stdout, "sent %d bytes to session %s\n", max(len(text), len(data)), target)
	return err
}
