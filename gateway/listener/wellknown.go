package listener

import (
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// Endpoints are the public coordinates a page needs; Host is filled in
// from each request unless PublicHost is set.
type Endpoints struct {
	PublicHost string // overrides the request's host
	AppPort    int
	WSPath     string
	DevicePort int
	DevicePath string
}

// WellKnown is the JSON document at /.well-known/wssgate.
type WellKnown struct {
	AppURL      string `json:"app_url"`
	AppWSURL    string `json:"app_ws_url"`
	DeviceWSURL string `json:"device_ws_url"`
}

// For returns the endpoints as seen by a client that asked for host.
func (e Endpoints) For(host string) WellKnown {
	if e.PublicHost != "" {
		host = e.PublicHost
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	hp := func(port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }
	return WellKnown{
		AppURL:      "https://" + hp(e.AppPort) + "/",
		AppWSURL:    "wss://" + hp(e.AppPort) + e.WSPath,
		DeviceWSURL: "wss://" + hp(e.DevicePort) + e.DevicePath,
	}
}

func (a *App) serveWellKnown(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	_ = json.NewEncoder(w).Encode(a.Endpoints.For(r.Host))
}
