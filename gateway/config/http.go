package config

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"
)

// Defaults of app.http.
const (
	DefaultHTTPReadTimeout  = 30 * time.Second
	DefaultHTTPWriteTimeout = 60 * time.Second
)

// AppHTTP bounds the app listener's plain HTTP requests: every route but
// WebSocket upgrades (on ws_path or proxied), whose sessions have their own
// idle and write timeouts.
type AppHTTP struct {
	// ReadTimeout bounds reading one request's body, from the end of its
	// headers (the headers are bounded by limits.handshake_timeout). A body
	// trickled slower is cut and the connection closed. Default 30s.
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// WriteTimeout bounds writing one response, from the end of the
	// request's headers: a large static file or proxied response at a slow
	// reader is cut when it runs out. Default 60s; raise it when clients
	// download large files over slow links.
	WriteTimeout time.Duration `yaml:"write_timeout"`
}

func (h *AppHTTP) applyDefaults() {
	if h.ReadTimeout == 0 {
		h.ReadTimeout = DefaultHTTPReadTimeout
	}
	if h.WriteTimeout == 0 {
		h.WriteTimeout = DefaultHTTPWriteTimeout
	}
}

// validateHTTP checks app.http and app.trusted_proxies.
func (a App) validateHTTP(bad badFunc) {
	if a.HTTP.ReadTimeout < 0 {
		bad("app.http.read_timeout", "must not be negative")
	}
	if a.HTTP.WriteTimeout < 0 {
		bad("app.http.write_timeout", "must not be negative")
	}
	if _, err := ParsePrefixes(a.TrustedProxies); err != nil {
		bad("app.trusted_proxies", "%v", err)
	}
}

// ParsePrefixes parses CIDRs ("10.0.0.0/8") and single addresses
// ("192.0.2.7", one /32 or /128), as app.trusted_proxies lists them.
func ParsePrefixes(ss []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(ss))
	for _, s := range ss {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		ip, err := netip.ParseAddr(s)
		if err != nil || net.ParseIP(s) == nil {
			return nil, fmt.Errorf("want a CIDR such as 10.0.0.0/8 or an IP address, got %q", s)
		}
		ip = ip.Unmap()
		out = append(out, netip.PrefixFrom(ip, ip.BitLen()))
	}
	return out, nil
}
