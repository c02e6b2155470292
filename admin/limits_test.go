package admin_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/wssgate/wssgate/admin"
	adminv1 "github.com/wssgate/wssgate/gen/wssgate/admin/v1"
)

func publishBinary(ctx context.Context, c adminv1.AdminServiceClient, n int) error {
	_, err := c.Publish(ctx, &adminv1.PublishRequest{Channel: "devices/1/down", Payload: &adminv1.PublishRequest_Binary{Binary: bytes.Repeat([]byte{7}, n)}})
	return err
}

// TestMaxMessage: MaxMessage bounds a received message; within it a large Publish reaches
// the hub whole, above it the call fails with RESOURCE_EXHAUSTED naming both sizes.
func TestMaxMessage(t *testing.T) {
	tests := []struct {
		name string
		max  int // Config.MaxMessage
		size int // payload bytes
		want codes.Code
	}{
		{"16 MiB within 32 MiB", 32 << 20, 16 << 20, codes.OK},
		{"default 4 MiB holds 4,000,000 bytes", 0, 4_000_000, codes.OK},
		{"default refuses 5 MiB", 0, 5 << 20, codes.ResourceExhausted},
		{"2 MiB above 1 MiB", 1 << 20, 2 << 20, codes.ResourceExhausted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := startEnv(t, admin.Config{MaxMessage: tt.max})
			err := publishBinary(testCtx(t), e.client(t), tt.size)
			wantCode(t, err, tt.want)
			if tt.want == codes.ResourceExhausted {
				if msg := status.Convert(err).Message(); !strings.Contains(msg, "larger than max") {
					t.Errorf("message %q does not say the message is larger than the maximum", msg)
				}
				return
			}
			pub := e.hub.Published()
			if len(pub) != 1 || len(pub[0].Data) != tt.size {
				t.Fatalf("hub got %d messages (first %d bytes), want one of %d bytes", len(pub), lenFirst(pub), tt.size)
			}
		})
	}
}

func lenFirst(m []admin.Message) int {
	if len(m) == 0 {
		return 0
	}
	return len(m[0].Data)
}

// TestMaxConcurrentStreams: a connection holds at most MaxConcurrentStreams calls; the
// next waits until one ends.
func TestMaxConcurrentStreams(t *testing.T) {
	e := startEnv(t, admin.Config{MaxConcurrentStreams: 2})
	c := e.client(t)
	ctx1, cancel1 := context.WithCancel(testCtx(t))
	defer cancel1()
	ctx2, cancel2 := context.WithCancel(testCtx(t))
	defer cancel2()
	for _, ctx := range []context.Context{ctx1, ctx2} {
		if _, err := c.WatchSessions(ctx, &adminv1.WatchSessionsRequest{}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "two watches", func() bool { return e.sessions.WatcherCount() == 2 })

	short, cancelShort := context.WithTimeout(testCtx(t), 300*time.Millisecond)
	defer cancelShort()
	wantCode(t, listCall(short, c), codes.DeadlineExceeded) // a third call waits for a slot

	cancel2()
	waitFor(t, "one watch left", func() bool { return e.sessions.WatcherCount() == 1 })
	wantCode(t, listCall(testCtx(t), c), codes.OK)
}
