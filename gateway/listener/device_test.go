package listener

import (
	"crypto/tls"
	"testing"
)

func TestQueryValue(t *testing.T) {
	tests := []struct{ query, key, want string }{
		{"device_id=d1", "device_id", "d1"},
		{"a=1&token=s%2F3cret&device_id=x", "token", "s/3cret"},
		{"token=", "token", ""},
		{"tokenx=1", "token", ""},
		{"token=%zz", "token", ""},
		{"", "token", ""},
		{"device_id=a+b", "device_id", "a b"},
	}
	for _, tt := range tests {
		if got := queryValue([]byte(tt.query), tt.key); got != tt.want {
			t.Errorf("queryValue(%q, %q) = %q, want %q", tt.query, tt.key, got, tt.want)
		}
	}
}

func TestRequestEnd(t *testing.T) {
	tests := []struct {
		name   string
		chunks []string // successive reads
		end    int      // offset in the last chunk, -1 if not ended
	}{
		{"crlf", []string{"GET / HTTP/1.1\r\nHost: a\r\n\r\nFRAME"}, 27},
		{"lf only", []string{"GET / HTTP/1.1\nHost: a\n\nX"}, 24},
		{"split in the empty line", []string{"GET / HTTP/1.1\r\nHost: a\r\n\r", "\nFRAME"}, 1},
		{"split after a line", []string{"GET / HTTP/1.1\r\n", "\r\n"}, 2},
		{"not yet", []string{"GET / HTTP/1.1\r\nHost: a\r\n"}, -1},
		{"carriage return in a value", []string{"GET / HTTP/1.1\r\nX: a\rb\r\n\r\n"}, 26},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l limitedReader
			end := -1
			for i, c := range tt.chunks {
				end = l.requestEnd([]byte(c))
				if end >= 0 && i < len(tt.chunks)-1 {
					t.Fatalf("ended in chunk %d at %d, want in the last chunk", i, end)
				}
			}
			if end != tt.end {
				t.Fatalf("end: got %d, want %d", end, tt.end)
			}
		})
	}
}

func TestCipherSuiteName(t *testing.T) {
	for _, id := range []uint16{tls.TLS_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_RC4_128_SHA, 0x1234} {
		if got, want := cipherSuiteName(id), tls.CipherSuiteName(id); got != want {
			t.Errorf("cipherSuiteName(%#x) = %q, want %q", id, got, want)
		}
	}
}
