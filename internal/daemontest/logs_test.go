package daemontest

import (
	"reflect"
	"testing"
)

func TestLogRecorder(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		want   []string
	}{
		{"one line", []string{"a\n"}, []string{"a"}},
		{"split across writes", []string{"a", "b\nc", "\n"}, []string{"ab", "c"}},
		{"CRLF", []string{"a\r\nb\r\n"}, []string{"a", "b"}},
		{"unterminated kept back", []string{"a\nb"}, []string{"a"}},
		{"empty lines", []string{"\n\n"}, []string{"", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newLogRecorder()
			for _, w := range tt.writes {
				if n, err := r.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write(%q): got %d %v, want %d nil", w, n, err, len(w))
				}
			}
			if got, _ := r.snapshot(); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseLine(t *testing.T) {
	tests := []struct {
		name, in string
		want     Line
	}{
		{"json", `{"msg":"wssgate serving","app":"https://127.0.0.1:1/"}`, Line{"msg": "wssgate serving", "app": "https://127.0.0.1:1/"}},
		{"text", "panic: boom", Line{"msg": "panic: boom"}},
		{"json null", "null", Line{"msg": "null"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseLine(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}
