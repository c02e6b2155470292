package main

import (
	"context"
	"fmt"

	"google.golang.org/grpc"

	adminv1 "github.com/wssgate/wssgate/gen/wssgate/admin/v1"
)

// runSubscribe prints the messages published on channels matching a pattern, one line per
// message, until interrupted or --count messages were printed.
func (c *cli) runSubscribe(ctx context.Context, args []string) error {
	fs := c.newFlags()
	count := fs.Uint("count", 0, countHelp)
	pos, err := c.parse(fs, args, 1)
	if err != nil {
		return err
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	req := &adminv1.SubscribeRequest{Pattern: pos[0]}
	return follow(ctx, *count, func(ctx context.Context) (grpc.ServerStreamingClient[adminv1.SubscribeResponse], error) {
		return cl.Subscribe(ctx, req)
	}, func(m *adminv1.SubscribeResponse) error {
		if c.g.json {
			return c.printJSON(m)
		}
		_, isBinary := m.GetPayload().(*adminv1.SubscribeResponse_Binary)
		_, err := fmt.Fprintf(c.stdout, "%s  %s  %s\n", streamTime(m.GetTime()), m.GetChannel(),
			payloadText(m.GetText(), m.GetBinary(), isBinary))
		return err
	})
}
