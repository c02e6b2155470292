package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// commandTimeout is how long an app waits for its device to get a command
// before counting it missing.
const commandTimeout = 5 * time.Second

// command pairs --devices devices with as many app clients; app i publishes
// to devices/<id i>/down, one command at a time, and device i measures the
// latency from the app's send. The device identity is --device-id for index
// i, whatever the credentials (with --token or --cert it must be the identity
// the gateway derives).
func (b *bench) command(ctx context.Context) (*result, error) {
	o := b.o
	n := o.devices
	if err := ensureFiles(2 * n); err != nil {
		return nil, err
	}
	b.logf("command: connecting %d devices and %d apps", n, n)
	devs, dfailed := ramp(ctx, n, o.concurrency, b.dialDevice, b.logf)
	defer closeAll(devs)
	apps, afailed := ramp(ctx, n, o.concurrency, func(ctx context.Context, _ int) (*conn, error) { return b.dialApp(ctx) }, b.logf)
	defer closeAll(apps)
	if err := ctx.Err(); err != nil {
		return nil, errCanceled
	}
	if dfailed+afailed > 0 {
		return nil, fmt.Errorf("connect: %d of %d devices and %d of %d apps failed", dfailed, n, afailed, n)
	}
	var (
		lat                     = newLatency(64)
		sent, received, appErrs atomic.Int64
		missing, dropped        atomic.Int64
		stopping                atomic.Bool
		readers, senders        sync.WaitGroup
	)
	got := make([]chan int64, n)
	for i := range n {
		got[i] = make(chan int64, 1)
		readers.Go(func() { // device i: measure, then tell app i
			for {
				_, p, err := devs[i].read()
				if err != nil {
					if !stopping.Load() {
						dropped.Add(1)
					}
					return
				}
				seq, ts, ok := parsePayload(p)
				if !ok {
					continue
				}
				lat.record(i, (time.Now().UnixNano()-ts)/1000)
				received.Add(1)
				select {
				case got[i] <- seq:
				default:
				}
			}
		})
		readers.Go(func() { // app i: acks and errors
			for {
				_, p, err := apps[i].read()
				if err != nil {
					if !stopping.Load() {
						dropped.Add(1)
					}
					return
				}
				if t, _ := envelopeType(p); t == "error" {
					if appErrs.Add(1) == 1 {
						b.logf("command: first error from the gateway: %s", p)
					}
				}
			}
		})
	}
	defer func() {
		stopping.Store(true)
		closeAll(devs)
		closeAll(apps)
		readers.Wait()
	}()

	b.logf("command: commanding for %s", o.duration)
	m := startMeter(o.pid)
	deadline := time.Now().Add(o.duration)
	for i := range n {
		senders.Go(func() {
			channel := strconv.Quote("devices/" + expand(o.deviceID, i) + "/down")
			buf := make([]byte, 0, o.size+128)
			timer := time.NewTimer(commandTimeout)
			defer timer.Stop()
			for seq := int64(0); ctx.Err() == nil && time.Now().Before(deadline); seq++ {
				buf = append(buf[:0], `{"type":"publish","id":`...)
				buf = strconv.AppendInt(buf, seq, 10)
				buf = append(buf, `,"channel":`...)
				buf = append(buf, channel...)
				buf = append(buf, `,"data":"`...)
				buf = appendPayload(buf, seq, time.Now().UnixNano(), o.size)
				buf = append(buf, `"}`...)
				if err := apps[i].write(opText, buf); err != nil {
					return
				}
				sent.Add(1)
				timer.Reset(commandTimeout)
				for waiting := true; waiting; {
					select {
					case s := <-got[i]:
						waiting = s < seq // a late one from before a timeout
					case <-timer.C:
						missing.Add(1)
						waiting = false
					case <-ctx.Done():
						waiting = false
					}
				}
			}
		})
	}
	senders.Wait()
	m.stop()
	if errors.Is(ctx.Err(), context.Canceled) {
		return nil, errCanceled
	}
	r := &result{}
	r.str("scenario", "command")
	r.int("devices", int64(n))
	r.int("size", int64(o.size))
	r.float("duration_s", m.wall().Seconds(), 3)
	r.int("sent", sent.Load())
	r.int("received", received.Load())
	r.float("commands_per_s", float64(received.Load())/m.wall().Seconds(), 0)
	r.int("missing", missing.Load())
	r.int("errors", appErrs.Load())
	r.int("dropped", dropped.Load())
	addLatency(r, "", lat.merged())
	m.add(r, received.Load(), "command")
	return r, nil
}
