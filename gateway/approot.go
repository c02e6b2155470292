package gateway

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"slices"

	"github.com/wssgate/wssgate/gateway/config"
	"github.com/wssgate/wssgate/gateway/web"
)

// appRoot is what "/" serves: static files, a reverse proxy, or the demo.
func appRoot(c config.App) (http.Handler, error) {
	switch {
	case c.StaticDir != "":
		return web.Static(c.StaticDir)
	case c.Upstream != "":
		u, err := url.Parse(c.Upstream)
		if err != nil {
			return nil, fmt.Errorf("app.upstream: %w", err)
		}
		trusted, err := config.ParsePrefixes(c.TrustedProxies)
		if err != nil {
			return nil, fmt.Errorf("app.trusted_proxies: %w", err)
		}
		// ReverseProxy passes WebSocket upgrades on other paths through;
		// the app listener bounds them (listener/proxied.go).
		return &httputil.ReverseProxy{
			Rewrite: func(r *httputil.ProxyRequest) {
				r.SetURL(u)
				r.Out.Host = r.In.Host
				setForwarded(r, trusted)
			},
		}, nil
	}
	return web.Handler(), nil
}

// setForwarded sets X-Forwarded-For, X-Real-IP and X-Forwarded-Host/Proto
// from the connection. A client's own values never pass (anyone could name
// any address), unless its address is in trusted (app.trusted_proxies): a
// trusted proxy's X-Forwarded-For is extended with its address and its
// X-Real-IP kept.
func setForwarded(r *httputil.ProxyRequest, trusted []netip.Prefix) {
	realIP := r.In.Header.Get("X-Real-IP")
	r.Out.Header.Del("X-Real-IP")
	r.Out.Header.Del("X-Forwarded-For") // Rewrite already drops it; say so
	peer := peerAddr(r.In.RemoteAddr)
	if peer.IsValid() && slices.ContainsFunc(trusted, func(p netip.Prefix) bool { return p.Contains(peer) }) {
		if xff := r.In.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			r.Out.Header["X-Forwarded-For"] = slices.Clone(xff) // SetXForwarded appends the peer
		}
	} else {
		realIP = ""
	}
	r.SetXForwarded()
	if realIP == "" && peer.IsValid() {
		realIP = peer.String()
	}
	if realIP != "" {
		r.Out.Header.Set("X-Real-IP", realIP)
	}
}

// peerAddr is the IP of a "host:port" remote address (IPv4-mapped
// addresses unmapped), or the zero Addr.
func peerAddr(remote string) netip.Addr {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		return netip.Addr{}
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return ip.Unmap()
}
