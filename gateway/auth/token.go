package auth

import (
	"net/http"
	"net/url"
	"strings"
)

// Where TokenFromRequest found the token.
const (
	SourceHeader = "header" // Authorization: Bearer
	SourceCookie = "cookie" // the configured cookie
	SourceQuery  = "query"  // ?token=
)

// TokenFromRequest returns the bearer token of an upgrade request and where
// it was found: "Authorization: Bearer <t>" (scheme case-insensitive, spaces
// trimmed), else the cookie named cookie (if cookie is not ""), else the
// "token" query parameter. It returns "", "" when there is none.
func TokenFromRequest(h http.Header, query url.Values, cookie string) (tok, source string) {
	if t := bearer(h.Get("Authorization")); t != "" {
		return t, SourceHeader
	}
	if cookie != "" {
		if c, err := (&http.Request{Header: h}).Cookie(cookie); err == nil {
			if t := strings.TrimSpace(c.Value); t != "" {
				return t, SourceCookie
			}
		}
	}
	if t := strings.TrimSpace(query.Get("token")); t != "" {
		return t, SourceQuery
	}
	return "", ""
}

// bearer returns the credentials of an "Authorization: Bearer <t>" value.
func bearer(v string) string {
	scheme, rest, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(rest)
}

// RedactQuery returns rawQuery with the values of "token" and
// "access_token" (however their names are percent-encoded) replaced by
// REDACTED, for logs. Everything else is kept as it was.
func RedactQuery(rawQuery string) string {
	if rawQuery == "" {
		return ""
	}
	parts := strings.Split(rawQuery, "&")
	for i, p := range parts {
		key, _, _ := strings.Cut(p, "=")
		name, err := url.QueryUnescape(key)
		if err != nil {
			name = key
		}
		if name == "token" || name == "access_token" {
			parts[i] = key + "=REDACTED"
		}
	}
	return strings.Join(parts, "&")
}
