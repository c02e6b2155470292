package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseDefaults(t *testing.T) {
	c, err := Parse([]byte("tls:\n  certificates:\n    - {cert: c.pem, key: k.pem}\napp:\n  auth: {mode: none}\n"))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"app.address", c.App.Address, ":8443"},
		{"device.address", c.Device.Address, ":9443"},
		{"ws_path", c.App.WSPath, "/ws"},
		{"device.path", c.Device.Path, "/device"},
		{"max_message", c.App.Limits.MaxMessage, ByteSize(1 << 20)},
		{"queue", c.Device.Limits.QueueBytes, ByteSize(1 << 20)},
		{"write_timeout", c.App.Limits.WriteTimeout, 5 * time.Second},
		{"ping", c.App.Limits.PingInterval, 30 * time.Second},
		{"idle", c.App.Limits.IdleTimeout, 75 * time.Second},
		{"handshake", c.Device.Limits.HandshakeTimeout, 10 * time.Second},
		{"grace", c.ShutdownGrace, 10 * time.Second},
		{"admin", c.Admin.Address, "127.0.0.1:9090"},
		{"subscribe", strings.Join(c.App.Subscribe, ","), "devices/+/up"},
		{"publish", strings.Join(c.App.Publish, ","), "devices/+/down"},
		{"client_auth", c.Device.ClientAuth, "none"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s: got %v, want %v", ch.name, ch.got, ch.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown key names key and line", "dev: true\napp:\n  adress: x\n", "line 3: field adress not found"},
		{"no certificates", "app: {address: ':1'}\n", "tls.certificates: at least one"},
		{"bad client auth", "dev: true\ndevice: {client_auth: maybe}\n", `device.client_auth: want none, optional or require, got "maybe"`},
		{"client auth needs CA", "dev: true\ndevice: {client_auth: require}\n", "tls.client_ca: required"},
		{"bad size", "dev: true\napp: {limits: {max_message: lots}}\n", `invalid size "lots"`},
		{"bad duration", "dev: true\napp: {limits: {idle_timeout: soon}}\n", "soon"},
		{"idle below ping", "dev: true\napp: {limits: {idle_timeout: 10s, ping_interval: 20s}}\n", "app.limits.idle_timeout: must exceed ping_interval"},
		{"bad token hash", "dev: true\ndevice: {tokens: [{device: d1, sha256: abc}]}\n", "device.tokens[0].sha256"},
		{"static and upstream", "dev: true\napp: {static_dir: /x, upstream: 'http://127.0.0.1:1'}\n", "exclusive"},
		{"bad origin", "dev: true\napp: {allowed_origins: [example.com]}\n", "app.allowed_origins"},
		{"bad address", "dev: true\napp: {address: '8443'}\n", `app.address: want host:port, got "8443"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestLoadResolvesRelativePaths(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "wssgate.yaml")
	if err := os.WriteFile(p, []byte("tls:\n  certificates: [{cert: c.pem, key: /abs/k.pem}]\napp:\n  auth: {mode: none}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.TLS.Certificates[0].Cert, filepath.Join(dir, "c.pem"); got != want {
		t.Errorf("cert: got %s, want %s", got, want)
	}
	if got := c.TLS.Certificates[0].Key; got != "/abs/k.pem" {
		t.Errorf("key: got %s, want /abs/k.pem", got)
	}
}

func TestByteSize(t *testing.T) {
	for in, want := range map[string]ByteSize{"512": 512, "64KiB": 64 << 10, "1MiB": 1 << 20, "2 MB": 2e6} {
		got, err := ParseByteSize(in)
		if err != nil || got != want {
			t.Errorf("ParseByteSize(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if got := ByteSize(1 << 20).String(); got != "1MiB" {
		t.Errorf("String: got %s, want 1MiB", got)
	}
}
