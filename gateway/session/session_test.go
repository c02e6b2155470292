package session

import (
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/wssgate/wssgate/gateway/wire"
)

// pair returns the two ends of a loopback TCP connection.
func pair(t *testing.T) (server, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return server, client
}

// frames reads server frames on c until it fails; each is sent on the
// returned channel, which is closed at the end.
func frames(c net.Conn) <-chan ws.Frame {
	out := make(chan ws.Frame, 64)
	go func() {
		defer close(out)
		for {
			f, err := ws.ReadFrame(c)
			if err != nil {
				return
			}
			out <- f
		}
	}()
	return out
}

// next returns the next frame that is not a ping, failing after 5 s; it
// counts the pings it skipped.
func next(t *testing.T, in <-chan ws.Frame, pings *int) ws.Frame {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case f, ok := <-in:
			if !ok {
				t.Fatal("connection ended before the expected frame")
			}
			if f.Header.OpCode == ws.OpPing {
				*pings++
				continue
			}
			return f
		case <-deadline:
			t.Fatal("no frame within 5s")
		}
	}
}

func (s *Session) writerState() (writing, parked bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writing, s.parked
}

// waitWriter polls (every 5 ms, up to 5 s) until the writer is in the
// wanted state.
func waitWriter(t *testing.T, s *Session, writing, parked bool) {
	t.Helper()
	for range 1000 {
		w, p := s.writerState()
		if w == writing && p == parked {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	w, p := s.writerState()
	t.Fatalf("writer: writing=%v parked=%v, want writing=%v parked=%v", w, p, writing, parked)
}

// running serves a session over a loopback pair; it returns the session,
// the client's end, the frames the client reads and a channel closed when
// Run has returned.
func running(t *testing.T, limits *Limits, role Role) (*Session, net.Conn, <-chan ws.Frame, <-chan struct{}) {
	t.Helper()
	server, client := pair(t)
	s := New(server, &Info{Role: role}, limits, nopHandler{}, &Totals{}, slog.New(slog.DiscardHandler))
	done := make(chan struct{})
	go func() { s.Run(); close(done) }()
	return s, client, frames(client), done
}

// echo sends a text frame and checks that the client reads it next.
func echo(t *testing.T, s *Session, in <-chan ws.Frame, pings *int, text string) {
	t.Helper()
	s.Send(wire.Frame(ws.OpText, []byte(text)))
	if f := next(t, in, pings); string(f.Payload) != text {
		t.Fatalf("got %q, want %q", f.Payload, text)
	}
}

func TestWriterParksWhileActiveAndEndsWhenIdle(t *testing.T) {
	limits := Limits{MaxMessage: 1 << 20, QueueBytes: 1 << 20, WriteTimeout: time.Second,
		PingInterval: 50 * time.Millisecond, IdleTimeout: time.Minute}
	s, client, in, done := running(t, &limits, RoleApp)
	var pings int

	// Traffic starts a writer, which stays parked for the next frame.
	echo(t, s, in, &pings, "one")
	waitWriter(t, s, true, true)
	echo(t, s, in, &pings, "two")

	// A ping interval with nothing but a ping to write ends the writer.
	waitWriter(t, s, false, false)
	// The next frame starts a writer again.
	echo(t, s, in, &pings, "three")
	if pings < 2 {
		t.Errorf("%d pings before the writer ended, want 2 or more", pings)
	}
	s.Close(ws.StatusNormalClosure, "")
	client.Close()
	<-done
}

func TestCloseWakesParkedWriter(t *testing.T) {
	s, client, in, done := running(t, &benchLimits, RoleApp)
	var pings int
	echo(t, s, in, &pings, "one")
	waitWriter(t, s, true, true)
	s.Close(ws.StatusNormalClosure, "bye")
	f := next(t, in, &pings)
	if f.Header.OpCode != ws.OpClose {
		t.Fatalf("got opcode %v, want close", f.Header.OpCode)
	}
	if code, reason := ws.ParseCloseFrameData(f.Payload); code != ws.StatusNormalClosure || reason != "bye" {
		t.Fatalf("close: got %d %q, want 1000 bye", code, reason)
	}
	// The client answers with a (masked) close and hangs up.
	if err := wsutil.WriteClientMessage(client, ws.OpClose, ws.NewCloseFrameBody(ws.StatusNormalClosure, "")); err != nil {
		t.Fatal(err)
	}
	client.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after the close handshake")
	}
	if w, _ := s.writerState(); w {
		t.Error("a writer is left after Run returned")
	}
}

func TestParkedWriterEndsWhenPeerHangsUp(t *testing.T) {
	s, client, in, done := running(t, &benchLimits, RoleDevice)
	var pings int
	echo(t, s, in, &pings, "one")
	waitWriter(t, s, true, true)
	client.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after the peer hung up with a parked writer")
	}
	if code, _ := s.CloseStatus(); code != ws.StatusAbnormalClosure {
		t.Errorf("close status: got %d, want 1006", code)
	}
	if s.Send(wire.Frame(ws.OpText, []byte("late"))) {
		t.Error("Send after the end reported success")
	}
}

// A peer that does not read overflows the queue: the session closes with
// 1013 and counts every frame it lost, per session and per listener.
func TestOverflowCountsDrops(t *testing.T) {
	server, client := pair(t)
	limits := benchLimits
	limits.QueueBytes = 64 << 10
	limits.WriteTimeout = 200 * time.Millisecond
	totals := &Totals{}
	s := New(server, &Info{Role: RoleApp}, &limits, nopHandler{}, totals, slog.New(slog.DiscardHandler))
	done := make(chan struct{})
	go func() { s.Run(); close(done) }()
	frame := wire.Frame(ws.OpBinary, make([]byte, 8<<10))
	refused := 0
	for range 4096 { // far more than the socket buffers and the queue hold
		if !s.Send(frame) {
			refused++
		}
	}
	if refused == 0 {
		t.Fatal("every Send succeeded into a peer that never reads; want the queue to overflow")
	}
	client.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("session did not end after overflow")
	}
	code, _ := s.CloseStatus()
	if code != CodeTryAgainLater && code != ws.StatusAbnormalClosure {
		t.Errorf("close code %d, want 1013 (or 1006 when the write timed out first)", code)
	}
	got := s.Snapshot().Drops
	if got == 0 {
		t.Fatal("Snapshot().Drops = 0 after an overflow, want > 0")
	}
	if tot := totals.Drops.Load(); tot != got {
		t.Errorf("listener Totals.Drops = %d, session drops = %d: want equal", tot, got)
	}
}
