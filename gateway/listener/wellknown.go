package listener

import (
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// Endpoints are the public coordinates a page needs; the host is the
// configured public host, else the request's (see For).
type Endpoints struct {
	PublicHost string // app.public_host: overrides the request's host
	// DevicePublicHost (device.public_host) overrides the host of the device
	// URL; DeviceBindIP is the device listener's IP when it is bound to one
	// (not a wildcard), named when the request's host is loopback but the
	// device listener is not.
	DevicePublicHost, DeviceBindIP string
	AppPort                        int
	WSPath                         string
	DevicePort                     int
	DevicePath                     string
}

// WellKnown is the JSON document at /.well-known/wssgate.
type WellKnown struct {
	AppURL      string `json:"app_url"`
	AppWSURL    string `json:"app_ws_url"`
	DeviceWSURL string `json:"device_ws_url"`
}

// For returns the endpoints as seen by a client that asked for host (a
// Host header): public hosts first, else that host, with each listener's
// public (by default its real) port.
func (e Endpoints) For(host string) WellKnown {
	if e.PublicHost != "" {
		host = e.PublicHost
	}
	host = bareHost(host)
	devHost := host
	switch {
	case e.DevicePublicHost != "":
		devHost = bareHost(e.DevicePublicHost)
	case e.PublicHost == "" && isLoopback(host) && e.DeviceBindIP != "" && !isLoopback(e.DeviceBindIP):
		devHost = e.DeviceBindIP // "localhost" would not reach it
	}
	hp := func(h string, port int) string { return net.JoinHostPort(h, strconv.Itoa(port)) }
	return WellKnown{
		AppURL:      "https://" + hp(host, e.AppPort) + "/",
		AppWSURL:    "wss://" + hp(host, e.AppPort) + e.WSPath,
		DeviceWSURL: "wss://" + hp(devHost, e.DevicePort) + e.DevicePath,
	}
}

// bareHost drops the port and brackets of a host.
func bareHost(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.Trim(host, "[]")
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// BindIP returns the IP a listener is bound to, "" for a wildcard.
func BindIP(a net.Addr) string {
	t, ok := a.(*net.TCPAddr)
	if !ok || t.IP == nil || t.IP.IsUnspecified() {
		return ""
	}
	return t.IP.String()
}

func (a *App) serveWellKnown(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	_ = json.NewEncoder(w).Encode(a.Endpoints.For(r.Host))
}
