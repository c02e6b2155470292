package main

import (
	"bytes"
	"strconv"

	"github.com/gobwas/ws"
)

const opText = ws.OpText

// appendPayload appends "seq=S ts=T " padded with '.' to size bytes (longer if
// the numbers need it): the message a device publishes or an app commands. T is
// the send time in Unix nanoseconds.
func appendPayload(b []byte, seq, ts int64, size int) []byte {
	start := len(b)
	b = append(b, "seq="...)
	b = strconv.AppendInt(b, seq, 10)
	b = append(b, " ts="...)
	b = strconv.AppendInt(b, ts, 10)
	b = append(b, ' ')
	for len(b)-start < size {
		b = append(b, '.')
	}
	return b
}

// parsePayload finds seq and ts in p, which may be the payload itself or an app
// envelope that embeds it as a JSON string.
func parsePayload(p []byte) (seq, ts int64, ok bool) {
	seq, rest, ok := numberAfter(p, "seq=")
	if !ok {
		return 0, 0, false
	}
	ts, _, ok = numberAfter(rest, "ts=")
	return seq, ts, ok
}

// numberAfter parses the decimal number that follows the first key in p.
func numberAfter(p []byte, key string) (int64, []byte, bool) {
	i := bytes.Index(p, []byte(key))
	if i < 0 {
		return 0, nil, false
	}
	p = p[i+len(key):]
	var n int64
	j := 0
	for ; j < len(p) && p[j] >= '0' && p[j] <= '9'; j++ {
		n = n*10 + int64(p[j]-'0')
	}
	if j == 0 {
		return 0, nil, false
	}
	return n, p[j:], true
}

// envelopeType returns the "type" of an app envelope, found without decoding.
func envelopeType(p []byte) (string, bool) {
	const key = `"type":"`
	i := bytes.Index(p, []byte(key))
	if i < 0 {
		return "", false
	}
	p = p[i+len(key):]
	j := bytes.IndexByte(p, '"')
	if j < 0 {
		return "", false
	}
	return string(p[:j]), true
}
