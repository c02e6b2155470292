package session

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/wssgate/wssgate/gateway/limit"
	"github.com/wssgate/wssgate/gateway/wire"
)

// echoHandler sends every message back.
type echoHandler struct{}

func (echoHandler) OnMessage(s *Session, op ws.OpCode, data []byte) { s.Send(wire.Frame(op, data)) }
func (echoHandler) OnClose(*Session)                                {}

// serve runs a session with h over a loopback pair sharing totals.
func serve(t *testing.T, limits *Limits, h Handler, totals *Totals) (*Session, net.Conn, <-chan struct{}) {
	t.Helper()
	server, client := pair(t)
	s := New(server, &Info{Role: RoleDevice, Listener: "device"}, limits, h, totals, slog.New(slog.DiscardHandler))
	done := make(chan struct{})
	go func() { s.Run(); close(done) }()
	return s, client, done
}

// writeRaw writes one masked client frame.
func writeRaw(t *testing.T, c net.Conn, f ws.Frame) {
	t.Helper()
	_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if err := ws.WriteFrame(c, ws.MaskFrameInPlace(f)); err != nil {
		t.Fatalf("write frame: %v", err)
	}
}

// closeOf reads frames until the server's close and returns its code.
func closeOf(t *testing.T, c net.Conn) (ws.StatusCode, string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for range 10000 {
		f, err := ws.ReadFrame(c)
		if err != nil {
			t.Fatalf("read until close: %v", err)
		}
		if f.Header.OpCode == ws.OpClose {
			return ws.ParseCloseFrameData(f.Payload)
		}
	}
	t.Fatal("no close frame")
	return 0, ""
}

func waitDone(t *testing.T, done <-chan struct{}) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("session did not end within 5 s")
	}
}

// A partial message that outgrows the shared budget closes its session
// with 1013 and gives the budget back; another session keeps serving.
func TestBudgetClosesPartialMessageOthersServed(t *testing.T) {
	budget := limit.NewBudget(256 << 10)
	limits := benchLimits
	limits.Budget = budget
	totals := &Totals{}
	_, hog, hogDone := serve(t, &limits, echoHandler{}, totals)
	_, good, _ := serve(t, &limits, echoHandler{}, totals)

	// Declares 1 MiB, sends 512 KiB of it: the reader's chunks pass 256 KiB.
	hdr := ws.Header{Fin: true, OpCode: ws.OpBinary, Length: 1 << 20, Masked: true, Mask: ws.NewMask()}
	_ = hog.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if err := ws.WriteHeader(hog, hdr); err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = hog.Write(make([]byte, 512<<10)) }() // the server stops reading at the limit
	if code, reason := closeOf(t, hog); code != CodeTryAgainLater || reason != "memory budget exceeded" {
		t.Fatalf("got close %d %q, want 1013 memory budget exceeded", code, reason)
	}
	hog.Close()
	waitDone(t, hogDone)
	if n := totals.Closes.Get(CodeTryAgainLater); n != 1 {
		t.Errorf("closes counted for 1013: got %d, want 1", n)
	}
	if u := budget.InUse(); u != 0 {
		t.Errorf("budget in use after the session ended: got %d, want 0", u)
	}
	// The other session still reads and writes within the budget.
	_ = good.SetDeadline(time.Now().Add(5 * time.Second))
	msg := bytes.Repeat([]byte("g"), 100<<10)
	if err := wsutil.WriteClientBinary(good, msg); err != nil {
		t.Fatal(err)
	}
	got, _, err := wsutil.ReadServerData(good)
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("good session: got %d bytes, %v; want its 100 KiB echoed", len(got), err)
	}
}

// A peer over max_messages_per_s is closed with 1008 "rate limit".
func TestSessionRateLimit(t *testing.T) {
	limits := benchLimits
	limits.MsgsPerSec = 5
	totals := &Totals{}
	_, c, done := serve(t, &limits, nopHandler{}, totals)
	for range 20 {
		writeRaw(t, c, ws.NewTextFrame([]byte("x")))
	}
	if code, reason := closeOf(t, c); code != ws.StatusPolicyViolation || reason != "rate limit" {
		t.Fatalf("got close %d %q, want 1008 rate limit", code, reason)
	}
	c.Close()
	waitDone(t, done)
	if n := totals.Closes.Get(ws.StatusPolicyViolation); n != 1 {
		t.Errorf("closes counted for 1008: got %d, want 1", n)
	}
}

