package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/wssgate/wssgate/admin"
	"github.com/wssgate/wssgate/admin/admintest"
)

// seed connects an app client and a device.
func seed(e *env) {
	now := time.Now()
	e.sessions.Connect(admin.SessionInfo{
		ID: "s-app", Listener: "app", Role: admin.RoleApp, Identity: "alice",
		RemoteAddr: "192.0.2.10:50000", LocalAddr: "127.0.0.1:8443", ConnectedAt: now.Add(-time.Minute),
		LastActivity: now, TLSVersion: "TLS 1.3", CipherSuite: "TLS_AES_128_GCM_SHA256", ServerName: "localhost",
		CertGeneration: 1, Origin: "https://localhost:8443", UserAgent: "test-agent",
		Subscriptions: []string{"devices/+/up"}, MessagesIn: 3, MessagesOut: 7, BytesIn: 30, BytesOut: 70,
	})
	e.sessions.Connect(admin.SessionInfo{
		ID: "s-dev", Listener: "device", Role: admin.RoleDevice, Identity: "42",
		RemoteAddr: "198.51.100.7:40000", LocalAddr: "127.0.0.1:9443", ConnectedAt: now.Add(-time.Hour),
		TLSVersion: "TLS 1.3", PeerCertSubject: "CN=42", PeerCertSHA256: "ab12", CertGeneration: 1,
	})
}

func TestSessionsList(t *testing.T) {
	e := startEnv(t, admin.Config{})
	seed(e)
	tests := []struct {
		name      string
		args      []string
		wantIDs   []string
		wantWords []string
	}{
		{"all over tcp", []string{"--addr", e.addr, "sessions", "list"}, []string{"s-app", "s-dev"}, []string{"ID", "LISTENER", "alice", "192.0.2.10:50000", "device", "TLS 1.3"}},
		{"unix socket url", []string{"--addr", "unix://" + e.sock, "sessions", "list"}, []string{"s-app", "s-dev"}, nil},
		{"unix socket short", []string{"sessions", "list", "--addr", "unix:" + e.sock}, []string{"s-app", "s-dev"}, nil},
		{"listener", []string{"--addr", e.addr, "sessions", "list", "--listener", "device"}, []string{"s-dev"}, nil},
		{"role", []string{"--addr", e.addr, "sessions", "list", "--role", "app"}, []string{"s-app"}, nil},
		{"identity", []string{"--addr", e.addr, "sessions", "list", "--identity", "42"}, []string{"s-dev"}, nil},
		{"remote", []string{"--addr", e.addr, "sessions", "list", "--remote", "192.0.2."}, []string{"s-app"}, nil},
		{"none", []string{"--addr", e.addr, "sessions", "list", "--identity", "nobody"}, nil, []string{"ID"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCtl(t, tt.args...).want(t, 0)
			lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
			if got, want := len(lines), 1+len(tt.wantIDs); got != want {
				t.Fatalf("got %d lines, want %d (header + sessions):\n%s", got, want, r.stdout)
			}
			for i, id := range tt.wantIDs {
				if got := strings.Fields(lines[i+1])[0]; got != id {
					t.Errorf("row %d: got id %q, want %q", i, got, id)
				}
			}
			for _, w := range tt.wantWords {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("output lacks %q:\n%s", w, r.stdout)
				}
			}
		})
	}
}

