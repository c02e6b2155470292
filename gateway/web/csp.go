package web

import (
	"net/http"
	"strings"
)

// cspBase allows scripts, styles, images and connections from the page's own
// origin only. No 'unsafe-inline': every script and style lives in a file.
// The favicon is an empty data: URL, hence img-src data:.
const cspBase = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'; connect-src 'self'"

// setSecurityHeaders sets the headers every response of this package carries.
func setSecurityHeaders(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy(r.Host))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
}

// contentSecurityPolicy returns the policy for a page requested with host.
// CSP Level 3 lets 'self' match wss: on the same host and port, but older
// browsers do not, so the same-origin wss: source is named explicitly when host
// is a plain host[:port] (anything else could inject directives, and is left out).
func contentSecurityPolicy(host string) string {
	if !isPlainHost(host) {
		return cspBase
	}
	return cspBase + " wss://" + host
}

// isPlainHost reports whether host holds only the characters of a DNS name, an
// IPv4 or bracketed IPv6 address and a port.
func isPlainHost(host string) bool {
	if host == "" || len(host) > 262 {
		return false
	}
	return strings.IndexFunc(host, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '.' || c == '-' || c == ':' || c == '[' || c == ']')
	}) < 0
}
