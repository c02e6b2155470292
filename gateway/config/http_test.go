package config

import (
	"strings"
	"testing"
)

func TestAppHTTPDefaults(t *testing.T) {
	c, err := Parse([]byte("dev: true\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.App.HTTP.ReadTimeout != DefaultHTTPReadTimeout || c.App.HTTP.WriteTimeout != DefaultHTTPWriteTimeout {
		t.Fatalf("got %+v, want the documented defaults", c.App.HTTP)
	}
}

func TestDevBindsLoopback(t *testing.T) {
	c, err := Parse([]byte("dev: true\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.App.Address != DefaultDevAppAddress || c.Device.Address != DefaultDevDeviceAddress {
		t.Fatalf("dev from a file: got %s and %s, want loopback", c.App.Address, c.Device.Address)
	}
	c, err = Parse([]byte("tls: {certificates: [{cert: c.pem, key: k.pem}]}\napp: {auth: {mode: none}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.App.Address != DefaultAppAddress {
		t.Fatalf("production: got %s, want %s", c.App.Address, DefaultAppAddress)
	}
}

func TestAppHTTPInvalid(t *testing.T) {
	for _, tt := range []struct{ name, yaml, want string }{
		{"dev on every interface", "dev: true\napp: {address: '0.0.0.0:8443'}\n", `app.address: "0.0.0.0:8443" is not loopback`},
		{"dev on an empty host", "dev: true\ndevice: {address: ':9443'}\n", `device.address: ":9443" is not loopback`},
		{"negative read timeout", "dev: true\napp: {http: {read_timeout: -1s}}\n", "app.http.read_timeout"},
		{"bad proxy", "dev: true\napp: {trusted_proxies: [10.0.0.0/33]}\n", "app.trusted_proxies"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestParsePrefixes(t *testing.T) {
	ps, err := ParsePrefixes([]string{"10.0.0.0/8", "192.0.2.7", "::1", "10.1.2.3/8"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "192.0.2.7/32", "::1/128", "10.0.0.0/8"}
	for i, p := range ps {
		if p.String() != want[i] {
			t.Errorf("prefix %d: got %s, want %s", i, p, want[i])
		}
	}
}
