package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestClusterConfig(t *testing.T) {
	for _, tt := range []struct {
		name, yaml, wantErr string
	}{
		{"absent", "", ""},
		{"two servers", "cluster: {nats: [nats://a:4222, tls://b:4222]}", ""},
		{"http URL", "cluster: {nats: [http://a:4222]}", "cluster.nats[0]: want a nats://host:port or tls://host:port URL"},
		{"no host", "cluster: {nats: ['nats://:4222']}", "cluster.nats[0]"},
		{"bad name", "cluster: {name: a.b}", "cluster.name: want letters"},
		{"cert without key", "cluster: {tls: {cert: c.pem}}", "cluster.tls: cert and key go together"},
		{"node all", "node: all\ncluster: {nats: [nats://a:4222]}", `node: "all" is reserved`},
		{"unknown key", "cluster: {natz: []}", "field natz not found"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte("dev: true\n" + tt.yaml))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if c.Cluster.Name != DefaultClusterName {
					t.Errorf("cluster.name = %q, want the default %q", c.Cluster.Name, DefaultClusterName)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Parse error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestClusterPathsResolved(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "wssgate.yaml")
	if err := os.WriteFile(file, []byte("dev: true\ncluster:\n  nats: [nats://127.0.0.1:4222]\n  credentials: n.creds\n  tls: {ca: ca.pem, cert: /abs/c.pem, key: k.pem}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	got := c.Cluster
	if got.Credentials != filepath.Join(dir, "n.creds") || got.TLS.CA != filepath.Join(dir, "ca.pem") ||
		got.TLS.Cert != "/abs/c.pem" || got.TLS.Key != filepath.Join(dir, "k.pem") || !got.Enabled() {
		t.Fatalf("cluster = %+v, want paths relative to %s", got, dir)
	}
}
