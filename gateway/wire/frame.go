package wire

import (
	"encoding/binary"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// Frame returns one complete, unmasked (server-to-client) WebSocket frame
// with FIN set: header and payload in one slice, ready to write as is.
func Frame(op ws.OpCode, payload []byte) []byte {
	b := make([]byte, 0, headerLen(len(payload))+len(payload))
	b = appendHeader(b, op, len(payload))
	return append(b, payload...)
}

// headerLen is the size of an unmasked server frame header.
func headerLen(n int) int {
	switch {
	case n < 126:
		return 2
	case n <= 0xffff:
		return 4
	}
	return 10
}

// appendHeader appends an unmasked FIN frame header. Written by hand
// because ws.WriteHeader needs an io.Writer and this runs per fan-out.
func appendHeader(b []byte, op ws.OpCode, n int) []byte {
	b = append(b, 0x80|byte(op))
	switch {
	case n < 126:
		return append(b, byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, 126), uint16(n))
	}
	return binary.BigEndian.AppendUint64(append(b, 127), uint64(n))
}

// CloseFrame returns a close frame with code and reason. The reason is cut
// to fit the 125-byte control payload, on a UTF-8 boundary.
func CloseFrame(code ws.StatusCode, reason string) []byte {
	if len(reason) > 123 {
		reason = reason[:123]
		for len(reason) > 0 && !utf8.ValidString(reason) {
			reason = reason[:len(reason)-1]
		}
	}
	p := make([]byte, 2, 2+len(reason))
	binary.BigEndian.PutUint16(p, uint16(code))
	return Frame(ws.OpClose, append(p, reason...))
}

// ValidCloseCode reports whether a peer may send code in a close frame
// (RFC 6455 7.4 and the IANA registry): 1000-1003, 1007-1014 and
// 3000-4999. 1004-1006, 1015 and everything else are refused. gobwas/ws's
// own check refuses 1012-1014, which are registered and valid.
func ValidCloseCode(code ws.StatusCode) bool {
	switch {
	case code >= 1000 && code <= 1003:
		return true
	case code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// ParseClose reads a close frame payload. An empty payload means no code
// (1005, not sent on the wire). It reports ok=false for a payload of one
// byte, an invalid code, or a reason that is not UTF-8.
func ParseClose(p []byte) (code ws.StatusCode, reason string, ok bool) {
	switch {
	case len(p) == 0:
		return ws.StatusNoStatusRcvd, "", true
	case len(p) == 1:
		return 0, "", false
	}
	code = ws.StatusCode(binary.BigEndian.Uint16(p))
	reason = string(p[2:])
	return code, reason, ValidCloseCode(code) && utf8.ValidString(reason)
}
