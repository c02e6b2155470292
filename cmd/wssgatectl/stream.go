package main

import (
	"context"
	"errors"
	"io"

	"google.golang.org/grpc"
)

// countFlag is the --count of the streaming commands.
const countHelp = "stop after `N` items (0: until interrupted)"

// follow prints the items of a server stream with print until the stream ends, count items
// were printed (count > 0), or ctx ends (SIGINT): the last two are a clean exit.
func follow[T any](ctx context.Context, count uint, open func(context.Context) (grpc.ServerStreamingClient[T], error), print func(*T) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := open(ctx)
	if err != nil {
		return streamErr(ctx, err)
	}
	for n := uint(0); count == 0 || n < count; n++ {
		item, err := stream.Recv()
		if err != nil {
			return streamErr(ctx, err)
		}
		if err := print(item); err != nil {
			return err
		}
	}
	return nil
}

// streamErr is nil when the stream ended because ctx ended (an interrupt) or the server
// closed it normally, and err otherwise.
func streamErr(ctx context.Context, err error) error {
	if errors.Is(err, io.EOF) || ctx.Err() != nil {
		return nil
	}
	return err
}
