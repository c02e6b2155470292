package auth

import (
	"net/http"
	"net/url"
	"testing"
)

func TestTokenFromRequest(t *testing.T) {
	tests := []struct {
		name       string
		auth       string
		cookie     string // Cookie header
		cookieName string
		query      string
		tok, src   string
	}{
		{"bearer", "Bearer abc", "", "", "", "abc", SourceHeader},
		{"scheme case-insensitive", "bEaReR abc", "", "", "", "abc", SourceHeader},
		{"spaces trimmed", "  Bearer   abc  ", "", "", "", "abc", SourceHeader},
		{"header beats cookie and query", "Bearer h", "tok=c", "tok", "token=q", "h", SourceHeader},
		{"basic is not bearer", "Basic dXNlcjpwdw==", "", "", "token=q", "q", SourceQuery},
		{"empty bearer falls through", "Bearer ", "", "", "token=q", "q", SourceQuery},
		{"cookie", "", "a=1; tok=c; b=2", "tok", "token=q", "c", SourceCookie},
		{"cookie not configured", "", "tok=c", "", "token=q", "q", SourceQuery},
		{"cookie absent", "", "a=1", "tok", "token=q", "q", SourceQuery},
		{"query", "", "", "", "a=1&token=q", "q", SourceQuery},
		{"none", "", "", "tok", "a=1", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.auth != "" {
				h.Set("Authorization", tt.auth)
			}
			if tt.cookie != "" {
				h.Set("Cookie", tt.cookie)
			}
			q, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			tok, src := TokenFromRequest(h, q, tt.cookieName)
			if tok != tt.tok || src != tt.src {
				t.Errorf("got %q from %q, want %q from %q", tok, src, tt.tok, tt.src)
			}
		})
	}
}

func TestRedactQuery(t *testing.T) {
	tests := map[string]string{
		"":                                  "",
		"token=abc":                         "token=REDACTED",
		"a=1&token=abc&b=2":                 "a=1&token=REDACTED&b=2",
		"access_token=abc&device_id=d1":     "access_token=REDACTED&device_id=d1",
		"tok%65n=abc":                       "tok%65n=REDACTED",
		"token=a&token=b":                   "token=REDACTED&token=REDACTED",
		"tokens=keep&mytoken=keep":          "tokens=keep&mytoken=keep",
		"token":                             "token=REDACTED",
		"device_id=d1":                      "device_id=d1",
		"x=%zz&token=abc":                   "x=%zz&token=REDACTED",
		"token=eyJhbGciOi.eyJzdWIi.c2lnbmF": "token=REDACTED",
	}
	for in, want := range tests {
		if got := RedactQuery(in); got != want {
			t.Errorf("RedactQuery(%q) = %q, want %q", in, got, want)
		}
	}
}
