package listener

import "testing"

func TestEndpointsFor(t *testing.T) {
	base := Endpoints{AppPort: 8443, WSPath: "/ws", DevicePort: 9443, DevicePath: "/device"}
	with := func(f func(*Endpoints)) Endpoints { e := base; f(&e); return e }
	tests := []struct {
		name     string
		e        Endpoints
		host     string
		app, dev string // app_ws_url, device_ws_url
	}{
		{"request host", base, "localhost:8443", "wss://localhost:8443/ws", "wss://localhost:9443/device"},
		{"IPv6 request host", base, "[::1]:8443", "wss://[::1]:8443/ws", "wss://[::1]:9443/device"},
		{"app public host", with(func(e *Endpoints) { e.PublicHost = "gw.example.com" }), "localhost", "wss://gw.example.com:8443/ws", "wss://gw.example.com:9443/device"},
		{"device public host", with(func(e *Endpoints) { e.DevicePublicHost = "dev.example.com:1" }), "gw.example.com", "wss://gw.example.com:8443/ws", "wss://dev.example.com:9443/device"},
		{"device bound elsewhere, loopback request", with(func(e *Endpoints) { e.DeviceBindIP = "192.0.2.7" }), "localhost:8443", "wss://localhost:8443/ws", "wss://192.0.2.7:9443/device"},
		{"device bound elsewhere, named request", with(func(e *Endpoints) { e.DeviceBindIP = "192.0.2.7" }), "gw.example.com", "wss://gw.example.com:8443/ws", "wss://gw.example.com:9443/device"},
		{"device on loopback", with(func(e *Endpoints) { e.DeviceBindIP = "127.0.0.1" }), "localhost:8443", "wss://localhost:8443/ws", "wss://localhost:9443/device"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.e.For(tt.host)
			if got.AppWSURL != tt.app || got.DeviceWSURL != tt.dev {
				t.Fatalf("For(%q): got %s and %s, want %s and %s", tt.host, got.AppWSURL, got.DeviceWSURL, tt.app, tt.dev)
			}
		})
	}
}
