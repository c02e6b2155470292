package auth

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/wssgate/wssgate/gateway/hub"
)

// SubPlaceholder in a listener's subscribe or publish pattern is replaced by
// the session's identity, e.g. "users/{sub}/#".
const SubPlaceholder = "{sub}"

// Narrow returns the patterns one session may use. ceiling is the
// listener's list (app.subscribe or app.publish) with {sub} expanded to sub;
// when sub is not a single safe channel level (empty, or containing '/',
// '+', '#', a NUL or control character, or invalid UTF-8) the patterns that
// use {sub} are dropped. Without a grant (hasGrant false) the expanded
// ceiling is returned; with one, each granted pattern is kept only if some
// expanded ceiling pattern covers it (hub.Covers), so a token never exceeds
// the listener. Invalid patterns are dropped. The result is never nil.
func Narrow(ceiling []string, sub string, granted []string, hasGrant bool) []string {
	expanded := make([]string, 0, len(ceiling))
	for _, p := range ceiling {
		if strings.Contains(p, SubPlaceholder) {
			if !safeLevel(sub) {
				continue
			}
			p = strings.ReplaceAll(p, SubPlaceholder, sub)
		}
		if hub.ValidPattern(p) == nil {
			expanded = append(expanded, p)
		}
	}
	if !hasGrant {
		return expanded
	}
	out := make([]string, 0, len(granted))
	for _, g := range granted {
		if coveredBy(expanded, g) && !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out
}

func coveredBy(ceiling []string, p string) bool {
	for _, c := range ceiling {
		if hub.Covers(c, p) {
			return true
		}
	}
	return false
}

// safeLevel reports whether s can stand for exactly one channel level.
func safeLevel(s string) bool {
	if s == "" || len(s) > 256 || !utf8.ValidString(s) || strings.ContainsAny(s, "/+#") {
		return false
	}
	return !strings.ContainsFunc(s, unicode.IsControl)
}
