package cluster

import (
	"errors"
	"fmt"
	"strings"

	"github.com/wssgate/wssgate/gateway/hub"
)

// ErrBadSubject is returned (wrapped) by SubjectChannel for a subject that no channel maps to.
var ErrBadSubject = errors.New("cluster: subject is not an encoded channel")

// emptyLevel is the token of an empty channel level. A lone '%' cannot be produced by any other
// level: a real '%' byte is always written as "%25", so every other '%' starts a 3-byte escape.
const emptyLevel = "%"

const upperHex = "0123456789ABCDEF"

// plain reports whether b is written as is in a subject token.
func plain(b byte) bool {
	return 'A' <= b && b <= 'Z' || 'a' <= b && b <= 'z' || '0' <= b && b <= '9' || b == '_' || b == '-'
}

// escapeLevel appends the token of one channel level to dst. Every byte outside [A-Za-z0-9_-]
// becomes %XX (upper-case hex); an empty level becomes "%". In the first level (first is true) a
// leading '_' is escaped too ("%5F"), so that no channel subject has a first token starting with
// '_': those are reserved for the cluster's own subjects (<name>._sys.…, <name>._rpc.…).
func escapeLevel(dst []byte, level string, first bool) []byte {
	if level == "" {
		return append(dst, emptyLevel...)
	}
	for i := 0; i < len(level); i++ {
		b := level[i]
		if plain(b) && !(first && i == 0 && b == '_') {
			dst = append(dst, b)
			continue
		}
		dst = append(dst, '%', upperHex[b>>4], upperHex[b&0xF])
	}
	return dst
}

// unescapeLevel decodes one token written by escapeLevel. It accepts only the canonical form
// (upper-case hex, escapes only where escapeLevel writes them), so the mapping is a bijection.
func unescapeLevel(dst []byte, tok string, first bool) ([]byte, error) {
	if tok == emptyLevel {
		return dst, nil
	}
	if tok == "" {
		return nil, errors.New("empty token")
	}
	for i := 0; i < len(tok); i++ {
		b := tok[i]
		if b != '%' {
			if !plain(b) || (first && i == 0 && b == '_') {
				return nil, fmt.Errorf("byte %q must be escaped", b)
			}
			dst = append(dst, b)
			continue
		}
		if i+2 >= len(tok) {
			return nil, errors.New("truncated escape")
		}
		hi, lo := strings.IndexByte(upperHex, tok[i+1]), strings.IndexByte(upperHex, tok[i+2])
		if hi < 0 || lo < 0 {
			return nil, fmt.Errorf("bad escape %q", tok[i:i+3])
		}
		v := byte(hi<<4 | lo)
		if v == '/' {
			return nil, errors.New("escaped '/' inside a level")
		}
		if plain(v) && !(first && i == 0 && v == '_') {
			return nil, fmt.Errorf("byte %q must not be escaped", v)
		}
		dst = append(dst, v)
		i += 2
	}
	return dst, nil
}

// ChannelSubject returns the NATS subject of channel in the cluster called name: name, then one
// escaped token per '/'-separated level (see the package documentation). It does not validate
// channel; Broker.Publish does.
func ChannelSubject(name, channel string) string {
	dst := make([]byte, 0, len(name)+1+len(channel)+8)
	dst = append(dst, name...)
	first := true
	for rest, more := channel, true; more; first = false {
		var level string
		level, rest, more = strings.Cut(rest, "/")
		dst = append(dst, '.')
		dst = escapeLevel(dst, level, first)
	}
	return string(dst)
}

// SubjectChannel is the inverse of ChannelSubject: it returns the channel that subject encodes,
// or an error wrapping ErrBadSubject (a subject of another cluster, a reserved '_' subject, or a
// token that ChannelSubject would not write).
func SubjectChannel(name, subject string) (string, error) {
	rest, ok := strings.CutPrefix(subject, name)
	if !ok || !strings.HasPrefix(rest, ".") {
		return "", fmt.Errorf("%w: %q is not under %q", ErrBadSubject, subject, name+".")
	}
	rest = rest[1:]
	dst := make([]byte, 0, len(rest))
	first := true
	for more := true; more; first = false {
		var tok string
		tok, rest, more = strings.Cut(rest, ".")
		if !first {
			dst = append(dst, '/')
		}
		var err error
		if dst, err = unescapeLevel(dst, tok, first); err != nil {
			return "", fmt.Errorf("%w: %q: %v", ErrBadSubject, subject, err)
		}
	}
	return string(dst), nil
}

// PatternSubjects returns the NATS subjects whose union matches exactly the channels matched by
// pattern: '+' becomes '*', a final '#' becomes '>', other levels are escaped as by
// ChannelSubject. A final "#" after other levels also matches the parent channel ("a/#" matches
// "a", as in MQTT), so "a/#" gives two disjoint subjects, "<name>.a" and "<name>.a.>": a message
// matches at most one of them. The pattern must be valid (hub.ValidPattern).
func PatternSubjects(name, pattern string) ([]string, error) {
	if err := hub.ValidPattern(pattern); err != nil {
		return nil, err
	}
	dst := make([]byte, 0, len(name)+1+len(pattern)+8)
	dst = append(dst, name...)
	first := true
	for rest, more := pattern, true; more; first = false {
		var level string
		level, rest, more = strings.Cut(rest, "/")
		switch level {
		case "#":
			if first {
				// Every channel has at least one level: "#" is "<name>.>".
				return []string{string(append(dst, ".>"...))}, nil
			}
			return []string{string(dst), string(append(dst, ".>"...))}, nil
		case "+":
			dst = append(dst, ".*"...)
		default:
			dst = append(dst, '.')
			dst = escapeLevel(dst, level, first)
		}
	}
	return []string{string(dst)}, nil
}

// token escapes s as one subject token (node and method names in RPC subjects).
func token(s string) string {
	return string(escapeLevel(nil, s, false))
}
