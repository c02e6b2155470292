package listener

import (
	"bytes"
	"io"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// FuzzQueryValue compares queryValue with a plain reading of the rule it
// documents: the first pair whose raw key is key, its value unescaped, ""
// if absent or malformed.
func FuzzQueryValue(f *testing.F) {
	for _, s := range []string{
		"token=abc", "device_id=d1&token=a%20b", "token=%zz", "token", "=x&token=y&token=z",
		"a=1&&token=+%2B", "token=%E2%82%AC",
	} {
		f.Add(s, "token")
	}
	f.Fuzz(func(t *testing.T, query, key string) {
		want := ""
		for _, pair := range strings.Split(query, "&") {
			k, v, _ := strings.Cut(pair, "=")
			if k == key {
				if s, err := url.QueryUnescape(v); err == nil {
					want = s
				}
				break
			}
		}
		if got := queryValue([]byte(query), key); got != want {
			t.Fatalf("queryValue(%q, %q) = %q, want %q", query, key, got, want)
		}
	})
}

// chunkConn is a net.Conn whose reads return in at most chunk bytes at a
// time (as TLS records do) and whose writes are discarded.
type chunkConn struct {
	in    []byte
	pos   int
	chunk int
}

func (c *chunkConn) Read(p []byte) (int, error) {
	if c.pos >= len(c.in) {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), c.chunk)], c.in[c.pos:])
	c.pos += n
	return n, nil
}

func (c *chunkConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c *chunkConn) Close() error                     { return nil }
func (c *chunkConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *chunkConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *chunkConn) SetDeadline(time.Time) error      { return nil }
func (c *chunkConn) SetReadDeadline(time.Time) error  { return nil }
func (c *chunkConn) SetWriteDeadline(time.Time) error { return nil }

// requestLen is the length of the request in b up to and including the
// empty line that ends it ("\n\n" or "\n\r\n"), or -1.
func requestLen(b []byte) int {
	for i := 1; i <= len(b); i++ {
		if bytes.HasSuffix(b[:i], []byte("\n\n")) || bytes.HasSuffix(b[:i], []byte("\n\r\n")) {
			return i
		}
	}
	return -1
}

// FuzzUpgradeReader runs gobwas/ws's upgrade over the device listener's
// limitedReader, with the input arriving in chunks, and checks that it
// never reads past the limit, hands the upgrade exactly the request, keeps
// every byte after it as early data, and flags an oversized request.
func FuzzUpgradeReader(f *testing.F) {
	req := "GET /device?device_id=d1 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
	f.Add([]byte(req+"\r\n"), uint8(255), uint16(8192))
	f.Add([]byte(req+"\r\n\x81\x85abcdhello"), uint8(7), uint16(8192)) // a frame sent early
	f.Add([]byte(req+"\n"), uint8(1), uint16(8192))                    // bare LF
	f.Add([]byte(req+"X-Pad: "+strings.Repeat("a", 300)+"\r\n\r\n"), uint8(64), uint16(256))
	f.Add([]byte("GET / HTTP/1.1\r\n\r"), uint8(3), uint16(100))
	f.Fuzz(func(t *testing.T, in []byte, chunk uint8, limit uint16) {
		conn := &chunkConn{in: in, chunk: max(int(chunk), 1)}
		lr := &limitedReader{Conn: conn, n: max(int(limit), 1)}
		var path []byte
		u := ws.Upgrader{
			OnRequest: func(uri []byte) error {
				path = append(path[:0], uri...)
				_ = queryValue(uri, "device_id")
				return nil
			},
		}
		_, err := u.Upgrade(lr)
		if conn.pos > max(int(limit), 1) {
			t.Fatalf("read %d bytes with a limit of %d", conn.pos, limit)
		}
		end := requestLen(in)
		if err == nil && !lr.done {
			t.Fatal("upgrade succeeded before the request's end was read")
		}
		if lr.done {
			if consumed := conn.pos - len(lr.early); consumed != end {
				t.Fatalf("request handed to the upgrade: %d bytes, want %d", consumed, end)
			}
			if !bytes.Equal(lr.early, in[end:conn.pos]) {
				t.Fatalf("early data %q, want %q", lr.early, in[end:conn.pos])
			}
		}
		if lr.exceeded && end >= 0 && end <= int(max(limit, 1)) {
			t.Fatalf("flagged too large, but the request ends at %d within the limit %d", end, limit)
		}
	})
}
