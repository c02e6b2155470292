package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	adminv1 "github.com/wssgate/wssgate/gen/wssgate/admin/v1"
)

// runStats prints the per-listener counters, the process figures and the certificate
// expiries.
func (c *cli) runStats(ctx context.Context, args []string) error {
	if _, err := c.parse(c.newFlags(), args, 0); err != nil {
		return err
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	ctx, cancel := c.callCtx(ctx)
	defer cancel()
	resp, err := cl.GetStats(ctx, &adminv1.GetStatsRequest{})
	if err != nil {
		return err
	}
	if c.g.json {
		return c.printJSON(resp)
	}
	now := time.Now()
	p := resp.GetProcess()
	k := newKV(c.stdout, "")
	k.add("version", p.GetVersion())
	k.add("started_at", when(p.GetStartedAt(), now))
	if p.GetUptime() != nil {
		k.add("uptime", p.GetUptime().AsDuration().Round(time.Second).String())
	}
	k.add("goroutines", u(p.GetGoroutines()))
	k.add("heap_alloc_bytes", u(p.GetHeapAllocBytes()))
	k.add("certificate_generation", u(resp.GetCertificateGeneration()))
	if err := k.flush(); err != nil {
		return err
	}
	fmt.Fprintln(c.stdout)
	tw := table(c.stdout, "LISTENER", "ADDRESS", "ROLE", "OPEN", "HANDSHAKES", "FAILED", "MSGS IN", "MSGS OUT", "BYTES IN", "BYTES OUT", "SLOW CLOSES", "FAILURES BY REASON")
	for _, l := range resp.GetListeners() {
		failed, reasons := failureSummary(l.GetHandshakeFailures())
		row(tw, l.GetName(), l.GetAddress(), roleName(l.GetRole()), u(l.GetOpenSessions()), u(l.GetHandshakesOk()),
			u(failed), u(l.GetMessagesIn()), u(l.GetMessagesOut()), u(l.GetBytesIn()), u(l.GetBytesOut()),
			u(l.GetSlowConsumerCloses()), reasons)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if err := c.printCluster(resp); err != nil {
		return err
	}
	if len(resp.GetCertificates()) == 0 {
		return nil
	}
	fmt.Fprintln(c.stdout)
	tw = table(c.stdout, "CERTIFICATE", "SERIAL", "NOT AFTER")
	for _, x := range resp.GetCertificates() {
		row(tw, x.GetSubject(), x.GetSerial(), when(x.GetNotAfter(), now))
	}
	return tw.Flush()
}

// failureSummary totals the failures and lists the non-zero reasons, e.g.
// "bad_origin=3 tls=1", in name order.
func failureSummary(m map[string]uint64) (uint64, string) {
	var total uint64
	var parts []string
	for reason, n := range m {
		total += n
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", reason, n))
		}
	}
	sort.Strings(parts)
	return total, strings.Join(parts, " ")
}
