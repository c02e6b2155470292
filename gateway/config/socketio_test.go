package config

import (
	"strings"
	"testing"
)

func TestSocketIOConfig(t *testing.T) {
	c := Dev()
	if !c.App.SocketIO.On() || c.App.SocketIO.Path != "/socket.io/" || c.App.SocketIO.PingInterval != DefaultSocketIOPingInterval {
		t.Fatalf("defaults: %+v, want on at /socket.io/ with 25s pings", c.App.SocketIO)
	}
	for _, tt := range []struct{ path, want string }{
		{"socket.io", "app.socketio.path"},
		{"/ws/", "app.ws_path"},
	} {
		c := Dev()
		c.App.SocketIO.Path = tt.path
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("path %q: got %v, want an error naming %s", tt.path, err, tt.want)
		}
	}
	off := false
	c.App.SocketIO.Enabled = &off
	if c.App.SocketIO.On() {
		t.Fatal("enabled: false is on")
	}
}
