package socketio

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gobwas/ws"
)

// TestCompileMessageEvent: the compiled frames split back into the
// packets EncodeMessageEvent makes, for every frame-length encoding.
func TestCompileMessageEvent(t *testing.T) {
	for _, tt := range []struct {
		name   string
		data   []byte
		binary bool
	}{
		{"json", []byte(`{"t":21.5}`), false},
		{"text", []byte("plain"), false},
		{"binary", []byte{0, 1, 255}, true},
		{"16-bit length", []byte(strings.Repeat("a", 300)), false},
		{"64-bit length", bytes.Repeat([]byte{7}, 70000), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			text, atts := EncodeMessageEvent("devices/1/up", tt.data, tt.binary)
			f := CompileMessageEvent("devices/1/up", tt.data, tt.binary)
			op, p, rest, ok := splitFrame(f)
			if !ok || op != ws.OpText || p[0] != byte(EIOMessage) || !bytes.Equal(p[1:], text) {
				t.Fatalf("text frame: ok %v op %v payload %.40q, want 4%.40q", ok, op, p, text)
			}
			for i, a := range atts {
				op, p, rest, ok = splitFrame(rest)
				if !ok || op != ws.OpBinary || !bytes.Equal(p, a) {
					t.Fatalf("attachment %d: ok %v op %v len %d, want %d", i, ok, op, len(p), len(a))
				}
			}
			if len(rest) != 0 {
				t.Fatalf("%d bytes left over", len(rest))
			}
		})
	}
	if _, _, _, ok := splitFrame([]byte{0x81, 126, 0}); ok {
		t.Fatal("truncated header accepted")
	}
	if _, _, _, ok := splitFrame([]byte{0x81, 5, 'a'}); ok {
		t.Fatal("truncated payload accepted")
	}
}
