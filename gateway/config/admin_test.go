package config

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestAdminDefaults(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       ByteSize
	}{
		{"listeners at 1MiB: at least 4MiB", "", 4 << 20},
		{"device at 32MiB", "device: {limits: {max_message: 32MiB, queue_bytes: 32MiB}}\n", 32<<20 + 64<<10},
		{"app at 8MiB", "app: {limits: {max_message: 8MiB, queue_bytes: 8MiB}}\n", 8<<20 + 64<<10},
		{"set", "admin: {max_message: 32MiB}\n", 32 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte("dev: true\n" + tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if c.Admin.MaxMessage != tt.want {
				t.Errorf("admin.max_message: got %s, want %s", c.Admin.MaxMessage, tt.want)
			}
			if c.Admin.MaxConcurrentStreams != 64 {
				t.Errorf("admin.max_concurrent_streams: got %d, want 64", c.Admin.MaxConcurrentStreams)
			}
		})
	}
}

func TestAdminErrors(t *testing.T) {
	const token = "{name: ops, role: admin, sha256: 0000000000000000000000000000000000000000000000000000000000000000}"
	tests := []struct {
		name, yaml, want string // want "": valid
	}{
		{"client_ca needs clients", "admin: {client_ca: ca.pem}\n", "admin.clients: required with admin.client_ca"},
		{"clients need client_ca", "admin: {clients: [{identity: ops-1, role: admin}]}\n", "admin.client_ca: required with admin.clients"},
		{"bad role", "admin: {client_ca: ca.pem, clients: [{identity: ops-1, role: root}]}\n", `admin.clients[0].role: want read or admin, got "root"`},
		{"no identity", "admin: {client_ca: ca.pem, clients: [{role: read}]}\n", "admin.clients[0].identity: required"},
		{"duplicate", "admin: {client_ca: ca.pem, clients: [{identity: a, role: read}, {identity: a, role: admin}]}\n", `admin.clients[1].identity: "a" is listed twice`},
		{"off loopback without auth", "admin: {address: '0.0.0.0:9090'}\n", `admin.address: "0.0.0.0:9090" is not loopback`},
		{"every interface without auth", "admin: {address: ':9090'}\n", `admin.address: ":9090" is not loopback`},
		{"off loopback with a token", "admin: {address: '0.0.0.0:9090', tokens: [" + token + "]}\n", ""},
		{"off loopback with clients", "admin: {address: '0.0.0.0:9090', client_ca: ca.pem, clients: [{identity: ops-1, role: admin}]}\n", ""},
		{"localhost", "admin: {address: 'localhost:9090'}\n", ""},
		{"max_message too small", "admin: {max_message: 1KiB}\n", "admin.max_message: want 64KiB to 1GiB, got 1KiB"},
		{"max_concurrent_streams", "admin: {max_concurrent_streams: 100000}\n", "admin.max_concurrent_streams: want 1 to 10000"},
		{"tls needs key", "admin: {tls: {cert: a.pem}}\n", "admin.tls: both cert and key are required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte("dev: true\n" + tt.yaml))
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("got %v, want no error", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestAdminPathsRelativeToConfig(t *testing.T) {
	dir := t.TempDir()
	c := &Config{Admin: Admin{ClientCA: "ca.pem", TLS: &CertPair{Cert: "a.pem", Key: "/abs/a.key"}}}
	c.resolvePaths(dir)
	if c.Admin.ClientCA != filepath.Join(dir, "ca.pem") || c.Admin.TLS.Cert != filepath.Join(dir, "a.pem") || c.Admin.TLS.Key != "/abs/a.key" {
		t.Errorf("got %+v %+v", c.Admin, *c.Admin.TLS)
	}
}
