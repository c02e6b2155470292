package hub

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxLen is the maximum length in bytes of a channel or a pattern.
const MaxLen = 512

// Sentinel errors returned (wrapped with details) by ValidChannel and ValidPattern.
var (
	// ErrInvalidChannel reports a channel that ValidChannel rejects.
	ErrInvalidChannel = errors.New("hub: invalid channel")
	// ErrInvalidPattern reports a pattern that ValidPattern rejects.
	ErrInvalidPattern = errors.New("hub: invalid pattern")
)

// ValidChannel reports whether s can be published to: it must be non-empty, at most MaxLen bytes,
// valid UTF-8, and contain no NUL byte and no wildcard ('+' or '#'). Empty levels are allowed.
// The returned error wraps ErrInvalidChannel.
func ValidChannel(s string) error {
	if reason := checkCommon(s); reason != "" {
		return invalid(ErrInvalidChannel, s, reason)
	}
	if strings.ContainsAny(s, "+#") {
		return invalid(ErrInvalidChannel, s, "wildcards '+' and '#' are not allowed in a channel")
	}
	return nil
}

// ValidPattern reports whether s can be subscribed to: the rules of ValidChannel, except that a
// level may be exactly "+" (one level) and the last level may be exactly "#" (zero or more
// levels). A '+' or '#' inside a longer level, or a '#' before the last level, is rejected.
// The returned error wraps ErrInvalidPattern.
func ValidPattern(s string) error {
	if reason := checkCommon(s); reason != "" {
		return invalid(ErrInvalidPattern, s, reason)
	}
	for rest, more := s, true; more; {
		var level string
		level, rest, more = cutLevel(rest)
		switch {
		case level == "#" && more:
			return invalid(ErrInvalidPattern, s, "'#' must be the last level")
		case level == "+" || level == "#":
		case strings.ContainsAny(level, "+#"):
			return invalid(ErrInvalidPattern, s, "a wildcard must occupy a whole level")
		}
	}
	return nil
}

// checkCommon returns why s is not acceptable as a channel or pattern, or "".
func checkCommon(s string) string {
	switch {
	case s == "":
		return "empty"
	case len(s) > MaxLen:
		return fmt.Sprintf("longer than %d bytes", MaxLen)
	case strings.IndexByte(s, 0) >= 0:
		return "contains a NUL byte"
	case !utf8.ValidString(s):
		return "not valid UTF-8"
	}
	return ""
}

// invalid builds a validation error; long inputs are not echoed back.
func invalid(sentinel error, s, reason string) error {
	if len(s) > 64 {
		return fmt.Errorf("%w (%d bytes): %s", sentinel, len(s), reason)
	}
	return fmt.Errorf("%w %q: %s", sentinel, s, reason)
}

// cutLevel splits s at its first '/': level is the text before it, rest the text after, and more
// reports whether there was a '/' (so rest, even empty, is one more level).
func cutLevel(s string) (level, rest string, more bool) {
	if i := strings.IndexByte(s, '/'); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}

// Match reports whether pattern matches channel. It returns false if pattern is not a valid
// pattern or channel is not a valid channel.
func Match(pattern, channel string) bool {
	if ValidPattern(pattern) != nil || ValidChannel(channel) != nil {
		return false
	}
	p, c := pattern, channel
	for {
		pl, prest, pmore := cutLevel(p)
		if pl == "#" {
			return true
		}
		cl, crest, cmore := cutLevel(c)
		if pl != "+" && pl != cl {
			return false
		}
		switch {
		case !pmore:
			return !cmore
		case !cmore:
			// Channel exhausted: only a final "#" (zero levels) can still match.
			return prest == "#"
		}
		p, c = prest, crest
	}
}

// Covers reports whether every channel matched by inner is also matched by outer, for example
// to check a requested subscription against an allow-list: Covers("devices/+/up",
// "devices/42/up") is true, Covers("devices/+/up", "devices/#") is false. A channel is a pattern
// without wildcards, so Covers(p, ch) equals Match(p, ch) for a valid channel. It returns false
// if either argument is not a valid pattern.
func Covers(outer, inner string) bool {
	if ValidPattern(outer) != nil || ValidPattern(inner) != nil {
		return false
	}
	o, i := outer, inner
	if i == "#" {
		// A channel has at least one level, so a leading "#" means one or more levels.
		i = "+/#"
	}
	for {
		ol, orest, omore := cutLevel(o)
		if ol == "#" {
			return true
		}
		il, irest, imore := cutLevel(i)
		switch {
		case il == "#":
			// inner matches any number of further levels; only an outer "#" does as well.
			return false
		case ol != "+" && (il == "+" || il != ol):
			return false
		case !omore:
			return !imore
		case !imore:
			return orest == "#"
		}
		o, i = orest, irest
	}
}
