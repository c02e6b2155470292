package admin_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/wssgate/wssgate/admin"
	adminv1 "github.com/wssgate/wssgate/gen/wssgate/admin/v1"
)

func session(id, listener string, role admin.Role, identity string, gen uint64) admin.SessionInfo {
	return admin.SessionInfo{
		ID: id, Listener: listener, Role: role, Identity: identity,
		RemoteAddr: "127.0.0.1:4" + id[len(id)-1:] + "000", ConnectedAt: time.Now(), CertGeneration: gen,
		TLSVersion: "TLS 1.3", Subscriptions: []string{"devices/+/up"},
	}
}

func wantCode(t *testing.T, err error, want codes.Code) {
	t.Helper()
	if got := status.Code(err); got != want {
		t.Fatalf("got code %v (%v), want %v", got, err, want)
	}
}

func TestCertificates(t *testing.T) {
	e := startEnv(t, admin.Config{})
	c := e.client(t)
	ctx := testCtx(t)

	got, err := c.GetCertificates(ctx, &adminv1.GetCertificatesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if got.GetGeneration() != 1 || len(got.GetCertificates()) != 1 {
		t.Fatalf("got generation %d with %d certificates, want 1 with 1", got.GetGeneration(), len(got.GetCertificates()))
	}
	cert := got.GetCertificates()[0]
	if cert.GetSerial() != "64" || cert.GetSubject() != "CN=gateway" || cert.GetKeyType() != "ECDSA P-256" ||
		len(cert.GetSha256Fingerprint()) != 64 || cert.GetDnsNames()[0] != "localhost" || cert.GetIpAddresses()[0] != "127.0.0.1" {
		t.Fatalf("got certificate %v, want serial 64, CN=gateway, ECDSA P-256, localhost, 127.0.0.1", cert)
	}

	newCert, newKey := e.ca.issue(t, "gateway", 200, false)
	_, otherKey := e.ca.issue(t, "other", 300, false)
	tests := []struct {
		name    string
		req     *adminv1.ReloadCertificatesRequest
		code    codes.Code
		wantGen uint64 // generation served afterwards
		serial  string
	}{
		{"dry run", &adminv1.ReloadCertificatesRequest{DryRun: true, CertPem: newCert, KeyPem: newKey}, codes.OK, 1, "64"},
		{"key does not match", &adminv1.ReloadCertificatesRequest{CertPem: newCert, KeyPem: otherKey}, codes.InvalidArgument, 1, "64"},
		{"cert without key", &adminv1.ReloadCertificatesRequest{CertPem: newCert}, codes.InvalidArgument, 1, "64"},
		{"from pem", &adminv1.ReloadCertificatesRequest{CertPem: newCert, KeyPem: newKey}, codes.OK, 2, "c8"},
		{"from disk", &adminv1.ReloadCertificatesRequest{}, codes.OK, 3, "c8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := c.ReloadCertificates(ctx, tt.req)
			wantCode(t, err, tt.code)
			if err == nil && r.GetDryRun() != tt.req.GetDryRun() {
				t.Errorf("got dry_run %v, want %v", r.GetDryRun(), tt.req.GetDryRun())
			}
			cur, err := c.GetCertificates(ctx, &adminv1.GetCertificatesRequest{})
			if err != nil {
				t.Fatal(err)
			}
			if cur.GetGeneration() != tt.wantGen || cur.GetCertificates()[0].GetSerial() != tt.serial {
				t.Errorf("got generation %d serial %s, want %d %s", cur.GetGeneration(), cur.GetCertificates()[0].GetSerial(), tt.wantGen, tt.serial)
			}
		})
	}
	_, err = c.ReloadCertificates(ctx, &adminv1.ReloadCertificatesRequest{CertPem: newCert, KeyPem: otherKey})
	if msg := status.Convert(err).Message(); !strings.Contains(msg, "private key does not match public key") {
		t.Errorf("got message %q, want the precise reason", msg)
	}
}

