package main

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// idle opens --devices device connections and --apps app connections (each
// subscribed to --pattern), holds them for --hold sending nothing (pings are
// answered) and reports the gateway's RSS per connection.
func (b *bench) idle(ctx context.Context) (*result, error) {
	o := b.o
	n := o.devices + o.apps
	if err := ensureFiles(n); err != nil {
		return nil, err
	}
	var before procSample
	if o.pid > 0 {
		var err error
		if before, err = readProc(o.pid); err != nil {
			return nil, err
		}
	}
	b.logf("idle: opening %d device and %d app connections, %d dials in flight", o.devices, o.apps, o.concurrency)
	m := startMeter(o.pid)
	devs, dfailed := ramp(ctx, o.devices, o.concurrency, b.dialDevice, b.logf)
	apps, afailed := ramp(ctx, o.apps, o.concurrency, b.dialSubscriber(o.pattern, o.dialTimeout), b.logf)
	m.stop()
	all := append(devs, apps...)
	defer closeAll(all)
	connected := int64(n) - dfailed - afailed
	var afterRamp procSample
	if o.pid > 0 {
		time.Sleep(200 * time.Millisecond) // let the last sessions register
		afterRamp, _ = readProc(o.pid)
	}

	h := hold(all)
	b.logf("idle: %d connected, holding for %s", connected, o.hold)
	select {
	case <-time.After(o.hold):
	case <-ctx.Done():
	}
	var end procSample
	if o.pid > 0 {
		end, _ = readProc(o.pid)
	}
	h.release()
	if errors.Is(ctx.Err(), context.Canceled) {
		return nil, errCanceled
	}

	r := &result{}
	r.str("scenario", "idle")
	r.int("devices", int64(o.devices))
	r.int("apps", int64(o.apps))
	r.int("connected", connected)
	r.int("connect_errors", dfailed+afailed)
	r.float("ramp_s", m.wall().Seconds(), 3)
	r.float("handshakes_per_s", float64(connected)/max(m.wall().Seconds(), 1e-9), 0)
	r.int("dropped", h.dropped.Load())
	r.float("hold_s", o.hold.Seconds(), 1)
	if o.pid > 0 && connected > 0 {
		r.int("server_rss_before_kib", before.rssKiB)
		r.int("server_rss_after_kib", afterRamp.rssKiB)
		r.int("server_rss_end_kib", end.rssKiB)
		r.float("server_kib_per_conn", float64(afterRamp.rssKiB-before.rssKiB)/float64(connected), 2)
		r.float("server_kib_per_conn_end", float64(end.rssKiB-before.rssKiB)/float64(connected), 2)
	}
	m.add(r, connected, "handshake")
	if connected == 0 {
		return r, fmt.Errorf("connect: no connection opened (%d errors)", dfailed+afailed)
	}
	return r, nil
}
