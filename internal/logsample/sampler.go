package logsample

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of Options.
const (
	DefaultPerWindow = 5
	DefaultWindow    = time.Second
	DefaultMaxKeys   = 1024
)

// OtherKey is the key shared by keys beyond MaxKeys in one window.
const OtherKey = "(other)"

// SummaryMessage is the message of summary lines.
const SummaryMessage = "suppressed similar log lines"

// Options configure a Sampler. Zero values take the defaults.
type Options struct {
	// PerWindow lines per key pass in each window. Default 5.
	PerWindow int
	// Window is the sampling period; summaries are written at its end.
	// Default 1s.
	Window time.Duration
	// MaxKeys bounds the keys tracked in one window. Default 1024.
	MaxKeys int
}

func (o *Options) applyDefaults() {
	if o.PerWindow <= 0 {
		o.PerWindow = DefaultPerWindow
	}
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.MaxKeys <= 0 {
		o.MaxKeys = DefaultMaxKeys
	}
}

// keyState counts one key's lines in the current window.
type keyState struct {
	passed, suppressed int
	level              slog.Level // highest level suppressed
}

// summary is one line to write at the end of a window.
type summary struct {
	key   string
	count int
	level slog.Level
}

// Sampler decides per key which lines pass and writes the summaries to out.
type Sampler struct {
	opts Options
	out  slog.Handler

	mu      sync.Mutex // guards keys and pending
	keys    map[string]keyState
	pending []summary // reused between flushes

	flushMu    sync.Mutex // serialises flushes so summaries stay in order
	suppressed atomic.Uint64
	closeOnce  sync.Once
	stop       chan struct{}
	done       chan struct{}
}

// New returns a Sampler writing summaries to out and starts its ticker;
// call Close to stop it.
func New(out slog.Handler, opts Options) *Sampler {
	opts.applyDefaults()
	s := &Sampler{
		opts: opts,
		out:  out,
		keys: make(map[string]keyState),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	go s.run()
	return s
}

func (s *Sampler) run() {
	defer close(s.done)
	t := time.NewTicker(s.opts.Window)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.flush()
		}
	}
}

// Close stops the ticker, writes the summaries of the current window and
// returns once the ticker goroutine has ended. Later calls do nothing;
// Allow keeps working after Close, but no more summaries are written.
func (s *Sampler) Close() {
	s.closeOnce.Do(func() {
		close(s.stop)
		<-s.done
		s.flush()
	})
}

// Allow reports whether a line of key may be written now; a false is
// counted in the key's next summary (at level Info).
func (s *Sampler) Allow(key string) bool { return s.allow(key, slog.LevelInfo) }

func (s *Sampler) allow(key string, level slog.Level) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.keys[key]
	if !ok && len(s.keys) >= s.opts.MaxKeys {
		key = OtherKey
		st = s.keys[key]
	}
	if st.passed < s.opts.PerWindow {
		st.passed++
		s.keys[key] = st
		return true
	}
	if st.suppressed == 0 || level > st.level {
		st.level = level
	}
	st.suppressed++
	s.keys[key] = st
	s.suppressed.Add(1)
	return false
}

// Suppressed returns how many lines have been suppressed so far.
func (s *Sampler) Suppressed() uint64 { return s.suppressed.Load() }

// flush ends the window: it writes one summary per key with suppressed
// lines and forgets every key.
func (s *Sampler) flush() {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	s.mu.Lock()
	s.pending = s.pending[:0]
	for k, st := range s.keys {
		if st.suppressed > 0 {
			s.pending = append(s.pending, summary{key: k, count: st.suppressed, level: st.level})
		}
	}
	clear(s.keys)
	pending := s.pending
	s.mu.Unlock()
	// Written outside mu: out may block on I/O while Allow goes on. pending
	// is only reused by the next flush, which flushMu holds off.
	ctx := context.Background()
	for _, p := range pending {
		if !s.out.Enabled(ctx, p.level) {
			continue
		}
		r := slog.NewRecord(time.Now(), p.level, SummaryMessage, 0)
		r.AddAttrs(slog.String("key", p.key), slog.Int("count", p.count), slog.Duration("window", s.opts.Window))
		_ = s.out.Handle(ctx, r)
	}
}
