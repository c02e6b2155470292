package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
)

// Attack kinds of the hostile scenario, a third of --hostile each.
const (
	attackSlowloris = iota // TLS, then an upgrade request trickled a byte at a time
	attackPartial          // upgraded, then all but the last byte of a --partial-byte message
	attackPings            // upgraded, then pings at --ping-rate
	numAttacks
)

var attackNames = [numAttacks]string{"slowloris", "partial", "pings"}

// attackStats count one kind's connection attempts: those that got as far
// as the attack, those the gateway ended while it ran, and failed dials
// (refused, or cut before the attack began).
type attackStats struct{ started, cut, failed atomic.Int64 }

// hostile: --apps good app clients subscribed to --pattern receive a fan-out
// at --rate from --devices publishers while --hostile connections attack
// both ports (slowloris, partial messages, ping floods). It reports the
// gateway's RSS (--pid) and goroutines (--ops /metrics) before and under
// attack, the good sessions' latency and their losses.
func (b *bench) hostile(ctx context.Context) (*result, error) {
	o := b.o
	if err := ensureFiles(o.apps + o.devices + o.hostile); err != nil {
		return nil, err
	}
	b.logf("hostile: connecting %d subscribers and %d publishers", o.apps, o.devices)
	subs, failed := ramp(ctx, o.apps, o.concurrency, b.dialSubscriber(o.pattern, o.dialTimeout), b.logf)
	defer closeAll(subs)
	pubs, pfailed := ramp(ctx, o.devices, o.concurrency, b.dialDevice, b.logf)
	defer closeAll(pubs)
	if ctx.Err() != nil {
		return nil, errCanceled
	}
	if failed+pfailed > 0 {
		return nil, fmt.Errorf("connect: %d of %d subscribers and %d of %d publishers failed", failed, o.apps, pfailed, o.devices)
	}
	st := &fanState{subs: int32(o.apps), lat: newLatency(64), wake: make(chan struct{}, 1)}
	var wg sync.WaitGroup
	for i, c := range subs {
		wg.Go(func() { st.readSub(i, c) })
	}
	for _, c := range pubs {
		wg.Go(func() { drain(c) })
	}
	defer func() {
		st.stopping.Store(true)
		closeAll(subs)
		closeAll(pubs)
		wg.Wait()
	}()
	time.Sleep(time.Second) // let the gateway settle before the baseline
	idle := b.sample()

	stats, stopAttack := b.startAttack(ctx)
	defer stopAttack()
	time.Sleep(o.settle)

	b.logf("hostile: publishing at %g/s for %s under attack", o.rate, o.duration)
	peak := &peakSampler{b: b}
	peak.start()
	first := time.Now()
	published, _, err := b.publish(ctx, st, pubs)
	if err != nil {
		peak.stop()
		return nil, err
	}
	pubEnd := time.Now()
	expected := published * int64(o.apps)
	for deadline := pubEnd.Add(maxDrain); st.delivered.Load() < expected && time.Now().Before(deadline) && ctx.Err() == nil; {
		if time.Since(time.Unix(0, max(st.lastNanos.Load(), pubEnd.UnixNano()))) > o.drain {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	under := peak.stop()
	st.stopping.Store(true)
	return hostileResult(o, st, published, pubEnd.Sub(first), stats, idle, under), nil
}

// hostileResult is the RESULT line of a hostile run.
func hostileResult(o *options, st *fanState, published int64, took time.Duration, stats *[numAttacks]attackStats, idle, under procPoint) *result {
	expected := published * int64(o.apps)
	r := &result{}
	r.str("scenario", "hostile")
	r.int("subs", int64(o.apps))
	r.int("publishers", int64(o.devices))
	r.int("hostile", int64(o.hostile))
	r.float("rate", o.rate, 0)
	r.float("duration_s", took.Seconds(), 3)
	r.int("published", published)
	r.int("delivered", st.delivered.Load())
	r.int("missing", expected-st.delivered.Load())
	r.int("dropped", st.dropped.Load())
	addLatency(r, "", st.lat.merged())
	for k := range numAttacks {
		r.int(attackNames[k]+"_started", stats[k].started.Load())
		r.int(attackNames[k]+"_failed", stats[k].failed.Load())
		r.int(attackNames[k]+"_cut", stats[k].cut.Load())
	}
	r.int("rss_idle_kib", idle.rssKiB)
	r.int("rss_peak_kib", under.rssKiB)
	r.int("goroutines_idle", idle.goroutines)
	r.int("goroutines_peak", under.goroutines)
	return r
}

// startAttack starts the --hostile attackers, paced like ramp; stop ends
// them and waits.
func (b *bench) startAttack(ctx context.Context) (stats *[numAttacks]attackStats, stop func()) {
	o := b.o
	actx, cancel := context.WithCancel(ctx)
	stats = &[numAttacks]attackStats{}
	var wg sync.WaitGroup
	b.logf("hostile: starting %d hostile connections (slowloris, partial %d-byte messages, pings at %g/s each)", o.hostile, o.partial, o.pingRate)
	for i := range o.hostile {
		wg.Go(func() { b.attack(actx, i, &stats[i%numAttacks]) })
		if i%o.concurrency == o.concurrency-1 {
			time.Sleep(50 * time.Millisecond)
		}
	}
	return stats, func() { cancel(); wg.Wait() }
}

// drain reads c (answering pings) until it ends.
func drain(c *conn) {
	for {
		if _, _, err := c.read(); err != nil {
			return
		}
	}
}

// attack runs hostile connection i until ctx ends: when the gateway cuts
// it (or refuses the dial), it connects again after --trickle, as an
// attacker keeps the pressure on.
func (b *bench) attack(ctx context.Context, i int, s *attackStats) {
	kind := i % numAttacks
	target := b.o.deviceURL
	if (i/numAttacks)%2 == 1 {
		target = b.o.appURL // every other one of a kind on the app port
	}
	for ctx.Err() == nil {
		var err error
		switch kind {
		case attackSlowloris:
			err = b.slowloris(ctx, target, s)
		case attackPartial:
			err = b.upgradedAttack(ctx, i, target, s, b.holdPartial)
		case attackPings:
			err = b.upgradedAttack(ctx, i, target, s, b.floodPings)
		}
		if err != nil && ctx.Err() == nil {
			s.failed.Add(1)
		}
		select {
		case <-ctx.Done():
		case <-time.After(b.o.trickle):
		}
	}
}

// slowloris sends an upgrade request one byte per --trickle and never ends it.
func (b *bench) slowloris(ctx context.Context, target string, s *attackStats) error {
	u, err := url.Parse(target)
	if err != nil {
		return err
	}
	nd := net.Dialer{LocalAddr: b.d.src.pick(), Control: bindNoPort, Timeout: b.o.dialTimeout}
	tc := b.d.tls.Clone()
	if tc.ServerName == "" {
		tc.ServerName = u.Hostname()
	}
	tc.NextProtos = []string{"http/1.1"}
	c, err := tls.DialWithDialer(&nd, "tcp", u.Host, tc)
	if err != nil {
		return fmt.Errorf("slowloris dial: %w", err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	req := "GET " + u.Path + "?device_id=slow HTTP/1.1\r\nHost: " + u.Host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	if _, err := io.WriteString(c, req); err != nil {
		return nil // cut at once
	}
	s.started.Add(1)
	for n := 0; ctx.Err() == nil; n++ {
		if _, err := c.Write([]byte{"X-Slow: 1\r\n"[n%11]}); err != nil {
			if ctx.Err() == nil {
				s.cut.Add(1)
			}
			return nil
		}
		select {
		case <-ctx.Done():
		case <-time.After(b.o.trickle):
		}
	}
	return nil
}

// upgradedAttack dials an upgraded session (app or device) and runs fn on it.
func (b *bench) upgradedAttack(ctx context.Context, i int, target string, s *attackStats, fn func(context.Context, *conn) error) error {
	var c *conn
	var err error
	if target == b.o.deviceURL {
		c, err = b.dialDevice(ctx, 1_000_000+i)
	} else {
		c, err = b.d.dial(ctx, target, http.Header{}, nil)
	}
	if err != nil {
		return err
	}
	defer c.nc.Close()
	stop := context.AfterFunc(ctx, func() { c.nc.Close() })
	defer stop()
	s.started.Add(1)
	ended := make(chan struct{})
	go func() { // the gateway's close; never a pong: one would complete a partial message
		_, _ = io.Copy(io.Discard, c.nc)
		close(ended)
	}()
	if err := fn(ctx, c); err == nil {
		select {
		case <-ended:
		case <-ctx.Done():
		}
	}
	if ctx.Err() == nil {
		s.cut.Add(1)
	}
	c.nc.Close()
	<-ended
	return nil
}

// holdPartial sends a binary frame header for --partial bytes and all but
// the last byte of its payload, then holds it.
func (b *bench) holdPartial(ctx context.Context, c *conn) error {
	n := b.o.partial
	hdr := []byte{0x80 | byte(ws.OpBinary), 0x80 | 127}
	hdr = binary.BigEndian.AppendUint64(hdr, uint64(n))
	hdr = append(hdr, 0, 0, 0, 0) // zero mask: the payload goes as is
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if _, err := c.nc.Write(hdr); err != nil {
		return err
	}
	chunk := make([]byte, 64<<10)
	for sent := 0; sent < n-1 && ctx.Err() == nil; {
		k := min(len(chunk), n-1-sent)
		if _, err := c.nc.Write(chunk[:k]); err != nil {
			return err
		}
		sent += k
	}
	return nil
}

// floodPings sends pings at --ping-rate until the connection ends.
func (b *bench) floodPings(ctx context.Context, c *conn) error {
	tick := time.NewTicker(time.Duration(float64(time.Second) / b.o.pingRate))
	defer tick.Stop()
	p := []byte("hostile")
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			if err := c.write(ws.OpPing, p); err != nil {
				return err
			}
		}
	}
}

// procPoint is one reading of the gateway: RSS and goroutines (-1: unknown).
type procPoint struct{ rssKiB, goroutines int64 }

// sample reads the gateway's RSS (--pid) and goroutines (--ops /metrics).
func (b *bench) sample() procPoint {
	p := procPoint{rssKiB: -1, goroutines: -1}
	if b.o.pid > 0 {
		if s, err := readProc(b.o.pid); err == nil {
			p.rssKiB = s.rssKiB
		}
	}
	if b.o.ops != "" {
		p.goroutines = metricValue("http://"+b.o.ops+"/metrics", "wssgate_goroutines")
	}
	return p
}

// metricValue reads one unlabelled gauge from a Prometheus endpoint, -1 on error.
func metricValue(u, name string) int64 {
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(u)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err == nil {
				return int64(f)
			}
		}
	}
	return -1
}

