package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// fanRing is the number of in-flight message slots counted in window mode; it
// must exceed any window (messages not yet complete are always the newest).
const fanRing = 1 << 16

// stallAfter is how long without a completed message counts as a stall.
const stallAfter = 5 * time.Second

// maxDrain bounds the wait for deliveries after publishing stops.
const maxDrain = 60 * time.Second

// fanState is shared by the subscribers' readers and the publisher.
type fanState struct {
	subs   int32
	window int64
	counts []atomic.Int32 // deliveries per message slot (seq % fanRing), window mode
	lat    *latency

	completed atomic.Int64 // messages received by every subscriber (window mode)
	delivered atomic.Int64
	lastNanos atomic.Int64 // time of the last delivery
	dropped   atomic.Int64 // subscribers that lost their connection during the run
	stopping  atomic.Bool
	wake      chan struct{} // a message completed
}

// readSub reads subscriber i's messages until its connection ends.
func (st *fanState) readSub(i int, c *conn) {
	for {
		_, p, err := c.read()
		if err != nil {
			if !st.stopping.Load() {
				st.dropped.Add(1)
			}
			return
		}
		seq, ts, ok := parsePayload(p)
		if !ok {
			continue
		}
		now := time.Now().UnixNano()
		st.lat.record(i, (now-ts)/1000)
		st.delivered.Add(1)
		st.lastNanos.Store(now)
		if st.window > 0 {
			slot := &st.counts[seq%fanRing]
			if slot.Add(1) == st.subs {
				slot.Store(0)
				st.completed.Add(1)
				select {
				case st.wake <- struct{}{}:
				default:
				}
			}
		}
	}
}

// fanout: --devices devices publish --size-byte messages round robin, --apps app
// clients subscribed to --pattern receive them.
func (b *bench) fanout(ctx context.Context) (*result, error) {
	o := b.o
	if err := ensureFiles(o.apps + o.devices); err != nil {
		return nil, err
	}
	if o.apps < 1 {
		return nil, fmt.Errorf("%w: fanout needs --apps ≥ 1", errUsage)
	}
	b.logf("fanout: connecting %d subscribers to %s (pattern %s)", o.apps, o.appURL, o.pattern)
	subs, failed := ramp(ctx, o.apps, o.concurrency, b.dialSubscriber(o.pattern, o.dialTimeout), b.logf)
	defer closeAll(subs)
	pubs, pfailed := ramp(ctx, o.devices, o.concurrency, b.dialDevice, b.logf)
	defer closeAll(pubs)
	if err := ctx.Err(); err != nil {
		return nil, errCanceled
	}
	if failed+pfailed > 0 {
		return nil, fmt.Errorf("connect: %d of %d subscribers and %d of %d publishers failed", failed, o.apps, pfailed, o.devices)
	}
	st := &fanState{subs: int32(o.apps), window: int64(o.window), lat: newLatency(64), wake: make(chan struct{}, 1)}
	if o.rate > 0 {
		st.window = 0
	}
	if st.window > 0 {
		if st.window >= fanRing/2 {
			return nil, fmt.Errorf("%w: --window must be below %d", errUsage, fanRing/2)
		}
		st.counts = make([]atomic.Int32, fanRing)
	}
	var wg sync.WaitGroup
	for i, c := range subs {
		wg.Go(func() { st.readSub(i, c) })
	}
	for _, c := range pubs {
		wg.Go(func() { // answer pings; commands to publishers are not expected
			for {
				if _, _, err := c.read(); err != nil {
					return
				}
			}
		})
	}
	defer func() {
		st.stopping.Store(true)
		closeAll(subs)
		closeAll(pubs)
		wg.Wait()
	}()

	b.logf("fanout: publishing for %s (window %d, rate %g/s)", o.duration, st.window, o.rate)
	more, _ := parsePIDs(o.morePIDs) // checked by validate
	m := startMeter(o.pid, more...)
	first := time.Now()
	published, stalls, err := b.publish(ctx, st, pubs)
	if err != nil {
		return nil, err
	}
	expected := published * int64(o.apps)
	pubEnd := time.Now()
	for deadline := pubEnd.Add(maxDrain); st.delivered.Load() < expected && time.Now().Before(deadline) && ctx.Err() == nil; {
		last := time.Unix(0, max(st.lastNanos.Load(), pubEnd.UnixNano()))
		if time.Since(last) > o.drain {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	m.stop()
	st.stopping.Store(true)
	delivered := st.delivered.Load()
	span := time.Unix(0, st.lastNanos.Load()).Sub(first).Seconds()

	r := &result{}
	r.str("scenario", "fanout")
	r.int("subs", int64(o.apps))
	r.int("publishers", int64(o.devices))
	r.int("size", int64(o.size))
	r.int("window", st.window)
	r.float("rate", o.rate, 0)
	r.float("duration_s", pubEnd.Sub(first).Seconds(), 3)
	r.int("published", published)
	r.int("delivered", delivered)
	if span > 0 {
		r.float("deliveries_per_s", float64(delivered)/span, 0)
	} else {
		r.float("deliveries_per_s", 0, 0)
	}
	r.int("missing", expected-delivered)
	r.int("dropped", st.dropped.Load())
	r.int("stalls", stalls)
	addLatency(r, "", st.lat.merged())
	m.add(r, delivered, "delivery")
	return r, nil
}

// publish sends messages round robin over pubs for --duration, either at
// --rate or keeping at most --window messages incomplete. It returns the
// number published and the stalls seen (5 s without a completed message).
func (b *bench) publish(ctx context.Context, st *fanState, pubs []*conn) (published, stalls int64, err error) {
	o := b.o
	buf := make([]byte, 0, o.size+64)
	start := time.Now()
	deadline := start.Add(o.duration)
	send := func(ts int64) error {
		buf = appendPayload(buf[:0], published, ts, o.size)
		if err := pubs[published%int64(len(pubs))].write(opText, buf); err != nil {
			return fmt.Errorf("publish message %d: %w", published, err)
		}
		published++
		return nil
	}
	if st.window == 0 {
		interval := time.Duration(float64(time.Second) / o.rate)
		for ctx.Err() == nil {
			at := start.Add(time.Duration(published) * interval)
			if !at.Before(deadline) {
				break
			}
			if d := time.Until(at); d > 0 {
				time.Sleep(d)
			}
			if err := send(at.UnixNano()); err != nil {
				return published, stalls, err
			}
		}
		return published, stalls, nil
	}
	timer := time.NewTimer(time.Second)
	defer timer.Stop()
	lastProgress, lastCompleted := time.Now(), int64(0)
	for ctx.Err() == nil && time.Now().Before(deadline) {
		if c := st.completed.Load(); published-c >= st.window {
			if c != lastCompleted {
				lastProgress, lastCompleted = time.Now(), c
			} else if time.Since(lastProgress) > stallAfter {
				stalls++
				lastProgress = time.Now()
				b.logf("fanout: stall: no message completed for %s (%d of %d incomplete)", stallAfter, published-c, published)
			}
			timer.Reset(100 * time.Millisecond)
			select {
			case <-st.wake:
			case <-timer.C:
			case <-ctx.Done():
			}
			continue
		}
		if err := send(time.Now().UnixNano()); err != nil {
			return published, stalls, err
		}
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		return published, stalls, errCanceled
	}
	return published, stalls, nil
}
