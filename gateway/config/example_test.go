package config

import (
	"os"
	"testing"
)

// The documented example must parse as is (with its placeholder paths).
func TestExampleConfigParses(t *testing.T) {
	b, err := os.ReadFile("../../wssgate.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(b)
	if err != nil {
		t.Fatalf("wssgate.example.yaml: %v", err)
	}
	def := &Config{TLS: TLS{Certificates: c.TLS.Certificates}, StateDir: c.StateDir, Node: c.Node}
	def.ApplyDefaults()
	if c.App.Limits != def.App.Limits || c.Device.Limits != def.Device.Limits || c.ShutdownGrace != def.ShutdownGrace {
		t.Errorf("example limits differ from the defaults:\n got %+v\nwant %+v", c.App.Limits, def.App.Limits)
	}
}
