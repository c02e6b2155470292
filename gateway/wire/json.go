package wire

import (
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// frameOffset is the room kept in front of a payload built in place,
// enough for the largest frame header; FinishText writes the header into
// it at the end.
const frameOffset = 10

// TextFrameBuffer returns an empty buffer for a text payload of about n
// bytes, built in place with append and closed by FinishText: one
// allocation for header and payload.
func TextFrameBuffer(n int) []byte { return make([]byte, frameOffset, frameOffset+n) }

// FinishText writes a text frame header right before b[frameOffset:] (b
// from TextFrameBuffer) and returns the frame.
func FinishText(b []byte) []byte {
	n := len(b) - frameOffset
	start := frameOffset - headerLen(n)
	appendHeader(b[start:start], ws.OpText, n)
	return b[start:]
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string. Invalid UTF-8 becomes
// U+FFFD, as encoding/json does; <, > and & are not escaped.
func AppendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
