package main

import (
	"context"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/wssgate/wssgate/gateway/certs"
	"github.com/wssgate/wssgate/gateway/config"
	adminv1 "github.com/wssgate/wssgate/gen/wssgate/admin/v1"
)

// usedNames asks a running gateway (its admin API on loopback, without
// credentials) which names clients used within its reload window, and
// warns about each that the certificates checked here do not cover: those
// clients would fail, and a reload to these certificates is refused unless
// forced. It says so when it cannot ask.
func (c *checker) usedNames(cfg *config.Config, b *certs.Bundle, timeout time.Duration) {
	addr := cfg.Admin.Address
	switch {
	case addr == "" || addr == "off":
		c.say("INFO", "admin API off: names clients used recently not checked")
		return
	case !config.OnLoopback(dialAddr(addr)) || cfg.Admin.ClientCA != "" || cfg.Admin.TLS != nil || len(cfg.Admin.Tokens) > 0:
		c.say("INFO", "admin API %s needs TLS or credentials: names clients used recently not checked here (run `wssgatectl certs names`)", addr)
		return
	}
	names, err := listNames(dialAddr(addr), timeout)
	if err != nil {
		c.say("INFO", "admin API %s not reachable (%s): names clients used recently not checked", addr, oneLine(err))
		return
	}
	now, covered := time.Now(), 0
	for _, n := range names {
		if b.Covers(n.GetName()) {
			covered++
			continue
		}
		u := certs.NameUse{Name: n.GetName(), Count: n.GetHandshakes(), LastSeen: n.GetLastSeen().AsTime()}
		c.say("WARN", "clients used %s, which the certificate does not cover: they fail the handshake, and a reload to it is refused unless forced (`wssgatectl certs reload --force`)",
			certs.FormatNameUse(u, now))
	}
	c.say("OK", "%d of %d names clients used recently (admin API %s) are covered by the certificate", covered, len(names), addr)
}

// listNames calls ListNames on the admin API at addr, bounded by timeout.
func listNames(addr string, timeout time.Duration) ([]*adminv1.NameUse, error) {
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	defer cc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	resp, err := adminv1.NewAdminServiceClient(cc).ListNames(ctx, &adminv1.ListNamesRequest{})
	if err != nil {
		return nil, err
	}
	return resp.GetNames(), nil
}
