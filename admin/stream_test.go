package admin_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/wssgate/wssgate/admin"
	adminv1 "github.com/wssgate/wssgate/gen/wssgate/admin/v1"
)

func TestSubscribe(t *testing.T) {
	e := startEnv(t, admin.Config{})
	c := e.client(t)
	ctx, cancel := context.WithCancel(testCtx(t))
	st, err := c.Subscribe(ctx, &adminv1.SubscribeRequest{Pattern: "devices/+/up"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Header(); err != nil { // the subscription is in place
		t.Fatal(err)
	}
	msgs := []admin.Message{
		{Channel: "devices/1/up", Data: []byte(`{"t":21.5}`)},
		{Channel: "devices/2/down", Data: []byte("not matching")},
		{Channel: "devices/2/up", Binary: true, Data: []byte{0, 1, 2}},
	}
	for _, m := range msgs {
		if _, err := e.hub.Publish(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	first, err := st.Recv()
	if err != nil {
		t.Fatal(err)
	}
	second, err := st.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if first.GetChannel() != "devices/1/up" || first.GetText() != `{"t":21.5}` || first.GetTime() == nil {
		t.Errorf("got first %v, want devices/1/up text with a time", first)
	}
	if second.GetChannel() != "devices/2/up" || !bytes.Equal(second.GetBinary(), []byte{0, 1, 2}) {
		t.Errorf("got second %v, want devices/2/up binary 000102", second)
	}

	cancel() // the client goes away: the backend subscription ends
	waitFor(t, "hub subscription removed", func() bool { return e.hub.SubCount() == 0 })

	bad, err := c.Subscribe(testCtx(t), &adminv1.SubscribeRequest{Pattern: "a/#/b"})
	if err == nil { // a server stream reports its status on Recv
		_, err = bad.Recv()
	}
	wantCode(t, err, codes.InvalidArgument)
}

func TestWatchSessions(t *testing.T) {
	e := startEnv(t, admin.Config{})
	c := e.client(t)
	st, err := c.WatchSessions(testCtx(t), &adminv1.WatchSessionsRequest{Listener: "devices"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Header(); err != nil {
		t.Fatal(err)
	}
	e.sessions.Connect(session("a1", "app", admin.RoleApp, "", 1)) // filtered out
	e.sessions.Connect(session("d1", "devices", admin.RoleDevice, "dev1", 1))
	if err := e.sessions.CloseSession(testCtx(t), "d1", 4000, "bye"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		typ  adminv1.SessionEventType
		code uint32
	}{
		{"connect", adminv1.SessionEventType_SESSION_EVENT_TYPE_CONNECTED, 0},
		{"disconnect", adminv1.SessionEventType_SESSION_EVENT_TYPE_DISCONNECTED, 4000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := st.Recv()
			if err != nil {
				t.Fatal(err)
			}
			if ev.GetType() != tt.typ || ev.GetSession().GetId() != "d1" || ev.GetCloseCode() != tt.code {
				t.Errorf("got %v, want %v of d1 with code %d", ev, tt.typ, tt.code)
			}
		})
	}
}

// A client that does not read must not block the producer; its stream ends with
// RESOURCE_EXHAUSTED once it reads again.
func TestSlowSubscriber(t *testing.T) {
	e := startEnv(t, admin.Config{StreamBuffer: 4})
	// A fixed 64 KiB window (no BDP growth) so that the server's sends block quickly.
	cc := dial(t, e.addr, grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithInitialWindowSize(64<<10))
	c := adminv1.NewAdminServiceClient(cc)
	st, err := c.Subscribe(testCtx(t), &adminv1.SubscribeRequest{Pattern: "#"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Header(); err != nil {
		t.Fatal(err)
	}
	payload := bytes.Repeat([]byte("x"), 16<<10)
	for range 200 { // returns promptly: the producer never waits for the stream
		if _, err := e.hub.Publish(t.Context(), admin.Message{Channel: "devices/1/up", Data: payload}); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	for ; n < 200; n++ {
		if _, err = st.Recv(); err != nil {
			break
		}
	}
	wantCode(t, err, codes.ResourceExhausted)
	if !strings.Contains(status.Convert(err).Message(), "client too slow") {
		t.Errorf("got message %q, want it to say the client is too slow", status.Convert(err).Message())
	}
	if n >= 200 {
		t.Errorf("got all %d messages, want the stream ended early", n)
	}
}

func TestStopEndsStreams(t *testing.T) {
	e := startEnv(t, admin.Config{})
	c := e.client(t)
	st, err := c.WatchSessions(testCtx(t), &adminv1.WatchSessionsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Header(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		e.srv.Stop(5 * time.Second)
		close(done)
	}()
	_, err = st.Recv()
	wantCode(t, err, codes.Unavailable)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Stop did not return")
	}
	if n := e.sessions.WatcherCount(); n != 0 {
		t.Errorf("got %d watchers after stop, want 0", n)
	}
}

// waitFor polls cond for at most 5 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 500 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}
