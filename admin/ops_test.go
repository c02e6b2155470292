package admin_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wssgate/wssgate/admin"
	"github.com/wssgate/wssgate/admin/admintest"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestOpsHandler(t *testing.T) {
	notAfter := time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)
	stats := &admintest.Stats{Snap: admin.StatsSnapshot{
		Listeners: []admin.ListenerStats{
			{Name: "devices", Role: admin.RoleDevice, OpenSessions: 3, HandshakesOK: 10, MessagesIn: 7, BytesOut: 99,
				SlowConsumerCloses: 1, HandshakeFailures: map[string]uint64{"bad_client_certificate": 2, "weird": 5}},
			{Name: "app", Role: admin.RoleApp, OpenSessions: 1},
		},
		Process:               admin.ProcessStats{StartedAt: time.Unix(1700000000, 0), Goroutines: 42},
		CertificateGeneration: 3,
		Certificates:          []admin.CertificateExpiry{{Subject: "CN=gateway", Serial: "64", NotAfter: notAfter}},
	}}
	var ready atomic.Bool
	srv := httptest.NewServer(admin.OpsHandler(stats, ready.Load))
	t.Cleanup(srv.Close)

	code, body := get(t, srv.URL+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("got /metrics status %d, want 200:\n%s", code, body)
	}
	for _, want := range []string{
		`wssgate_open_sessions{listener="devices",role="device"} 3`,
		`wssgate_open_sessions{listener="app",role="app"} 1`,
		`wssgate_handshakes_total{listener="devices",role="device"} 10`,
		`wssgate_handshake_failures_total{listener="devices",reason="bad_client_certificate",role="device"} 2`,
		`wssgate_handshake_failures_total{listener="devices",reason="weird",role="device"} 5`,
		`wssgate_messages_in_total{listener="devices",role="device"} 7`,
		`wssgate_bytes_out_total{listener="devices",role="device"} 99`,
		`wssgate_slow_consumer_closes_total{listener="devices",role="device"} 1`,
		`wssgate_certificate_not_after_seconds{serial="64",subject="CN=gateway"} 1.798859045e+09`,
		`wssgate_certificate_generation 3`,
		`wssgate_goroutines 42`,
		`wssgate_start_time_seconds 1.7e+09`,
		`wssgate_stats_up 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	tests := []struct {
		name  string
		path  string
		ready bool
		code  int
	}{
		{"healthz", "/healthz", false, http.StatusOK},
		{"readyz not ready", "/readyz", false, http.StatusServiceUnavailable},
		{"readyz ready", "/readyz", true, http.StatusOK},
		{"unknown", "/nope", true, http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ready.Store(tt.ready)
			if code, body := get(t, srv.URL+tt.path); code != tt.code {
				t.Errorf("got %d (%s), want %d", code, body, tt.code)
			}
		})
	}

	t.Run("stats error", func(t *testing.T) {
		stats.Err = errors.New("stats: unavailable")
		t.Cleanup(func() { stats.Err = nil })
		code, body := get(t, srv.URL+"/metrics")
		if code != http.StatusInternalServerError || !strings.Contains(body, "stats: unavailable") {
			t.Errorf("got %d:\n%s\nwant the error reported", code, body)
		}
	})
}
