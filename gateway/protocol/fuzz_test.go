package protocol

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// FuzzMessageFrame checks that a message frame reads back with gobwas/ws
// as one final, unmasked text frame of valid UTF-8 JSON naming the channel
// and carrying the data.
func FuzzMessageFrame(f *testing.F) {
	f.Add("devices/d1/up", []byte(`{"t":21.5}`), false)
	f.Add("devices/d1/up", []byte("hello \"x\"\n"), false)
	f.Add("devices/d1/up", []byte{0, 1, 2}, true)
	f.Add("c/\u2028/\xff", []byte(` [1, 2] `), false)
	f.Add("c", bytes.Repeat([]byte("a"), 70000), false)
	f.Add("c", []byte(`"\u00e9"`), false)
	f.Fuzz(func(t *testing.T, channel string, data []byte, binary bool) {
		frame, err := ws.ReadFrame(bytes.NewReader(MessageFrame(channel, data, binary)))
		if err != nil {
			t.Fatalf("read frame: %v", err)
		}
		if frame.Header.OpCode != ws.OpText || !frame.Header.Fin || frame.Header.Masked {
			t.Fatalf("got op %v fin %v masked %v, want a final unmasked text frame", frame.Header.OpCode, frame.Header.Fin, frame.Header.Masked)
		}
		p := frame.Payload
		if !utf8.Valid(p) || !json.Valid(p) {
			t.Fatalf("payload is not valid UTF-8 JSON: %q", p)
		}
		var m struct {
			Type       string          `json:"type"`
			Channel    string          `json:"channel"`
			Data       json.RawMessage `json:"data"`
			DataBase64 *string         `json:"data_base64"`
		}
		if err := json.Unmarshal(p, &m); err != nil {
			t.Fatalf("decode %q: %v", p, err)
		}
		if m.Type != "message" {
			t.Fatalf("got type %q, want message", m.Type)
		}
		if utf8.ValidString(channel) && m.Channel != channel {
			t.Fatalf("got channel %q, want %q", m.Channel, channel)
		}
		switch {
		case binary:
			if m.DataBase64 == nil || m.Data != nil {
				t.Fatalf("binary: got %q, want data_base64 only", p)
			}
			got, err := base64.StdEncoding.DecodeString(*m.DataBase64)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("binary: got %x (%v), want %x", got, err, data)
			}
		case m.DataBase64 != nil:
			t.Fatalf("text: got data_base64 in %q", p)
		case utf8.Valid(data) && json.Valid(data):
			if !bytes.Equal(m.Data, bytes.TrimSpace(data)) {
				t.Fatalf("JSON text: got data %s, want %s", m.Data, data)
			}
		default:
			var s string
			if err := json.Unmarshal(m.Data, &s); err != nil {
				t.Fatalf("other text: data %s is not a JSON string: %v", m.Data, err)
			}
			if utf8.Valid(data) && s != string(data) {
				t.Fatalf("other text: got %q, want %q", s, data)
			}
		}
	})
}