func TestSessions(t *testing.T) {
	e := startEnv(t, admin.Config{})
	c := e.client(t)
	ctx := testCtx(t)
	for i := range 5 {
		e.sessions.Connect(session(fmt.Sprintf("s%d", i), "devices", admin.RoleDevice, fmt.Sprintf("dev%d", i), 1))
	}
	e.sessions.Connect(session("a9", "app", admin.RoleApp, "", 2))

	t.Run("list filters", func(t *testing.T) {
		tests := []struct {
			name string
			req  *adminv1.ListSessionsRequest
			want int
		}{
			{"all", &adminv1.ListSessionsRequest{}, 6},
			{"listener", &adminv1.ListSessionsRequest{Listener: "app"}, 1},
			{"role", &adminv1.ListSessionsRequest{Role: adminv1.Role_ROLE_DEVICE}, 5},
			{"identity", &adminv1.ListSessionsRequest{Identity: "dev3"}, 1},
			{"remote prefix", &adminv1.ListSessionsRequest{RemoteAddressPrefix: "127.0.0.1:42"}, 1},
			{"no match", &adminv1.ListSessionsRequest{Identity: "nobody"}, 0},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r, err := c.ListSessions(ctx, tt.req)
				if err != nil {
					t.Fatal(err)
				}
				if got := len(r.GetSessions()); got != tt.want {
					t.Errorf("got %d sessions, want %d", got, tt.want)
				}
			})
		}
	})

	t.Run("paging", func(t *testing.T) {
		var ids []string
		tok := ""
		for range 10 {
			r, err := c.ListSessions(ctx, &adminv1.ListSessionsRequest{PageSize: 4, PageToken: tok})
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range r.GetSessions() {
				ids = append(ids, s.GetId())
			}
			if tok = r.GetNextPageToken(); tok == "" {
				break
			}
		}
		if got, want := strings.Join(ids, ","), "a9,s0,s1,s2,s3,s4"; got != want {
			t.Errorf("got ids %s, want %s", got, want)
		}
		_, err := c.ListSessions(ctx, &adminv1.ListSessionsRequest{PageToken: "garbage"})
		wantCode(t, err, codes.InvalidArgument)
	})

	t.Run("get", func(t *testing.T) {
		r, err := c.GetSession(ctx, &adminv1.GetSessionRequest{Id: "s2"})
		if err != nil {
			t.Fatal(err)
		}
		s := r.GetSession()
		if s.GetIdentity() != "dev2" || s.GetRole() != adminv1.Role_ROLE_DEVICE || s.GetTlsVersion() != "TLS 1.3" || s.GetConnectedAt() == nil {
			t.Errorf("got session %v, want dev2 device TLS 1.3 with connected_at", s)
		}
		_, err = c.GetSession(ctx, &adminv1.GetSessionRequest{Id: "nope"})
		wantCode(t, err, codes.NotFound)
	})

	t.Run("send", func(t *testing.T) {
		if _, err := c.SendToSession(ctx, &adminv1.SendToSessionRequest{Id: "s1", Payload: &adminv1.SendToSessionRequest_Text{Text: "hi"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.SendToSession(ctx, &adminv1.SendToSessionRequest{Id: "s1", Payload: &adminv1.SendToSessionRequest_Binary{Binary: []byte{0, 1}}}); err != nil {
			t.Fatal(err)
		}
		out := e.sessions.Outbox("s1")
		if len(out) != 2 || out[0].Binary || string(out[0].Data) != "hi" || !out[1].Binary {
			t.Errorf("got outbox %+v, want text hi then binary", out)
		}
		for range 2 {
			c.SendToSession(ctx, &adminv1.SendToSessionRequest{Id: "s1", Payload: &adminv1.SendToSessionRequest_Text{Text: "x"}})
		}
		_, err := c.SendToSession(ctx, &adminv1.SendToSessionRequest{Id: "s1", Payload: &adminv1.SendToSessionRequest_Text{Text: "full"}})
		wantCode(t, err, codes.ResourceExhausted)
		_, err = c.SendToSession(ctx, &adminv1.SendToSessionRequest{Id: "s1"})
		wantCode(t, err, codes.InvalidArgument)
		_, err = c.SendToSession(ctx, &adminv1.SendToSessionRequest{Id: "nope", Payload: &adminv1.SendToSessionRequest_Text{Text: "x"}})
		wantCode(t, err, codes.NotFound)
	})

	t.Run("close", func(t *testing.T) {
		tests := []struct {
			name string
			req  *adminv1.CloseSessionRequest
			code codes.Code
		}{
			{"bad code", &adminv1.CloseSessionRequest{Id: "s0", Code: 1006}, codes.InvalidArgument},
			{"long reason", &adminv1.CloseSessionRequest{Id: "s0", Code: 4000, Reason: strings.Repeat("r", 124)}, codes.InvalidArgument},
			{"unknown id", &adminv1.CloseSessionRequest{Id: "nope"}, codes.NotFound},
			{"ok", &adminv1.CloseSessionRequest{Id: "s0", Code: 4001, Reason: "bye"}, codes.OK},
			{"again", &adminv1.CloseSessionRequest{Id: "s0"}, codes.NotFound},
			{"neither id nor identity", &adminv1.CloseSessionRequest{}, codes.InvalidArgument},
			{"both id and identity", &adminv1.CloseSessionRequest{Id: "s3", Identity: "dev3"}, codes.InvalidArgument},
			{"identity without sessions", &adminv1.CloseSessionRequest{Identity: "nobody"}, codes.OK},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := c.CloseSession(ctx, tt.req)
				wantCode(t, err, tt.code)
			})
		}
		e.sessions.Connect(session("a7", "app", admin.RoleApp, "alice", 2))
		e.sessions.Connect(session("a8", "app", admin.RoleApp, "alice", 2))
		r, err := c.CloseSession(ctx, &adminv1.CloseSessionRequest{Identity: "alice", Code: 4000})
		if err != nil || r.GetClosed() != 2 {
			t.Errorf("close identity alice: got %d, %v, want 2 closed", r.GetClosed(), err)
		}
		if _, err := c.GetSession(ctx, &adminv1.GetSessionRequest{Id: "a7"}); status.Code(err) != codes.NotFound {
			t.Errorf("session a7 of alice after the close: got %v, want NotFound", err)
		}
	})

	t.Run("reconnect", func(t *testing.T) {
		r, err := c.ReconnectSessions(ctx, &adminv1.ReconnectSessionsRequest{BelowGeneration: 2, Listener: "devices", RatePerSecond: 100})
		if err != nil {
			t.Fatal(err)
		}
		if r.GetClosed() != 4 {
			t.Errorf("got %d closed, want 4 (s1-s4)", r.GetClosed())
		}
		_, err = c.ReconnectSessions(ctx, &adminv1.ReconnectSessionsRequest{RatePerSecond: -1})
		wantCode(t, err, codes.InvalidArgument)
	})
}

