package logsample

import (
	"context"
	"log/slog"
)

// Handler is an slog.Handler that samples the records carrying the
// attribute KeyAttr (in the record or added by WithAttrs), keyed by its
// value, and passes every other record to the next handler. Summaries go
// to the next handler as given to NewHandler (without attributes added
// later by WithAttrs).
type Handler struct {
	next    slog.Handler
	keyAttr string
	preKey  string // value of keyAttr added by WithAttrs, if any
	hasKey  bool
	s       *Sampler
}

var _ slog.Handler = (*Handler)(nil)

// NewHandler wraps next, sampling records by the value of their attribute
// keyAttr (e.g. "reason"), and starts the sampler's ticker: call Close.
func NewHandler(next slog.Handler, keyAttr string, opts Options) *Handler {
	return &Handler{next: next, keyAttr: keyAttr, s: New(next, opts)}
}

// Close stops the sampler (see Sampler.Close). Handlers derived with
// WithAttrs or WithGroup share it: close the one NewHandler returned.
func (h *Handler) Close() { h.s.Close() }

// Sampler returns the sampler behind h, e.g. to read Suppressed.
func (h *Handler) Sampler() *Sampler { return h.s }

// Enabled reports whether the next handler handles level.
func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle passes r on unless it carries the key attribute and its key is
// over its budget for this window.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	key, ok := h.preKey, h.hasKey
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == h.keyAttr {
			key, ok = a.Value.String(), true
			return false
		}
		return true
	})
	if ok && !h.s.allow(key, r.Level) {
		return nil
	}
	return h.next.Handle(ctx, r)
}

// WithAttrs returns a handler adding attrs, sharing h's sampler.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.next = h.next.WithAttrs(attrs)
	for _, a := range attrs {
		if a.Key == h.keyAttr {
			c.preKey, c.hasKey = a.Value.String(), true
		}
	}
	return &c
}

// WithGroup returns a handler opening group name, sharing h's sampler.
func (h *Handler) WithGroup(name string) slog.Handler {
	c := *h
	c.next = h.next.WithGroup(name)
	return &c
}
