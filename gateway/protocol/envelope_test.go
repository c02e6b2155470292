package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/gobwas/ws"
)

// readFrame parses one server frame back with gobwas/ws (the framing
// itself is package wire's, tested there).
func readFrame(t testing.TB, b []byte) (ws.Header, []byte) {
	t.Helper()
	f, err := ws.ReadFrame(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("read frame: %v", err)
	}
	return f.Header, f.Payload
}

func TestMessageFrame(t *testing.T) {
	tests := []struct {
		name   string
		data   []byte
		binary bool
		want   string
	}{
		{"json object", []byte(`{"t":21.5}`), false, `{"type":"message","channel":"devices/d1/up","data":{"t":21.5}}`},
		{"plain text", []byte("hello \"x\"\n"), false, `{"type":"message","channel":"devices/d1/up","data":"hello \"x\"\n"}`},
		{"binary", []byte{0, 1, 2}, true, `{"type":"message","channel":"devices/d1/up","data_base64":"AAEC"}`},
		{"big", bytes.Repeat([]byte("a"), 70000), false, `{"type":"message","channel":"devices/d1/up","data":"` + strings.Repeat("a", 70000) + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, p := readFrame(t, MessageFrame("devices/d1/up", tt.data, tt.binary))
			if h.OpCode != ws.OpText {
				t.Fatalf("got op %v, want text", h.OpCode)
			}
			if string(p) != tt.want {
				t.Fatalf("got %s, want %s", p, tt.want)
			}
		})
	}
}

func TestAckAndErrorFrames(t *testing.T) {
	_, p := readFrame(t, AckFrame(json.RawMessage("7"), 3))
	if got, want := string(p), `{"type":"ack","id":7,"reached":3}`; got != want {
		t.Errorf("ack: got %s, want %s", got, want)
	}
	_, p = readFrame(t, AckFrame(json.RawMessage(`"a"`), -1))
	if got, want := string(p), `{"type":"ack","id":"a"}`; got != want {
		t.Errorf("ack: got %s, want %s", got, want)
	}
	_, p = readFrame(t, ErrorFrame(json.RawMessage("3"), CodeForbidden, "publish to x not allowed"))
	if got, want := string(p), `{"type":"error","id":3,"code":"forbidden","message":"publish to x not allowed"}`; got != want {
		t.Errorf("error: got %s, want %s", got, want)
	}
}

func TestDecodeRequest(t *testing.T) {
	tests := []struct {
		name, in, wantErr string
		wantData          string
		wantBinary        bool
	}{
		{name: "subscribe", in: `{"type":"subscribe","id":1,"channel":"devices/+/up"}`},
		{name: "publish object", in: `{"type":"publish","id":3,"channel":"devices/42/down","data":{"led":"on"}}`, wantData: `{"led":"on"}`},
		{name: "publish string", in: `{"type":"publish","channel":"c","data":"on"}`, wantData: "on"},
		{name: "publish binary", in: `{"type":"publish","channel":"c","data_base64":"AAEC"}`, wantData: "\x00\x01\x02", wantBinary: true},
		{name: "not json", in: `hello`, wantErr: "not a JSON object"},
		{name: "unknown type", in: `{"type":"sub","channel":"c"}`, wantErr: `unknown type "sub"`},
		{name: "no channel", in: `{"type":"subscribe"}`, wantErr: "missing channel"},
		{name: "publish no data", in: `{"type":"publish","channel":"c"}`, wantErr: "needs data"},
		{name: "both data", in: `{"type":"publish","channel":"c","data":1,"data_base64":""}`, wantErr: "exclusive"},
		{name: "object id", in: `{"type":"subscribe","id":{},"channel":"c"}`, wantErr: "id must be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := DecodeRequest([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want bad request containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Type != TypePublish {
				return
			}
			data, bin, err := r.Payload()
			if err != nil || string(data) != tt.wantData || bin != tt.wantBinary {
				t.Fatalf("payload: got %q binary=%v err=%v, want %q binary=%v", data, bin, err, tt.wantData, tt.wantBinary)
			}
		})
	}
}

func FuzzDecodeRequest(f *testing.F) {
	f.Add([]byte(`{"type":"publish","id":3,"channel":"devices/42/down","data":{"led":"on"}}`))
	f.Add([]byte(`{"type":"publish","channel":"c","data_base64":"AAEC"}`))
	f.Fuzz(func(t *testing.T, p []byte) {
		r, err := DecodeRequest(p)
		if err != nil {
			return
		}
		if r.Type == TypePublish {
			_, _, _ = r.Payload()
		}
		var v any
		_, ack := readFrame(t, AckFrame(r.ID, 1))
		if err := json.Unmarshal(ack, &v); err != nil {
			t.Fatalf("ack for id %s is not JSON: %v", r.ID, err)
		}
	})
}

func BenchmarkMessageFrame(b *testing.B) {
	data := []byte(`{"seq":1,"ts":1700000000000000000,"pad":"........................"}`)
	b.ReportAllocs()
	for b.Loop() {
		MessageFrame("devices/dev-1/up", data, false)
	}
}

func BenchmarkDecodeRequest(b *testing.B) {
	p := []byte(`{"type":"publish","id":3,"channel":"devices/42/down","data":{"led":"on"}}`)
	b.ReportAllocs()
	for b.Loop() {
		r, _ := DecodeRequest(p)
		_, _, _ = r.Payload()
	}
}