func TestPublishAndStats(t *testing.T) {
	e := startEnv(t, admin.Config{})
	c := e.client(t)
	ctx := testCtx(t)

	var seen []admin.Message
	stop, _ := e.hub.Subscribe(ctx, "devices/+/down", func(m admin.Message) { seen = append(seen, m) })
	defer stop()
	r, err := c.Publish(ctx, &adminv1.PublishRequest{Channel: "devices/42/down", Payload: &adminv1.PublishRequest_Text{Text: `{"led":"on"}`}})
	if err != nil {
		t.Fatal(err)
	}
	if r.GetReached() != 1 || len(seen) != 1 || string(seen[0].Data) != `{"led":"on"}` || seen[0].Binary {
		t.Errorf("got reached %d, seen %+v; want 1 text message", r.GetReached(), seen)
	}
	_, err = c.Publish(ctx, &adminv1.PublishRequest{Channel: "devices/+/down", Payload: &adminv1.PublishRequest_Text{Text: "x"}})
	wantCode(t, err, codes.InvalidArgument)
	_, err = c.Publish(ctx, &adminv1.PublishRequest{Channel: "devices/1/down"})
	wantCode(t, err, codes.InvalidArgument)

	started := time.Now().Add(-time.Minute)
	e.stats.Snap = admin.StatsSnapshot{
		Listeners: []admin.ListenerStats{{Name: "devices", Address: "0.0.0.0:9443", Role: admin.RoleDevice, OpenSessions: 3,
			HandshakesOK: 10, HandshakeFailures: map[string]uint64{"bad_client_certificate": 2}}},
		Process:               admin.ProcessStats{StartedAt: started, Goroutines: 12, Version: "test"},
		CertificateGeneration: 4,
	}
	e.stats.History = []admin.Failure{
		{Time: time.Now(), Listener: "devices", Stage: "tls", Reason: "bad_client_certificate", ClientCertSubject: "CN=rogue"},
		{Time: time.Now().Add(-time.Hour), Listener: "app", Stage: "upgrade", Reason: "bad_origin"},
	}
	st, err := c.GetStats(ctx, &adminv1.GetStatsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	l := st.GetListeners()[0]
	if l.GetOpenSessions() != 3 || l.GetHandshakeFailures()["bad_client_certificate"] != 2 || st.GetCertificateGeneration() != 4 ||
		st.GetProcess().GetUptime().AsDuration() < time.Minute {
		t.Errorf("got stats %v, want the snapshot", st)
	}
	tests := []struct {
		name string
		req  *adminv1.ListFailuresRequest
		want int
	}{
		{"all", &adminv1.ListFailuresRequest{}, 2},
		{"listener", &adminv1.ListFailuresRequest{Listener: "devices"}, 1},
		{"limit", &adminv1.ListFailuresRequest{Limit: 1}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := c.ListFailures(ctx, tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(f.GetFailures()); got != tt.want {
				t.Errorf("got %d failures, want %d", got, tt.want)
			}
		})
	}
}

func TestUnimplementedBackends(t *testing.T) {
	srv, err := admin.New(admin.Config{Addr: "127.0.0.1:0"}, admin.Backends{})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	go srv.Serve(t.Context())
	t.Cleanup(func() { srv.Stop(time.Second) })
	c := adminv1.NewAdminServiceClient(dial(t, srv.Addr().String()))
	_, err = c.GetStats(testCtx(t), &adminv1.GetStatsRequest{})
	wantCode(t, err, codes.Unimplemented)
}
