package main

import (
	"sync"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Latencies are recorded in microseconds, from 1 µs to 120 s, with 3
// significant digits.
const (
	histMinUS  = 1
	histMaxUS  = 120_000_000
	histDigits = 3
)

// latency is a histogram of microsecond latencies that many goroutines record
// into: it is sharded, each shard behind its own mutex, so that recorders with
// different indexes rarely contend.
type latency struct {
	shards []latencyShard
}

type latencyShard struct {
	mu sync.Mutex // guards h
	h  *hdrhistogram.Histogram
	_  [48]byte // keep shards on separate cache lines
}

// newLatency makes a histogram with n shards (at least 1).
func newLatency(n int) *latency {
	n = max(n, 1)
	l := &latency{shards: make([]latencyShard, n)}
	for i := range l.shards {
		l.shards[i].h = hdrhistogram.New(histMinUS, histMaxUS, histDigits)
	}
	return l
}

// record adds one latency of us microseconds, clamped to the histogram's range,
// into the shard chosen by i.
func (l *latency) record(i int, us int64) {
	us = min(max(us, histMinUS), histMaxUS)
	s := &l.shards[uint(i)%uint(len(l.shards))]
	s.mu.Lock()
	_ = s.h.RecordValue(us)
	s.mu.Unlock()
}

// merged returns one histogram holding every shard's values.
func (l *latency) merged() *hdrhistogram.Histogram {
	h := hdrhistogram.New(histMinUS, histMaxUS, histDigits)
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		h.Merge(s.h)
		s.mu.Unlock()
	}
	return h
}

// addLatency adds samples and the p50/p99/p999/max quantiles of h to r, each key
// prefixed with prefix ("" or e.g. "connect_").
func addLatency(r *result, prefix string, h *hdrhistogram.Histogram) {
	r.int(prefix+"samples", h.TotalCount())
	r.int(prefix+"p50_us", h.ValueAtQuantile(50))
	r.int(prefix+"p99_us", h.ValueAtQuantile(99))
	r.int(prefix+"p999_us", h.ValueAtQuantile(99.9))
	r.int(prefix+"max_us", h.Max())
}
