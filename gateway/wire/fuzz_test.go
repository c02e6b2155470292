package wire

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// FuzzParseClose checks ParseClose against the RFC 6455 rules it claims
// and that an accepted payload survives CloseFrame unchanged.
func FuzzParseClose(f *testing.F) {
	for _, p := range [][]byte{
		{}, {3}, {3, 232}, []byte("\x03\xe8bye"), []byte("\x0f\xa1replaced"),
		{3, 236}, {3, 237}, []byte("\x03\xe9\xff"), []byte("\x13\x88" + strings.Repeat("é", 61)),
	} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		code, reason, ok := ParseClose(p)
		switch {
		case len(p) == 0:
			if !ok || code != ws.StatusNoStatusRcvd || reason != "" {
				t.Fatalf("empty payload: got %d %q %v, want 1005 \"\" true", code, reason, ok)
			}
			return
		case len(p) == 1:
			if ok {
				t.Fatal("one-byte payload accepted")
			}
			return
		}
		wantCode := ws.StatusCode(binary.BigEndian.Uint16(p))
		valid := ValidCloseCode(wantCode) && utf8.Valid(p[2:])
		if ok != valid || code != wantCode || reason != string(p[2:]) {
			t.Fatalf("ParseClose(%x) = %d %q %v, want %d %q %v", p, code, reason, ok, wantCode, p[2:], valid)
		}
		if !ok || len(p) > 125 {
			return
		}
		h, payload := readFrame(t, CloseFrame(code, reason))
		if h.OpCode != ws.OpClose || !bytes.Equal(payload, p) {
			t.Fatalf("CloseFrame(%d, %q): got op %v payload %x, want close %x", code, reason, h.OpCode, payload, p)
		}
	})
}
