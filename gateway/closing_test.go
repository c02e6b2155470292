package gateway

import (
	"bytes"
	"context"
	"net"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/wssgate/wssgate/gateway/config"
)

func TestCloseCodes(t *testing.T) {
	h := newHarness(t, func(c *config.Config, _ *harness) {
		c.Device.Limits.MaxMessage = 1024
		c.Device.Limits.QueueBytes = 64 << 10
	})
	tests := []struct {
		name  string
		write func(c net.Conn) error
		want  ws.StatusCode
	}{
		{"oversized message", func(c net.Conn) error {
			return wsutil.WriteClientBinary(c, make([]byte, 2048))
		}, ws.StatusMessageTooBig},
		{"oversized across fragments", func(c net.Conn) error {
			for i, fin := range []bool{false, false} {
				op := ws.OpContinuation
				if i == 0 {
					op = ws.OpBinary
				}
				if err := writeFrame(c, ws.Frame{Header: ws.Header{Fin: fin, OpCode: op, Length: 600}, Payload: make([]byte, 600)}); err != nil {
					return err
				}
			}
			return nil
		}, ws.StatusMessageTooBig},
		{"invalid UTF-8", func(c net.Conn) error { return wsutil.WriteClientText(c, []byte{0xff, 0xfe}) }, ws.StatusInvalidFramePayloadData},
		{"UTF-8 split across fragments stays invalid", func(c net.Conn) error {
			if err := writeFrame(c, ws.NewFrame(ws.OpText, false, []byte{0xe2, 0x82})); err != nil {
				return err
			}
			return writeFrame(c, ws.NewFrame(ws.OpContinuation, true, []byte{0x41}))
		}, ws.StatusInvalidFramePayloadData},
		{"reserved bits", func(c net.Conn) error {
			return writeFrame(c, ws.Frame{Header: ws.Header{Fin: true, Rsv: 4, OpCode: ws.OpText, Length: 1}, Payload: []byte("a")})
		}, ws.StatusProtocolError},
		{"reserved opcode", func(c net.Conn) error {
			return writeFrame(c, ws.Frame{Header: ws.Header{Fin: true, OpCode: 0x3, Length: 1}, Payload: []byte("a")})
		}, ws.StatusProtocolError},
		{"continuation without start", func(c net.Conn) error {
			return writeFrame(c, ws.NewFrame(ws.OpContinuation, true, []byte("a")))
		}, ws.StatusProtocolError},
		{"unmasked client frame", func(c net.Conn) error {
			return ws.WriteFrame(c, ws.NewTextFrame([]byte("a")))
		}, ws.StatusProtocolError},
		{"fragmented ping", func(c net.Conn) error { return writeFrame(c, ws.NewFrame(ws.OpPing, false, nil)) }, ws.StatusProtocolError},
		{"close code 1005 on the wire", func(c net.Conn) error { return writeClose(c, 1005) }, ws.StatusProtocolError},
		{"close code 5000", func(c net.Conn) error { return writeClose(c, 5000) }, ws.StatusProtocolError},
		{"close code 1012 echoed", func(c net.Conn) error { return writeClose(c, 1012) }, 1012},
		{"close code 4000 echoed", func(c net.Conn) error { return writeClose(c, 4000) }, 4000},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := h.dialDevice("rfc" + string(rune('a'+i)))
			if err := tt.write(c); err != nil {
				t.Fatalf("write: %v", err)
			}
			if code, reason := readClose(t, c); code != tt.want {
				t.Fatalf("got close %d %q, want %d", code, reason, tt.want)
			}
		})
	}
}

