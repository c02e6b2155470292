package gateway

import (
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"

	"github.com/wssgate/wssgate/gateway/config"
	"github.com/wssgate/wssgate/gateway/web"
)

// appRoot is what "/" serves: static files, a reverse proxy, or the demo.
func appRoot(c config.App) (http.Handler, error) {
	switch {
	case c.StaticDir != "":
		return http.FileServer(http.Dir(c.StaticDir)), nil
	case c.Upstream != "":
		u, err := url.Parse(c.Upstream)
		if err != nil {
			return nil, fmt.Errorf("app.upstream: %w", err)
		}
		// ReverseProxy passes WebSocket upgrades on other paths through.
		return &httputil.ReverseProxy{
			Rewrite: func(r *httputil.ProxyRequest) {
				r.SetURL(u)
				r.SetXForwarded()
				r.Out.Host = r.In.Host
			},
		}, nil
	}
	return web.Handler(), nil
}
