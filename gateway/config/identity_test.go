package config

import (
	"slices"
	"strings"
	"testing"
)

func TestDeviceIdentity(t *testing.T) {
	base := "tls:\n  certificates:\n    - {cert: c.pem, key: k.pem}\n  client_ca: ca.pem\napp:\n  auth: {mode: none}\ndevice:\n  client_auth: require\n  identity: "
	tests := []struct {
		name string
		yaml string
		want []string
		err  string
	}{
		{"plain", "[uri, dns, cn]", []string{"uri", "dns", "cn"}, ""},
		{"map template", `[{uri: "spiffe://example.org/device/{id}"}, cn]`, []string{"uri:spiffe://example.org/device/{id}", "cn"}, ""},
		{"string template", `["dns:{id}.devices.example.com"]`, []string{"dns:{id}.devices.example.com"}, ""},
		{"block map", "\n    - uri: spiffe://example.org/device/{id}\n    - dns", []string{"uri:spiffe://example.org/device/{id}", "dns"}, ""},
		{"no placeholder", `[{uri: "spiffe://example.org/device/"}]`, nil, "device.identity"},
		{"two placeholders", `["uri:{id}{id}"]`, nil, "exactly once"},
		{"cn template", `[{cn: "{id}"}]`, nil, "device.identity"},
		{"unknown", "[email]", nil, "device.identity"},
		{"two keys", `[{uri: "a{id}", dns: "b{id}"}]`, nil, "device.identity"},
		{"not a list", "uri", nil, "device.identity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(base + tt.yaml + "\n"))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %v, want an error containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !slices.Equal(c.Device.Identity, tt.want) {
				t.Errorf("got %q, want %q", c.Device.Identity, tt.want)
			}
		})
	}
}
