package main

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	adminv1 "github.com/wssgate/wssgate/gen/wssgate/admin/v1"
)

// reload holds --devices idle device connections and runs --concurrency
// handshake workers; after --before it reloads the certificates --reloads times
// through the admin API, spread over --duration. It reports sessions dropped
// by the reloads and the handshake latency before and after the first reload.
func (b *bench) reload(ctx context.Context) (*result, error) {
	o := b.o
	if err := ensureFiles(o.devices + o.concurrency + 8); err != nil {
		return nil, err
	}
	cc, err := grpc.NewClient("passthrough:///"+o.admin, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, fmt.Errorf("dial admin %s: %w", o.admin, err)
	}
	defer cc.Close()
	admin := adminv1.NewAdminServiceClient(cc)
	actx := ctx
	if o.adminToken != "" {
		actx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+o.adminToken)
	}

	b.logf("reload: holding %d devices", o.devices)
	// Held devices use indexes past the handshake workers' so identities differ.
	held, failed := ramp(ctx, o.devices, 50, func(ctx context.Context, i int) (*conn, error) {
		return b.dialDevice(ctx, o.concurrency+i)
	}, b.logf)
	defer closeAll(held)
	if failed > 0 {
		return nil, fmt.Errorf("connect: %d of %d held devices failed", failed, o.devices)
	}
	h := hold(held)
	defer h.release()

	before, after := newLatency(16), newLatency(16)
	var cur atomic.Pointer[latency]
	cur.Store(before)
	var cnt hsCounters
	stop := make(chan struct{})
	hsDone := make(chan struct{})
	m := startMeter(o.pid)
	go func() {
		defer close(hsDone)
		b.handshakeLoop(ctx, o.concurrency, stop, cur.Load, &cnt)
	}()
	beforeCount := int64(0)
	reloads, reloadErrs := 0, 0
	rl := newLatency(1)
	sleep := func(d time.Duration) {
		select {
		case <-time.After(d):
		case <-ctx.Done():
		}
	}
	sleep(o.before)
	beforeCount = cnt.ok.Load()
	cur.Store(after)
	gap := o.duration / time.Duration(max(o.reloads, 1))
	for i := 0; i < o.reloads && ctx.Err() == nil; i++ {
		t0 := time.Now()
		cctx, cancel := context.WithTimeout(actx, 30*time.Second)
		_, err := admin.ReloadCertificates(cctx, &adminv1.ReloadCertificatesRequest{})
		cancel()
		if err != nil {
			reloadErrs++
			b.logf("reload: ReloadCertificates: %v", err)
		} else {
			reloads++
			rl.record(0, time.Since(t0).Microseconds())
		}
		sleep(max(gap-time.Since(t0), 0))
	}
	close(stop)
	<-hsDone
	m.stop()
	if errors.Is(ctx.Err(), context.Canceled) {
		return nil, errCanceled
	}
	hb, ha := before.merged(), after.merged()
	r := &result{}
	r.str("scenario", "reload")
	r.int("held", int64(o.devices))
	r.int("concurrency", int64(o.concurrency))
	r.int("reloads", int64(reloads))
	r.int("reload_errors", int64(reloadErrs))
	r.int("reload_p99_us", rl.merged().ValueAtQuantile(99))
	r.int("dropped", h.dropped.Load())
	r.int("handshakes_before", beforeCount)
	r.int("handshakes_after", cnt.ok.Load()-beforeCount)
	r.int("connect_errors", cnt.connectErrors.Load())
	r.int("close_errors", cnt.closeErrors.Load())
	r.int("before_p50_us", hb.ValueAtQuantile(50))
	r.int("before_p99_us", hb.ValueAtQuantile(99))
	r.int("after_p50_us", ha.ValueAtQuantile(50))
	r.int("after_p99_us", ha.ValueAtQuantile(99))
	m.add(r, cnt.ok.Load(), "handshake")
	return r, nil
}