func TestSessionsListJSON(t *testing.T) {
	e := startEnv(t, admin.Config{})
	seed(e)
	for _, args := range [][]string{
		{"--json", "--addr", e.addr, "sessions", "list"},
		{"--addr", e.addr, "sessions", "list", "--json"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := runCtl(t, args...).want(t, 0)
			var got struct {
				Sessions []map[string]any `json:"sessions"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
				t.Fatalf("decode %q: %v", r.stdout, err)
			}
			if len(got.Sessions) != 2 {
				t.Fatalf("got %d sessions, want 2", len(got.Sessions))
			}
			app := got.Sessions[0]
			for k, want := range map[string]any{
				"id": "s-app", "role": "ROLE_APP", "identity": "alice", "remote_address": "192.0.2.10:50000",
				"tls_version": "TLS 1.3", "messages_out": "7", "origin": "https://localhost:8443",
			} {
				if app[k] != want {
					t.Errorf("%s: got %v, want %v", k, app[k], want)
				}
			}
			if _, ok := app["drops"]; ok {
				t.Errorf("drops is 0 and should be left out (EmitUnpopulated false): %v", app)
			}
		})
	}
}

func TestSessionsShow(t *testing.T) {
	e := startEnv(t, admin.Config{})
	seed(e)
	r := runCtl(t, "--addr", e.addr, "sessions", "show", "s-dev").want(t, 0)
	for _, w := range []string{"id:", "s-dev", "role:", "device", "peer_certificate_subject:", "CN=42", "certificate_generation:", "queue_length:", "ago)"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("output lacks %q:\n%s", w, r.stdout)
		}
	}
	r = runCtl(t, "--addr", e.addr, "sessions", "show", "--json", "s-app").want(t, 0)
	var got struct {
		Session struct {
			ID            string   `json:"id"`
			Subscriptions []string `json:"subscriptions"`
		} `json:"session"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("decode %q: %v", r.stdout, err)
	}
	if got.Session.ID != "s-app" || len(got.Session.Subscriptions) != 1 {
		t.Errorf("got %+v, want s-app with 1 subscription", got.Session)
	}
}

func TestSessionsNotFound(t *testing.T) {
	e := startEnv(t, admin.Config{})
	for _, args := range [][]string{
		{"sessions", "show", "nope"},
		{"sessions", "close", "nope"},
		{"send", "nope", "--text", "hi"},
	} {
		t.Run(args[0]+" "+args[1], func(t *testing.T) {
			r := runCtl(t, append([]string{"--addr", e.addr}, args...)...).want(t, 1)
			if want := "wssgatectl: session nope: admin: not found (NotFound)\n"; r.stderr != want {
				t.Errorf("stderr: got %q, want %q", r.stderr, want)
			}
			if r.stdout != "" {
				t.Errorf("stdout: got %q, want nothing", r.stdout)
			}
		})
	}
}

func TestSessionsClose(t *testing.T) {
	e := startEnv(t, admin.Config{})
	seed(e)
	r := runCtl(t, "--addr", e.addr, "sessions", "close", "s-dev", "--code", "4000", "--reason", "maintenance").want(t, 0)
	if !strings.Contains(r.stdout, "closed session s-dev (code 4000)") {
		t.Errorf("stdout: got %q", r.stdout)
	}
	got, ok := e.sessions.ClosedAs("s-dev")
	if want := (admintest.Closed{Code: 4000, Reason: "maintenance"}); !ok || got != want {
		t.Errorf("backend saw %+v (closed %v), want %+v", got, ok, want)
	}
	// The server validates the code: INVALID_ARGUMENT is an error, not a usage mistake.
	r = runCtl(t, "--addr", e.addr, "sessions", "close", "s-app", "--code", "1005").want(t, 1)
	if !strings.Contains(r.stderr, "(InvalidArgument)") {
		t.Errorf("stderr: got %q, want an InvalidArgument message", r.stderr)
	}
	r = runCtl(t, "--addr", e.addr, "sessions", "close", "--identity", "alice", "--code", "4000").want(t, 0)
	if r.stdout != "closed 1 session of identity alice (code 4000)\n" {
		t.Errorf("stdout: got %q", r.stdout)
	}
	if got, ok := e.sessions.ClosedAs("s-app"); !ok || got.Code != 4000 {
		t.Errorf("s-app of alice: got %+v (closed %v), want code 4000", got, ok)
	}
}

func TestSessionsReconnect(t *testing.T) {
	e := startEnv(t, admin.Config{})
	seed(e)
	r := runCtl(t, "--addr", e.addr, "sessions", "reconnect", "--below-generation", "2", "--listener", "device", "--rate", "100").want(t, 0)
	if r.stdout != "closed 1 sessions\n" {
		t.Errorf("stdout: got %q, want %q", r.stdout, "closed 1 sessions\n")
	}
	if got, ok := e.sessions.ClosedAs("s-dev"); !ok || got.Code != 1012 {
		t.Errorf("s-dev: got %+v (closed %v), want code 1012", got, ok)
	}
	if _, ok := e.sessions.ClosedAs("s-app"); ok {
		t.Error("s-app was closed; want only the device listener's sessions")
	}
	r = runCtl(t, "--addr", e.addr, "--json", "sessions", "reconnect", "--below-generation", "2").want(t, 0)
	var got map[string]string
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || got["closed"] != "1" {
		t.Errorf("stdout: got %q (%v), want {\"closed\":\"1\"}", r.stdout, err)
	}
}
