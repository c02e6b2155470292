package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/wssgate/wssgate/admin"
)

func TestStats(t *testing.T) {
	e := startEnv(t, admin.Config{})
	e.stats.Snap = admin.StatsSnapshot{
		Listeners: []admin.ListenerStats{{
			Name: "app", Address: "127.0.0.1:8443", Role: admin.RoleApp, OpenSessions: 2, HandshakesOK: 10,
			MessagesIn: 5, BytesIn: 500, SlowConsumerCloses: 1,
			HandshakeFailures: map[string]uint64{"bad_origin": 3, "tls": 1, "timeout": 0},
		}},
		Process:               admin.ProcessStats{StartedAt: time.Now().Add(-time.Hour), Goroutines: 12, Version: "v1.2.3"},
		CertificateGeneration: 4,
		Certificates:          []admin.CertificateExpiry{{Subject: "CN=gateway", Serial: "64", NotAfter: time.Now().Add(48 * time.Hour)}},
	}
	r := runCtl(t, "--addr", e.addr, "stats").want(t, 0)
	for _, w := range []string{"version:", "v1.2.3", "uptime:", "1h0m", "certificate_generation:", "LISTENER", "127.0.0.1:8443",
		"bad_origin=3 tls=1", "CN=gateway", "(in 4"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("output lacks %q:\n%s", w, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "timeout=0") {
		t.Errorf("output lists a zero reason:\n%s", r.stdout)
	}
	var row []string
	for _, l := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(l, "app ") {
			row = strings.Fields(l)
		}
	}
	if want := []string{"app", "127.0.0.1:8443", "app", "2", "10", "4"}; len(row) < len(want) || strings.Join(row[:len(want)], " ") != strings.Join(want, " ") {
		t.Errorf("listener row: got %q, want it to start with %q", row, want)
	}
	r = runCtl(t, "--addr", e.addr, "stats", "--json").want(t, 0)
	var got struct {
		Listeners []struct {
			Name              string            `json:"name"`
			HandshakeFailures map[string]string `json:"handshake_failures"`
		} `json:"listeners"`
		CertificateGeneration string `json:"certificate_generation"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("decode %q: %v", r.stdout, err)
	}
	if got.CertificateGeneration != "4" || len(got.Listeners) != 1 || got.Listeners[0].HandshakeFailures["bad_origin"] != "3" {
		t.Errorf("got %+v", got)
	}
}

func TestFailures(t *testing.T) {
	e := startEnv(t, admin.Config{})
	now := time.Now()
	e.stats.History = []admin.Failure{
		{Time: now.Add(-time.Minute), Listener: "app", RemoteAddr: "192.0.2.1:1234", Stage: "upgrade", Reason: "bad_origin", Message: "origin https://evil.example not allowed"},
		{Time: now.Add(-time.Hour), Listener: "device", RemoteAddr: "192.0.2.2:1234", Stage: "tls", Reason: "bad_client_certificate", Message: "unknown authority"},
	}
	tests := []struct {
		name    string
		args    []string
		wantOut []string
		wantN   int
	}{
		{"all", []string{"failures"}, []string{"bad_origin", "origin https://evil.example not allowed", "bad_client_certificate"}, 2},
		{"listener", []string{"failures", "--listener", "device"}, []string{"unknown authority"}, 1},
		{"since", []string{"failures", "--since", "10m"}, []string{"bad_origin"}, 1},
		{"limit", []string{"failures", "--limit", "1"}, []string{"bad_origin"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCtl(t, append([]string{"--addr", e.addr}, tt.args...)...).want(t, 0)
			lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
			if len(lines) != 1+tt.wantN {
				t.Errorf("got %d rows, want %d:\n%s", len(lines)-1, tt.wantN, r.stdout)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("output lacks %q:\n%s", w, r.stdout)
				}
			}
		})
	}
	r := runCtl(t, "--addr", e.addr, "failures", "--json").want(t, 0)
	var got struct {
		Failures []map[string]any `json:"failures"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || len(got.Failures) != 2 || got.Failures[0]["remote_address"] != "192.0.2.1:1234" {
		t.Errorf("json: got %+v (%v)", got, err)
	}
}