func TestPingPongAndFragmentedMessage(t *testing.T) {
	h := newHarness(t, nil)
	app := h.dialApp()
	subscribe(t, app, "devices/+/up")
	dev := h.dialDevice("frag")
	waitFor(t, "device", func() bool { _, ok := h.g.Registry().Device("frag"); return ok })
	// A text message in two fragments with a ping between them; the euro
	// sign is split across the fragments.
	for _, f := range []ws.Frame{
		ws.NewFrame(ws.OpText, false, []byte("price \xe2\x82")),
		ws.NewFrame(ws.OpPing, true, []byte("p")),
		ws.NewFrame(ws.OpContinuation, true, []byte("\xac 5")),
	} {
		if err := writeFrame(dev, f); err != nil {
			t.Fatal(err)
		}
	}
	_ = dev.SetReadDeadline(time.Now().Add(5 * time.Second))
	hdr, err := ws.ReadHeader(dev)
	if err != nil || hdr.OpCode != ws.OpPong {
		t.Fatalf("got %v %v, want pong", hdr.OpCode, err)
	}
	if m := readApp(t, app); string(m.Data) != `"price € 5"` {
		t.Errorf("got %s, want \"price € 5\"", m.Data)
	}
}

func TestSlowConsumerClosedOthersServed(t *testing.T) {
	h := newHarness(t, func(c *config.Config, _ *harness) {
		c.App.Limits.QueueBytes = 64 << 10
		c.App.Limits.MaxMessage = 16 << 10
	})
	stalled := h.dialApp()
	subscribe(t, stalled, "devices/+/up")
	reader := h.dialApp()
	subscribe(t, reader, "devices/+/up")
	dev := h.dialDevice("flood")
	waitFor(t, "device", func() bool { _, ok := h.g.Registry().Device("flood"); return ok })

	// The device sends 16 KiB messages while the reading subscriber stays
	// at most 2 behind, until the stalled one is cut off (or 2,000 sent).
	payload := bytes.Repeat([]byte("x"), 16<<10)
	received := make(chan struct{}, 2000)
	go func() {
		_ = reader.SetReadDeadline(time.Now().Add(30 * time.Second))
		for {
			if _, _, err := wsutil.ReadServerData(reader); err != nil {
				close(received)
				return
			}
			received <- struct{}{}
		}
	}()
	sent, got := 0, 0
	for sent < 2000 && h.g.app.Counters.Sessions.SlowCloses.Load() == 0 {
		if err := wsutil.WriteClientText(dev, payload); err != nil {
			t.Fatal(err)
		}
		sent++
		for sent-got > 2 {
			if _, ok := <-received; !ok {
				t.Fatalf("reading subscriber failed after %d messages", got)
			}
			got++
		}
	}
	for got < sent {
		if _, ok := <-received; !ok {
			t.Fatalf("reading subscriber got %d of %d messages", got, sent)
		}
		got++
	}
	if code, reason := readClose(t, stalled); code != 1013 {
		t.Errorf("stalled subscriber: got close %d %q, want 1013", code, reason)
	}
	if got := h.g.app.Counters.Sessions.SlowCloses.Load(); got != 1 {
		t.Errorf("slow closes: got %d, want 1", got)
	}
}

func TestShutdownSendsGoingAway(t *testing.T) {
	h := newHarness(t, nil)
	app := h.dialApp()
	subscribe(t, app, "devices/+/up")
	dev := h.dialDevice("bye")
	waitFor(t, "sessions", func() bool { return h.g.Registry().Len() == 2 })
	shut := make(chan error, 1)
	go func() { shut <- h.g.Shutdown(context.Background()) }()
	for _, c := range []net.Conn{app, dev} {
		if code, _ := readClose(t, c); code != ws.StatusGoingAway {
			t.Errorf("got close %d, want 1001", code)
		}
		// Answer like a real client, so the session ends at once.
		_ = writeClose(c, 1001)
	}
	select {
	case err := <-shut:
		if err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Shutdown did not return within 5 s")
	}
}

// A peer that never answers our close frame is cut off after a short
// bound, not after the whole shutdown grace.
func TestShutdownUnresponsivePeer(t *testing.T) {
	h := newHarness(t, nil)
	h.dialDevice("mute") // never reads, never answers
	h.dialApp()
	waitFor(t, "sessions", func() bool { return h.g.Registry().Len() == 2 })
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.g.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Shutdown took %s with silent peers, want about 2 s", d)
	}
}
