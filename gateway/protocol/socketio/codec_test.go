package socketio

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestParseAndAppendPacket(t *testing.T) {
	tests := map[string]struct {
		in   string
		want Packet
	}{
		"connect":               {"0", Packet{Type: PacketConnect, Namespace: "/"}},
		"connect with auth":     {`0{"token":"x"}`, Packet{Type: PacketConnect, Namespace: "/", Data: json.RawMessage(`{"token":"x"}`)}},
		"connect namespace":     {"0/admin,", Packet{Type: PacketConnect, Namespace: "/admin"}},
		"disconnect":            {"1", Packet{Type: PacketDisconnect, Namespace: "/"}},
		"event":                 {`2["hello",1]`, Packet{Type: PacketEvent, Namespace: "/", Data: json.RawMessage(`["hello",1]`)}},
		"event with ack":        {`212["hello"]`, Packet{Type: PacketEvent, Namespace: "/", ID: 12, HasID: true, Data: json.RawMessage(`["hello"]`)}},
		"event namespace ack":   {`2/admin,7["a"]`, Packet{Type: PacketEvent, Namespace: "/admin", ID: 7, HasID: true, Data: json.RawMessage(`["a"]`)}},
		"ack":                   {`3456["ok"]`, Packet{Type: PacketAck, Namespace: "/", ID: 456, HasID: true, Data: json.RawMessage(`["ok"]`)}},
		"connect error":         {`4{"message":"no"}`, Packet{Type: PacketConnectError, Namespace: "/", Data: json.RawMessage(`{"message":"no"}`)}},
		"binary event":          {`51-["b",{"_placeholder":true,"num":0}]`, Packet{Type: PacketBinaryEvent, Namespace: "/", Attachments: 1, Data: json.RawMessage(`["b",{"_placeholder":true,"num":0}]`)}},
		"binary ack namespaced": {`62-/x,9[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`, Packet{Type: PacketBinaryAck, Namespace: "/x", Attachments: 2, ID: 9, HasID: true, Data: json.RawMessage(`[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParsePacket([]byte(tc.in))
			if err != nil {
				t.Fatalf("ParsePacket(%q): %v", tc.in, err)
			}
			if got.Type != tc.want.Type || got.Namespace != tc.want.Namespace || got.ID != tc.want.ID || got.HasID != tc.want.HasID ||
				got.Attachments != tc.want.Attachments || !bytes.Equal(got.Data, tc.want.Data) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			if back := string(AppendPacket(nil, &got)); back != tc.in {
				t.Fatalf("AppendPacket: got %q, want %q", back, tc.in)
			}
		})
	}
}

func TestParsePacketRefuses(t *testing.T) {
	for name, in := range map[string]string{
		"empty":                "",
		"unknown type":         "7",
		"event not array":      `2{"a":1}`,
		"disconnect with data": `1{}`,
		"bad json":             `2["a"`,
		"zero attachments":     `50-["a"]`,
		"no attachment dash":   `51["a"]`,
		"ack id too big":       `299999999999999999999["a"]`,
		"connect array":        `0[1]`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ParsePacket([]byte(in)); !errors.Is(err, ErrBadSocketPacket) {
				t.Fatalf("ParsePacket(%q): got %v, want ErrBadSocketPacket", in, err)
			}
		})
	}
}

func TestDecodePayload(t *testing.T) {
	var got []EIOPacket
	err := DecodePayload([]byte("2\x1e4hello\x1ebAQID\x1e6"), 10, func(p EIOPacket) error {
		got = append(got, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []EIOPacket{{Type: EIOPing, Data: []byte{}}, {Type: EIOMessage, Data: []byte("hello")},
		{Type: EIOMessage, Data: []byte{1, 2, 3}, Binary: true}, {Type: EIONoop, Data: []byte{}}}
	if len(got) != len(want) {
		t.Fatalf("got %d packets, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Type != want[i].Type || got[i].Binary != want[i].Binary || !bytes.Equal(got[i].Data, want[i].Data) {
			t.Fatalf("packet %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	for name, in := range map[string]string{"bad type": "9", "bad base64": "b!!", "empty element": "4a\x1e", "too many": "6\x1e6\x1e6"} {
		if err := DecodePayload([]byte(in), 2, func(EIOPacket) error { return nil }); !errors.Is(err, ErrBadPacket) {
			t.Errorf("%s: got %v, want ErrBadPacket", name, err)
		}
	}
	if b := AppendPollingPacket(AppendPollingPacket(nil, EIOMessage, []byte("x"), false), EIOMessage, []byte{1, 2, 3}, true); string(b) != "4xbAQID" {
		t.Fatalf("AppendPollingPacket: got %q", b)
	}
}

func TestEncodeMessageEvent(t *testing.T) {
	tests := map[string]struct {
		data   string
		binary bool
		want   string
	}{
		"json object": {`{"t":21.5}`, false, `2["message",{"channel":"c/1","data":{"t":21.5}}]`},
		"json number": {`42`, false, `2["message",{"channel":"c/1","data":42}]`},
		"plain text":  {`on "now"`, false, `2["message",{"channel":"c/1","data":"on \"now\""}]`},
		"bad utf8":    {"\xff", false, `2["message",{"channel":"c/1","data":"\ufffd"}]`},
		"binary":      {"\x00\x01", true, `51-["message",{"channel":"c/1","data":{"_placeholder":true,"num":0}}]`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			text, atts := EncodeMessageEvent("c/1", []byte(tc.data), tc.binary)
			if string(text) != tc.want {
				t.Fatalf("got %s, want %s", text, tc.want)
			}
			if tc.binary != (len(atts) == 1) {
				t.Fatalf("got %d attachments, want binary=%v", len(atts), tc.binary)
			}
			if _, err := ParsePacket(text); err != nil {
				t.Fatalf("socket.io-parser rules refuse it: %v", err)
			}
		})
	}
}

func TestEncodeEvent(t *testing.T) {
	text, atts, err := encodeEvent(false, 0, "ev", []any{"a", []byte{1}, json.RawMessage(`{"x":1}`), 3})
	if err != nil || string(text) != `51-["ev","a",{"_placeholder":true,"num":0},{"x":1},3]` || len(atts) != 1 {
		t.Fatalf("event: got %s %v %v", text, atts, err)
	}
	text, _, err = encodeEvent(true, 5, "", []any{map[string]int{"reached": 1}})
	if err != nil || string(text) != `35[{"reached":1}]` {
		t.Fatalf("ack: got %s %v", text, err)
	}
	if _, _, err := encodeEvent(false, 0, "ev", []any{make(chan int)}); err == nil {
		t.Fatal("a channel argument encoded")
	}
}

func TestReassembler(t *testing.T) {
	r := Reassembler{MaxAttachments: 2, MaxBytes: 4}
	if _, _, done, err := r.Text([]byte(`52-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)); done || err != nil {
		t.Fatalf("text: done %v err %v, want pending", done, err)
	}
	if _, _, done, _ := r.Binary([]byte{1, 2}); done {
		t.Fatal("done after 1 of 2 attachments")
	}
	p, atts, done, err := r.Binary([]byte{3})
	if !done || err != nil || len(atts) != 2 || p.Namespace != "/" || p.Attachments != 2 {
		t.Fatalf("got %+v %v %v %v, want the packet with 2 attachments", p, atts, done, err)
	}
	tests := map[string]struct {
		steps []string // "t:" text, "b:" binary
		want  error
	}{
		"too many":          {[]string{`53-["a"]`}, ErrTooManyAttachments},
		"too big":           {[]string{`51-["a"]`, "b:12345"}, ErrAttachmentsTooBig},
		"unexpected binary": {[]string{"b:1"}, ErrUnexpectedBinary},
		"text while binary": {[]string{`51-["a"]`, `2["b"]`}, ErrMissingBinary},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := Reassembler{MaxAttachments: 2, MaxBytes: 4}
			var err error
			for _, s := range tc.steps {
				if b, ok := strings.CutPrefix(s, "b:"); ok {
					_, _, _, err = r.Binary([]byte(b))
				} else {
					_, _, _, err = r.Text([]byte(s))
				}
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func FuzzParsePacket(f *testing.F) {
	for _, s := range []string{"0", `212["a",1]`, `51-/x,3["a",{"_placeholder":true,"num":0}]`, `4"no"`, "1/a,"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		p, err := ParsePacket(in)
		if err != nil {
			return
		}
		again, err := ParsePacket(AppendPacket(nil, &p))
		if err != nil || again.Type != p.Type || again.Namespace != p.Namespace || again.ID != p.ID || !bytes.Equal(again.Data, p.Data) {
			t.Fatalf("round trip of %q: %+v, %v", in, again, err)
		}
	})
}

func BenchmarkEncodeMessageEvent(b *testing.B) {
	data := []byte(`{"t":21.5,"h":40}`)
	b.ReportAllocs()
	for b.Loop() {
		text, _ := EncodeMessageEvent("devices/42/up", data, false)
		_ = Prepare(text, nil).frames()
	}
}
