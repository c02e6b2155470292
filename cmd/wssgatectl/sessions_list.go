package main

import (
	"context"
	"fmt"
	"time"

	adminv1 "github.com/wssgate/wssgate/gen/wssgate/admin/v1"
)

// Paging of sessions list: the CLI fetches every page.
const (
	listPageSize = 1000
	maxListPages = 10000 // a bound on the loop, far above any real gateway
)

// runSessionsList lists the open sessions (every page), filtered.
func (c *cli) runSessionsList(ctx context.Context, args []string) error {
	fs := c.newFlags()
	req := &adminv1.ListSessionsRequest{PageSize: listPageSize}
	fs.StringVar(&req.Listener, "listener", "", "only sessions of listener `L`")
	role := fs.String("role", "", "only sessions of listeners with role `R` (app or device)")
	fs.StringVar(&req.Identity, "identity", "", "only sessions with identity `I`")
	fs.StringVar(&req.RemoteAddressPrefix, "remote", "", "only sessions whose remote address starts with `PREFIX`")
	if _, err := c.parse(fs, args, 0); err != nil {
		return err
	}
	var err error
	if req.Role, err = parseRole(*role); err != nil {
		return c.usageErrorf("%v", err)
	}
	all, err := c.listSessions(ctx, req)
	if err != nil {
		return err
	}
	if c.g.json {
		return c.printJSON(&adminv1.ListSessionsResponse{Sessions: all})
	}
	now := time.Now()
	tw := table(c.stdout, "ID", "LISTENER", "ROLE", "IDENTITY", "REMOTE", "AGE", "TLS", "SUBS", "MSGS IN", "MSGS OUT", "QUEUE", "DROPS")
	for _, s := range all {
		row(tw, s.GetId(), s.GetListener(), roleName(s.GetRole()), s.GetIdentity(), s.GetRemoteAddress(),
			age(s.GetConnectedAt(), now), s.GetTlsVersion(), fmt.Sprint(len(s.GetSubscriptions())),
			u(s.GetMessagesIn()), u(s.GetMessagesOut()), u(s.GetQueueLength()), u(s.GetDrops()))
	}
	return tw.Flush()
}

// listSessions fetches every page of req, each call bounded by --timeout.
func (c *cli) listSessions(ctx context.Context, req *adminv1.ListSessionsRequest) ([]*adminv1.Session, error) {
	cl, err := c.client()
	if err != nil {
		return nil, err
	}
	var all []*adminv1.Session
	for range maxListPages {
		cctx, cancel := c.callCtx(ctx)
		resp, err := cl.ListSessions(cctx, req)
		cancel()
		if err != nil {
			return nil, err
		}
		all = append(all, resp.GetSessions()...)
		if resp.GetNextPageToken() == "" || resp.GetNextPageToken() == req.GetPageToken() {
			return all, nil
		}
		req.PageToken = resp.GetNextPageToken()
	}
	return all, fmt.Errorf("list sessions: more than %d pages", maxListPages)
}
