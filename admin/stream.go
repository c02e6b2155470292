package admin

import (
	"context"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	adminv1 "github.com/wssgate/wssgate/gen/wssgate/admin/v1"
)

// buffer is the bounded FIFO between a backend callback (one producer) and one gRPC stream
// (one consumer). push never blocks: when the buffer is full it marks the stream as
// overflowed and drops the value, and the stream then ends with RESOURCE_EXHAUSTED.
type buffer[T any] struct {
	ch   chan T
	full chan struct{} // closed on the first overflow
	once sync.Once
}

func newBuffer[T any](n int) *buffer[T] {
	return &buffer[T]{ch: make(chan T, n), full: make(chan struct{})}
}

// push queues v or marks the overflow. It is safe to call after the stream ended.
func (b *buffer[T]) push(v T) {
	select {
	case b.ch <- v:
	default:
		b.once.Do(func() { close(b.full) })
	}
}

// pump sends the buffered values until the client goes away, the server stops or the
// buffer overflows. An overflow is reported as soon as the sender is free, before any
// further value, so the client knows values were lost.
func pump[T any](ctx context.Context, stopping <-chan struct{}, b *buffer[T], send func(T) error, what string) error {
	for {
		select {
		case <-b.full:
			return status.Errorf(codes.ResourceExhausted,
				"admin: %s: client too slow: more than %d %s waiting, some were dropped; ending the stream", what, cap(b.ch), what)
		default:
		}
		select {
		case v := <-b.ch:
			if err := send(v); err != nil {
				return err
			}
		case <-b.full:
		case <-ctx.Done():
			return status.FromContextError(ctx.Err()).Err()
		case <-stopping:
			return status.Error(codes.Unavailable, "admin: server stopping")
		}
	}
}

func (v *service) Subscribe(req *adminv1.SubscribeRequest, stream grpc.ServerStreamingServer[adminv1.SubscribeResponse]) error {
	if v.s.b.Messages == nil {
		return toStatus(unimplemented("messages"))
	}
	if req.GetPattern() == "" {
		return toStatus(invalidf("pattern is empty"))
	}
	ctx := stream.Context()
	buf := newBuffer[Message](v.s.cfg.StreamBuffer)
	stop, err := v.s.b.Messages.Subscribe(ctx, req.GetPattern(), func(m Message) {
		if m.Time.IsZero() {
			m.Time = v.s.now()
		}
		buf.push(m)
	})
	if err != nil {
		return toStatus(err)
	}
	defer stop()
	if err := stream.SendHeader(nil); err != nil { // the subscription is in place
		return err
	}
	return pump(ctx, v.s.stopping, buf, func(m Message) error {
		return stream.Send(messageToProto(m))
	}, "messages")
}

func (v *service) WatchSessions(req *adminv1.WatchSessionsRequest, stream grpc.ServerStreamingServer[adminv1.WatchSessionsResponse]) error {
	if v.s.b.Sessions == nil {
		return toStatus(unimplemented("sessions"))
	}
	ctx := stream.Context()
	f := SessionFilter{Listener: req.GetListener(), Role: roleFromProto(req.GetRole())}
	buf := newBuffer[SessionEvent](v.s.cfg.StreamBuffer)
	stop, err := v.s.b.Sessions.WatchSessions(ctx, func(e SessionEvent) {
		if !f.Match(e.Session) {
			return
		}
		if e.Time.IsZero() {
			e.Time = v.s.now()
		}
		buf.push(e)
	})
	if err != nil {
		return toStatus(err)
	}
	defer stop()
	if err := stream.SendHeader(nil); err != nil { // the watch is in place
		return err
	}
	return pump(ctx, v.s.stopping, buf, func(e SessionEvent) error {
		return stream.Send(eventToProto(e))
	}, "events")
}