// After a close the reader started, the session reads the peer's frames
// and closes TCP as soon as the peer's close frame has arrived, wherever
// the failed frame left the stream.
func TestPromptCloseAfterProtocolError(t *testing.T) {
	limits := benchLimits
	limits.MaxMessage = 1024
	tests := []struct {
		name  string
		frame ws.Frame
		want  ws.StatusCode
	}{
		{"reserved bits, payload unread", ws.Frame{Header: ws.Header{Fin: true, Rsv: 4, OpCode: ws.OpText, Length: 5}, Payload: []byte("hello")}, ws.StatusProtocolError},
		{"too big, payload unread", ws.NewBinaryFrame(make([]byte, 2048)), ws.StatusMessageTooBig},
		{"invalid UTF-8", ws.NewTextFrame([]byte{0xff, 'a', 'b'}), ws.StatusInvalidFramePayloadData},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			totals := &Totals{}
			_, c, done := serve(t, &limits, nopHandler{}, totals)
			writeRaw(t, c, tt.frame)
			if code, _ := closeOf(t, c); code != tt.want {
				t.Fatalf("got close %d, want %d", code, tt.want)
			}
			writeRaw(t, c, ws.NewCloseFrame(ws.NewCloseFrameBody(tt.want, "")))
			sent := time.Now()
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := c.Read(make([]byte, 16)); !errors.Is(err, io.EOF) {
				t.Fatalf("after our close reply: got %v, want EOF (a clean FIN, not a reset)", err)
			}
			if d := time.Since(sent); d > 500*time.Millisecond {
				t.Errorf("TCP closed %s after the peer's close, want at once (the 2 s bound is for silent peers)", d)
			}
			waitDone(t, done)
			if n := totals.Closes.Get(tt.want); n != 1 {
				t.Errorf("closes counted for %d: got %d, want 1", tt.want, n)
			}
		})
	}
}

// The peer's own close is echoed, not counted as one the gateway started.
func TestEchoedCloseNotCounted(t *testing.T) {
	totals := &Totals{}
	_, c, done := serve(t, &benchLimits, nopHandler{}, totals)
	writeRaw(t, c, ws.NewCloseFrame(ws.NewCloseFrameBody(4000, "bye")))
	if code, _ := closeOf(t, c); code != 4000 {
		t.Fatalf("got close %d, want 4000 echoed", code)
	}
	c.Close()
	waitDone(t, done)
	if m := totals.Closes.ByCode(); len(m) != 0 {
		t.Errorf("closes counted: %v, want none", m)
	}
}

// An outbound queue that the budget cannot hold closes its session with
// 1013; the budget is whole again once the session has ended.
func TestBudgetClosesQueue(t *testing.T) {
	budget := limit.NewBudget(64 << 10)
	limits := benchLimits
	limits.Budget = budget
	totals := &Totals{}
	s, c, done := serve(t, &limits, nopHandler{}, totals)
	frame := wire.Frame(ws.OpBinary, make([]byte, 16<<10))
	refused := false
	for range 4096 { // the peer never reads: socket buffers fill, then the queue
		if !s.Send(frame) {
			refused = true
			break
		}
	}
	if !refused {
		t.Fatal("every Send succeeded beyond the budget")
	}
	if code, reason := s.CloseStatus(); code != CodeTryAgainLater || reason != "memory budget exceeded" {
		t.Fatalf("got close %d %q, want 1013 memory budget exceeded", code, reason)
	}
	c.Close()
	waitDone(t, done)
	if u := budget.InUse(); u != 0 {
		t.Errorf("budget in use after the session ended: got %d, want 0", u)
	}
	if s.Snapshot().Drops == 0 {
		t.Error("no drops counted for the dropped queue")
	}
}

// With the budget used up by others, a session that holds little (a few
// frames queued, small messages) keeps working: the first FreeBytes of
// its queue and of a partial message are outside the budget.
func TestSmallSessionsOutsideAnExhaustedBudget(t *testing.T) {
	budget := limit.NewBudget(1 << 20)
	if !budget.TryAcquire(1 << 20) { // attackers hold it all
		t.Fatal("could not fill the budget")
	}
	limits := benchLimits
	limits.Budget = budget
	s, c, done := serve(t, &limits, echoHandler{}, &Totals{})
	in := frames(c)
	for i := range 20 {
		msg := bytes.Repeat([]byte{byte('a' + i)}, 1000)
		if err := wsutil.WriteClientBinary(c, msg); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		if f := next(t, in, nil); !bytes.Equal(f.Payload, msg) {
			t.Fatalf("echo %d: got %d bytes, want %d", i, len(f.Payload), len(msg))
		}
	}
	if code, reason := s.CloseStatus(); code != 0 {
		t.Fatalf("session closed with %d %q although it held less than FreeBytes", code, reason)
	}
	// A message larger than FreeBytes needs the budget: closed with 1013.
	if err := wsutil.WriteClientBinary(c, make([]byte, 2*FreeBytes)); err != nil {
		t.Fatal(err)
	}
	waitDone(t, done)
	if code, _ := s.CloseStatus(); code != CodeTryAgainLater {
		t.Fatalf("a %d-byte message with the budget exhausted: close %d, want 1013", 2*FreeBytes, code)
	}
	if u := budget.InUse(); u != 1<<20 {
		t.Errorf("budget in use: got %d, want only the others' %d", u, 1<<20)
	}
}
