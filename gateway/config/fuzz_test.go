package config

import (
	"os"
	"reflect"
	"testing"

	"go.yaml.in/yaml/v3"
)

// FuzzParse checks that Parse never panics and that a configuration it
// accepts is a fixed point: it validates again, applying the defaults a
// second time changes nothing, and its YAML encoding parses back to the
// same configuration (compared by its YAML).
func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile("../../wssgate.example.yaml"); err == nil {
		f.Add(b)
	}
	for _, s := range []string{
		"",
		"dev: true\n",
		"tls:\n  certificates:\n    - {cert: c.pem, key: k.pem}\n",
		"dev: true\napp: {limits: {max_message: 64KiB, queue_bytes: 1MiB, idle_timeout: 90s}}\n",
		"dev: true\ndevice: {client_auth: require}\ntls: {client_ca: ca.pem, crl_files: [a.crl]}\n",
		"dev: true\nadmin: {tokens: [{name: ops, role: admin, sha256: " +
			"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855}]}\n",
		"dev: true\napp: {upstream: 'http://127.0.0.1:3000', allowed_origins: ['*']}\n",
		"a: &a [*a]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("parsed, then Validate: %v", err)
		}
		again := *c
		again.ApplyDefaults()
		if !reflect.DeepEqual(&again, c) {
			t.Fatalf("ApplyDefaults is not idempotent:\n got %+v\nwant %+v", again, *c)
		}
		out, err := yaml.Marshal(c)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		back, err := Parse(out)
		if err != nil {
			t.Fatalf("the YAML of a valid configuration does not parse: %v\n%s", err, out)
		}
		// Compared as YAML: a nil list encodes as [] and decodes as empty.
		if out2, err := yaml.Marshal(back); err != nil || string(out2) != string(out) {
			t.Fatalf("round trip changed the configuration (%v):\n got %s\nwant %s", err, out2, out)
		}
	})
}
