package main

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// dialSocketIO returns a dial function for ramp: a Socket.IO client on the
// Engine.IO v4 WebSocket transport (GET /socket.io/?EIO=4&transport=websocket
// on the app URL's host), connected to "/" and subscribed to pattern with
// emit('subscribe', pattern, ack).
func (b *bench) dialSocketIO(pattern string, timeout time.Duration) func(context.Context, int) (*conn, error) {
	return func(ctx context.Context, _ int) (*conn, error) {
		u, err := url.Parse(b.o.appURL)
		if err != nil {
			return nil, fmt.Errorf("app url: %w", err)
		}
		u.Path, u.RawQuery = "/socket.io/", "EIO=4&transport=websocket"
		c, err := b.d.dial(ctx, u.String(), nil, nil)
		if err != nil {
			return nil, err
		}
		c.socketIO = true
		if err := c.socketIOConnect(pattern, timeout); err != nil {
			_ = c.nc.Close()
			return nil, err
		}
		return c, nil
	}
}

// socketIOConnect reads the open packet, CONNECTs to "/" and subscribes.
func (c *conn) socketIOConnect(pattern string, timeout time.Duration) error {
	_ = c.nc.SetReadDeadline(time.Now().Add(timeout))
	defer c.nc.SetReadDeadline(time.Time{})
	expect := func(prefix string) error {
		for range 16 {
			_, p, err := c.read()
			if err != nil {
				return fmt.Errorf("wait for %q: %w", prefix, err)
			}
			if bytes.HasPrefix(p, []byte(prefix)) {
				return nil
			}
			if bytes.HasPrefix(p, []byte("44")) || bytes.HasPrefix(p, []byte("431[{\"error\"")) {
				return fmt.Errorf("socket.io refused: %s", p)
			}
		}
		return fmt.Errorf("no %q in 16 packets", prefix)
	}
	if err := expect("0{"); err != nil {
		return err
	}
	if err := c.write(opText, []byte("40")); err != nil {
		return fmt.Errorf("send CONNECT: %w", err)
	}
	if err := expect("40{"); err != nil {
		return err
	}
	if err := c.write(opText, []byte(`421["subscribe",`+strconv.Quote(pattern)+`]`)); err != nil {
		return fmt.Errorf("send subscribe: %w", err)
	}
	return expect("431[{}]")
}
