package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// bench holds what every scenario needs: the options and the dialer.
type bench struct {
	o *options
	d *dialer
}

func newBench(o *options) (*bench, error) {
	tc, err := o.tlsConfig()
	if err != nil {
		return nil, err
	}
	addrs, err := parseAddrList(o.localIPs)
	if err != nil {
		return nil, fmt.Errorf("%w: --local-ips: %w", errUsage, err)
	}
	return &bench{o: o, d: &dialer{tls: tc, src: newSourcePool(addrs), timeout: o.dialTimeout}}, nil
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.o.progress, "wssgate-bench: "+format+"\n", args...)
}

// dialDevice connects device i with its credentials: --cert/--key, --token,
// else ?device_id= (development mode).
func (b *bench) dialDevice(ctx context.Context, i int) (*conn, error) {
	var (
		header http.Header
		tc     *tls.Config
	)
	raw := b.o.deviceURL
	switch {
	case b.o.cert != "":
		cert, err := b.o.clientCert(i)
		if err != nil {
			return nil, err
		}
		tc = b.d.tls.Clone()
		tc.Certificates = []tls.Certificate{*cert}
	case b.o.token != "":
		header = http.Header{"Authorization": {"Bearer " + expand(b.o.token, i)}}
	default:
		u, err := url.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("parse device URL: %w", err)
		}
		q := u.Query()
		q.Set("device_id", expand(b.o.deviceID, i))
		u.RawQuery = q.Encode()
		raw = u.String()
	}
	return b.d.dial(ctx, raw, header, tc)
}

// dialApp connects an app client to /ws (of the first --app-url).
func (b *bench) dialApp(ctx context.Context) (*conn, error) {
	return b.d.dial(ctx, b.o.appURLs[0], nil, nil)
}

// dialAppN connects app client i to /ws of the i-th --app-url, round robin.
func (b *bench) dialAppN(ctx context.Context, i int) (*conn, error) {
	return b.d.dial(ctx, b.o.appURLs[i%len(b.o.appURLs)], nil, nil)
}

// subscribe sends a subscribe request for pattern and waits for its ack.
func (c *conn) subscribe(pattern string, timeout time.Duration) error {
	req := `{"type":"subscribe","id":1,"channel":` + strconv.Quote(pattern) + `}`
	if err := c.write(opText, []byte(req)); err != nil {
		return fmt.Errorf("send subscribe: %w", err)
	}
	_ = c.nc.SetReadDeadline(time.Now().Add(timeout))
	defer c.nc.SetReadDeadline(time.Time{})
	for {
		_, p, err := c.read()
		if err != nil {
			return fmt.Errorf("wait for subscribe ack: %w", err)
		}
		if env, ok := envelopeType(p); ok {
			switch env {
			case "ack":
				return nil
			case "error":
				return fmt.Errorf("subscribe %s: %s", pattern, p)
			}
		}
	}
}

// ramp opens n connections with at most k dials in flight, stopping at the first
// canceled context. open(i) makes connection i. It returns the connections
// opened (nil where the dial failed) and the number of failures.
func ramp(ctx context.Context, n, k int, open func(ctx context.Context, i int) (*conn, error), logf func(string, ...any)) ([]*conn, int64) {
	conns := make([]*conn, n)
	var (
		next, failed atomic.Int64
		wg           sync.WaitGroup
		firstErr     sync.Once
	)
	for range min(k, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				c, err := open(ctx, i)
				if err != nil {
					failed.Add(1)
					firstErr.Do(func() { logf("connect error (first of possibly many): %v", err) })
					continue
				}
				conns[i] = c
			}
		})
	}
	wg.Wait()
	return conns, failed.Load()
}

// closeAll closes every open connection's socket without a close handshake.
func closeAll(conns []*conn) {
	for _, c := range conns {
		if c != nil {
			_ = c.nc.Close()
		}
	}
}

// dialSubscriber returns a dial function for ramp: an app client
// subscribed to pattern.
func (b *bench) dialSubscriber(pattern string, timeout time.Duration) func(context.Context, int) (*conn, error) {
	if b.o.socketIO {
		return b.dialSocketIO(pattern, timeout)
	}
	return func(ctx context.Context, i int) (*conn, error) {
		c, err := b.dialAppN(ctx, i)
		if err != nil {
			return nil, err
		}
		if err := c.subscribe(pattern, timeout); err != nil {
			_ = c.nc.Close()
			return nil, err
		}
		return c, nil
	}
}

// holder reads held connections (answering pings, discarding frames) until
// release, counting those that end before it: sessions the gateway dropped.
type holder struct {
	conns    []*conn
	dropped  atomic.Int64
	stopping atomic.Bool
	wg       sync.WaitGroup
}

func hold(conns []*conn) *holder {
	h := &holder{conns: conns}
	for _, c := range conns {
		if c == nil {
			continue
		}
		h.wg.Go(func() {
			for {
				if _, _, err := c.read(); err != nil {
					if !h.stopping.Load() {
						h.dropped.Add(1)
					}
					return
				}
			}
		})
	}
	return h
}

// release closes the connections and waits for their readers.
func (h *holder) release() {
	h.stopping.Store(true)
	closeAll(h.conns)
	h.wg.Wait()
}

// errCanceled reports a run stopped by --max-run or a signal.
var errCanceled = errors.New("wssgate-bench: run stopped by --max-run or a signal")