// peakSampler keeps the highest RSS and goroutine count seen, every 500 ms.
type peakSampler struct {
	b    *bench
	peak procPoint
	done chan struct{}
	wg   sync.WaitGroup
}

func (p *peakSampler) start() {
	p.done = make(chan struct{})
	p.peak = p.b.sample()
	p.wg.Go(func() {
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.done:
				return
			case <-t.C:
				s := p.b.sample()
				p.peak.rssKiB, p.peak.goroutines = max(p.peak.rssKiB, s.rssKiB), max(p.peak.goroutines, s.goroutines)
			}
		}
	})
}

func (p *peakSampler) stop() procPoint {
	close(p.done)
	p.wg.Wait()
	return p.peak
}

// registerHostileFlags adds the hostile scenario's flags.
func registerHostileFlags(fs *flag.FlagSet, o *options) {
	fs.IntVar(&o.hostile, "hostile", 1000, "hostile: attacking connections, a third each slowloris, partial messages, ping floods")
	fs.IntVar(&o.partial, "partial", 1<<20-1, "hostile: bytes of the message a partial attacker announces (it sends all but the last)")
	fs.Float64Var(&o.pingRate, "ping-rate", 20, "hostile: pings per second of each ping-flood connection")
	fs.DurationVar(&o.trickle, "trickle", time.Second, "hostile: a slowloris connection sends one request byte per this long")
	fs.DurationVar(&o.settle, "settle", 5*time.Second, "hostile: wait this long after starting the attack before publishing")
	fs.StringVar(&o.ops, "ops", "", "hostile: the gateway's ops host:port, to read wssgate_goroutines from /metrics")
}

// validateHostile checks the hostile flags and defaults --rate.
func (o *options) validateHostile() error {
	if o.scenario != "hostile" {
		return nil
	}
	if o.rate == 0 {
		o.rate = 50
	}
	if o.hostile < 0 || o.partial < 2 || o.pingRate <= 0 || o.trickle <= 0 || o.settle < 0 {
		return fmt.Errorf("%w: --hostile ≥ 0, --partial ≥ 2, --ping-rate and --trickle > 0", errUsage)
	}
	if o.ops != "" && !o.allowRemote {
		host, _, err := net.SplitHostPort(o.ops)
		if err != nil {
			return fmt.Errorf("%w: --ops: want host:port, got %q", errUsage, o.ops)
		}
		return checkLoopback(host)
	}
	return nil
}
