package listener

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
)

// queryValue returns the unescaped value of key in a raw query, "" if
// absent or malformed. It allocates only for the value it returns.
func queryValue(query []byte, key string) string {
	for len(query) > 0 {
		var pair []byte
		pair, query, _ = bytes.Cut(query, []byte("&"))
		k, v, _ := bytes.Cut(pair, []byte("="))
		if string(k) == key {
			s, err := url.QueryUnescape(string(v))
			if err != nil {
				return ""
			}
			return s
		}
	}
	return ""
}

// limitedReader is what the upgrade reads from: it bounds the request
// (gobwas/ws does not bound header lines by itself) and stops at its end,
// the first empty line. gobwas/ws reads through a pooled buffer that it
// drops after the upgrade, so bytes past the request (frames a client sent
// without waiting for the 101) are kept in early instead of being lost.
type limitedReader struct {
	net.Conn
	n        int
	exceeded bool
	eol      int    // bytes of an empty line seen so far: 1 after "\n", 2 after "\n\r"
	done     bool   // the request's end was read
	early    []byte // what came after it
	header   headerCheck
}

var (
	errRequestTooLarge = errors.New("listener: upgrade request too large")
	errBadHeader       = errors.New("listener: malformed upgrade request header")
)

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.done {
		return 0, io.EOF
	}
	if l.n <= 0 {
		l.exceeded = true
		return 0, errRequestTooLarge
	}
	if len(p) > l.n {
		p = p[:l.n]
	}
	n, err := l.Conn.Read(p)
	l.n -= n
	end := l.requestEnd(p[:n])
	if l.header.bad != "" {
		return 0, errBadHeader
	}
	if end >= 0 {
		l.done = true
		l.early = append([]byte(nil), p[end:n]...)
		return end, nil
	}
	return n, err
}

// requestEnd returns the offset just past the empty line that ends the
// request in b, or -1; the state carries over between reads. Lines may end
// in "\r\n" or "\n", as gobwas/ws accepts both.
func (l *limitedReader) requestEnd(b []byte) int {
	for i, c := range b {
		l.header.feed(c)
		switch {
		case c == '\n' && l.eol > 0:
			return i + 1
		case c == '\n':
			l.eol = 1
		case c == '\r' && l.eol == 1:
			l.eol = 2
		default:
			l.eol = 0
		}
	}
	return -1
}

// headerCheck follows the request's header lines byte by byte, as
// limitedReader passes them, for what gobwas/ws lets through: control
// bytes in a header line, a repeated Sec-WebSocket-Key (gobwas keeps the
// last), and both Content-Length and Transfer-Encoding (a request
// smuggling vector). It keeps only a short name buffer.
type headerCheck struct {
	line         int  // line number: 0 is the request line
	inValue      bool // past the colon of the current header line
	cr           bool // the previous byte was '\r'
	name         [len("transfer-encoding")]byte
	nameLen      int // > len(name): a name we do not look for
	keys, cl, te int
	bad          string // why the request is refused; "" while it is fine
}

func (h *headerCheck) feed(c byte) {
	if h.bad != "" {
		return
	}
	if h.cr && c != '\n' {
		h.bad = "bare CR in the request header"
		return
	}
	h.cr = c == '\r'
	switch {
	case c == '\n':
		h.line, h.inValue, h.nameLen = h.line+1, false, 0
	case c == '\r' || h.line == 0:
	case c < 0x20 && c != '\t' || c == 0x7f:
		h.bad = fmt.Sprintf("control byte 0x%02x in a header", c)
	case !h.inValue && c == ':':
		h.inValue = true
		h.named()
	case !h.inValue && h.nameLen < len(h.name):
		h.name[h.nameLen] = c | 0x20 // ASCII lower case; only letters and '-' are compared
		h.nameLen++
	case !h.inValue:
		h.nameLen = len(h.name) + 1
	}
}

// named counts the header whose name just ended.
func (h *headerCheck) named() {
	if h.nameLen > len(h.name) {
		return
	}
	switch string(bytes.TrimSpace(h.name[:h.nameLen])) {
	case "sec-websocket-key":
		h.keys++
	case "content-length":
		h.cl++
	case "transfer-encoding":
		h.te++
	}
	switch {
	case h.keys > 1:
		h.bad = "duplicate Sec-WebSocket-Key"
	case h.cl > 0 && h.te > 0:
		h.bad = "both Content-Length and Transfer-Encoding"
	}
}

// earlyConn is a connection whose first reads return bytes read ahead.
type earlyConn struct {
	net.Conn
	early []byte
}

func (c *earlyConn) Read(p []byte) (int, error) {
	if len(c.early) > 0 {
		n := copy(p, c.early)
		c.early = c.early[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// withEarlyData returns conn, or conn behind early if there is any.
func withEarlyData(conn net.Conn, early []byte) net.Conn {
	if len(early) == 0 {
		return conn
	}
	return &earlyConn{Conn: conn, early: early}
}
