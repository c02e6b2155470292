package main

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// closeWait bounds the close handshake after each connect.
const closeWait = 5 * time.Second

// hsCounters are the outcome of a handshake loop.
type hsCounters struct {
	ok, connectErrors, closeErrors atomic.Int64
}

// handshakeLoop runs k workers, each opening a connection (TCP, TLS, upgrade)
// to --target, sending a close frame and waiting for the server's close frame
// and EOF, until stop is closed or ctx ends. Connect latencies go to lat(),
// which is asked again for each sample so that callers can switch histograms.
func (b *bench) handshakeLoop(ctx context.Context, k int, stop <-chan struct{}, lat func() *latency, cnt *hsCounters) {
	var wg sync.WaitGroup
	for w := range k {
		wg.Go(func() {
			for ctx.Err() == nil {
				select {
				case <-stop:
					return
				default:
				}
				t0 := time.Now()
				var (
					c   *conn
					err error
				)
				if b.o.target == "app" {
					c, err = b.dialApp(ctx)
				} else {
					c, err = b.dialDevice(ctx, w)
				}
				if err != nil {
					if ctx.Err() == nil {
						cnt.connectErrors.Add(1)
						time.Sleep(10 * time.Millisecond) // do not spin on a refusing server
					}
					continue
				}
				lat().record(w, time.Since(t0).Microseconds())
				cnt.ok.Add(1)
				if !c.closeHandshake(closeWait) {
					cnt.closeErrors.Add(1)
				}
			}
		})
	}
	wg.Wait()
}

// handshake measures full TLS + upgrade handshakes per second with
// --concurrency workers for --duration.
func (b *bench) handshake(ctx context.Context) (*result, error) {
	o := b.o
	if err := ensureFiles(o.concurrency); err != nil {
		return nil, err
	}
	lat := newLatency(16)
	var cnt hsCounters
	stop := make(chan struct{})
	timer := time.AfterFunc(o.duration, func() { close(stop) })
	defer timer.Stop()
	b.logf("handshake: %d workers against the %s port for %s", o.concurrency, o.target, o.duration)
	m := startMeter(o.pid)
	b.handshakeLoop(ctx, o.concurrency, stop, func() *latency { return lat }, &cnt)
	m.stop()
	if errors.Is(ctx.Err(), context.Canceled) {
		return nil, errCanceled
	}
	r := &result{}
	r.str("scenario", "handshake")
	r.str("target", o.target)
	r.int("concurrency", int64(o.concurrency))
	r.float("duration_s", m.wall().Seconds(), 3)
	r.int("handshakes", cnt.ok.Load())
	r.float("handshakes_per_s", float64(cnt.ok.Load())/m.wall().Seconds(), 0)
	r.int("connect_errors", cnt.connectErrors.Load())
	r.int("close_errors", cnt.closeErrors.Load())
	addLatency(r, "connect_", lat.merged())
	m.add(r, cnt.ok.Load(), "handshake")
	return r, nil
}
