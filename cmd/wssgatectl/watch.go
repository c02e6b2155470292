package main

import (
	"context"
	"fmt"
	"strings"

	"google.golang.org/grpc"

	adminv1 "github.com/wssgate/wssgate/gen/wssgate/admin/v1"
)

// runWatch prints session connect and disconnect events, one line per event, until
// interrupted or --count events were printed.
func (c *cli) runWatch(ctx context.Context, args []string) error {
	fs := c.newFlags()
	count := fs.Uint("count", 0, countHelp)
	req := &adminv1.WatchSessionsRequest{}
	fs.StringVar(&req.Listener, "listener", "", "only events of listener `L`")
	role := fs.String("role", "", "only events of listeners with role `R` (app or device)")
	if _, err := c.parse(fs, args, 0); err != nil {
		return err
	}
	var err error
	if req.Role, err = parseRole(*role); err != nil {
		return c.usageErrorf("%v", err)
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	return follow(ctx, *count, func(ctx context.Context) (grpc.ServerStreamingClient[adminv1.WatchSessionsResponse], error) {
		return cl.WatchSessions(ctx, req)
	}, func(e *adminv1.WatchSessionsResponse) error {
		if c.g.json {
			return c.printJSON(e)
		}
		_, err := fmt.Fprintln(c.stdout, eventLine(e))
		return err
	})
}

// eventLine formats one event: time, type, session id and its key attributes.
func eventLine(e *adminv1.WatchSessionsResponse) string {
	s := e.GetSession()
	var b strings.Builder
	typ := "event"
	switch e.GetType() {
	case adminv1.SessionEventType_SESSION_EVENT_TYPE_CONNECTED:
		typ = "connected"
	case adminv1.SessionEventType_SESSION_EVENT_TYPE_DISCONNECTED:
		typ = "disconnected"
	}
	fmt.Fprintf(&b, "%s  %-12s  %s  listener=%s role=%s", streamTime(e.GetTime()), typ, s.GetId(),
		orDash(s.GetListener()), orDash(roleName(s.GetRole())))
	if s.GetIdentity() != "" {
		fmt.Fprintf(&b, " identity=%s", s.GetIdentity())
	}
	if s.GetRemoteAddress() != "" {
		fmt.Fprintf(&b, " remote=%s", s.GetRemoteAddress())
	}
	if e.GetType() == adminv1.SessionEventType_SESSION_EVENT_TYPE_DISCONNECTED {
		fmt.Fprintf(&b, " code=%d reason=%q", e.GetCloseCode(), e.GetReason())
	}
	return b.String()
}
