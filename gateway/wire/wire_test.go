package wire

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// readFrame parses a server frame back with gobwas/ws.
func readFrame(t testing.TB, b []byte) (ws.Header, []byte) {
	t.Helper()
	r := bytes.NewReader(b)
	h, err := ws.ReadHeader(r)
	if err != nil {
		t.Fatalf("read header: %v", err)
	}
	p := make([]byte, h.Length)
	if _, err := r.Read(p); err != nil && h.Length > 0 {
		t.Fatalf("read payload: %v", err)
	}
	if r.Len() != 0 {
		t.Fatalf("%d trailing bytes after frame", r.Len())
	}
	if !h.Fin || h.Masked {
		t.Fatalf("got fin=%v masked=%v, want fin and unmasked", h.Fin, h.Masked)
	}
	return h, p
}

func TestFrameSizes(t *testing.T) {
	for _, n := range []int{0, 1, 125, 126, 65535, 65536, 1 << 20} {
		p := bytes.Repeat([]byte{'x'}, n)
		h, got := readFrame(t, Frame(ws.OpBinary, p))
		if h.OpCode != ws.OpBinary || !bytes.Equal(got, p) {
			t.Errorf("n=%d: got op %v len %d, want binary len %d", n, h.OpCode, len(got), n)
		}
	}
}

func TestCloseCodes(t *testing.T) {
	valid := []ws.StatusCode{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4001, 4999}
	invalid := []ws.StatusCode{0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535}
	for _, c := range valid {
		if !ValidCloseCode(c) {
			t.Errorf("ValidCloseCode(%d) = false, want true", c)
		}
	}
	for _, c := range invalid {
		if ValidCloseCode(c) {
			t.Errorf("ValidCloseCode(%d) = true, want false", c)
		}
	}
	if _, _, ok := ParseClose([]byte{3}); ok {
		t.Error("one-byte close payload accepted")
	}
	if _, _, ok := ParseClose([]byte{3, 232, 0xff}); ok {
		t.Error("invalid UTF-8 reason accepted")
	}
	h, p := readFrame(t, CloseFrame(4001, strings.Repeat("é", 100)))
	code, reason, ok := ParseClose(p)
	if h.OpCode != ws.OpClose || code != 4001 || !ok || len(p) > 125 || !utf8.ValidString(reason) {
		t.Errorf("CloseFrame: got op %v code %d ok %v len %d", h.OpCode, code, ok, len(p))
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "a", "\"\\", "\x00\x1f", "é\u2028", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var got string
		if err := json.Unmarshal(AppendJSONString(nil, s), &got); err != nil {
			t.Fatalf("invalid JSON for %q: %v", s, err)
		}
		want := strings.ToValidUTF8(s, "\ufffd")
		if utf8.ValidString(s) && got != want {
			t.Fatalf("round trip: got %q, want %q", got, want)
		}
	})
}
