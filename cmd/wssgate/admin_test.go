package main

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/wssgate/wssgate/gateway/certs/certstest"
	adminv1 "github.com/wssgate/wssgate/gen/wssgate/admin/v1"
)

// TestAdminAPI drives the admin API of a real wssgate process with a real
// gRPC client, while real WebSocket clients are connected.
func TestAdminAPI(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	ca := certstest.NewCA(t, "test CA")
	leaf := localhostLeaf(t, ca)
	leaf.Write(t, dir, "server")
	cfg := writeConfig(t, dir, "dev: true\ntls:\n  certificates: [{cert: server.pem, key: server-key.pem}]\n  hostnames: [localhost]\n"+
		"app: {address: '127.0.0.1:0'}\ndevice: {address: '127.0.0.1:0'}\nadmin: {address: '127.0.0.1:0'}\nops: {address: '127.0.0.1:0'}\n")
	d := start(t, bin, nil, "--config", cfg)
	tc := &tls.Config{RootCAs: ca.Pool, ServerName: "localhost"}
	dial := func(url string) net.Conn { return dialWS(t, tc, url) }
	app := dial("wss://" + d.App + "/ws")
	dev := dial("wss://" + d.Device + "/device?device_id=d1")

	cc, err := grpc.NewClient(d.Admin, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	c := adminv1.NewAdminServiceClient(cc)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// Sessions are listed with their details.
	var list *adminv1.ListSessionsResponse
	waitUntil(t, "two sessions listed", func() bool {
		list, err = c.ListSessions(ctx, &adminv1.ListSessionsRequest{})
		return err == nil && len(list.Sessions) == 2
	})
	var devID string
	for _, s := range list.Sessions {
		if s.Listener == "device" {
			devID = s.Id
			if s.Identity != "d1" || s.TlsVersion != "TLS 1.3" || s.CertificateGeneration != 1 || len(s.Subscriptions) != 1 {
				t.Errorf("device session: got %v", s)
			}
		}
	}
	if devID == "" {
		t.Fatalf("no device session in %v", list)
	}

	// Subscribe sees what the device sends.
	sub, err := c.Subscribe(ctx, &adminv1.SubscribeRequest{Pattern: "devices/+/up"})
	if err != nil {
		t.Fatal(err)
	}
	msgs := stream(sub.Recv)
	var m *adminv1.SubscribeResponse
	waitUntil(t, "admin subscription", func() bool {
		// The stream registers on the server side after the call returns:
		// send until one arrives.
		_ = wsutil.WriteClientText(dev, []byte("hello"))
		select {
		case m = <-msgs:
			return true
		case <-time.After(100 * time.Millisecond):
			return false
		}
	})
	if m == nil || m.Channel != "devices/d1/up" || m.GetText() != "hello" {
		t.Fatalf("subscribe: got %v, want hello on devices/d1/up", m)
	}

	// Publish reaches the device.
	pub, err := c.Publish(ctx, &adminv1.PublishRequest{Channel: "devices/d1/down", Payload: &adminv1.PublishRequest_Text{Text: "reboot"}})
	if err != nil || pub.Reached != 1 {
		t.Fatalf("publish: got %v %v, want reached 1", pub, err)
	}
	_ = dev.SetReadDeadline(time.Now().Add(5 * time.Second))
	if p, _, err := wsutil.ReadServerData(dev); err != nil || string(p) != "reboot" {
		t.Fatalf("device got %q %v, want reboot", p, err)
	}

	// Watch sees a connect and the disconnect CloseSession causes.
	watch, err := c.WatchSessions(ctx, &adminv1.WatchSessionsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	events := stream(watch.Recv)
	var dev2 net.Conn
	var ev *adminv1.WatchSessionsResponse
	waitUntil(t, "watch registered", func() bool {
		if dev2 != nil {
			dev2.Close() // connected before the watch: try again
			select {     // its disconnect, if the watch saw it
			case <-events:
			case <-time.After(200 * time.Millisecond):
			}
		}
		dev2 = dial("wss://" + d.Device + "/device?device_id=d2")
		select {
		case ev = <-events:
			return true
		case <-time.After(200 * time.Millisecond):
			return false
		}
	})
	if ev.Session.GetIdentity() != "d2" {
		t.Fatalf("watch: got %v, want d2 connected", ev)
	}
	if _, err := c.CloseSession(ctx, &adminv1.CloseSessionRequest{Id: ev.Session.Id, Code: 4000, Reason: "bye"}); err != nil {
		t.Fatal(err)
	}
	_ = dev2.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err = wsutil.ReadServerData(dev2)
	if ce, ok := err.(wsutil.ClosedError); !ok || ce.Code != 4000 {
		t.Fatalf("device 2: got %v, want close 4000", err)
	}
	select {
	case ev = <-events:
	case <-time.After(5 * time.Second):
	}
	if ev.CloseCode != 4000 || ev.Reason != "bye" {
		t.Fatalf("watch: got %v, want disconnect 4000 bye", ev)
	}
	if _, err := c.CloseSession(ctx, &adminv1.CloseSessionRequest{Id: "nope", Code: 1000}); status.Code(err) != codes.NotFound {
		t.Fatalf("close unknown: got %v, want NotFound", err)
	}

	// A bad bundle is refused with its reason; the old certificate stays.
	other := ca.Issue(t, certstest.LeafOptions{CN: "other", DNS: []string{"other.example"}})
	tests := []struct {
		name, want string
		req        *adminv1.ReloadCertificatesRequest
	}{
		{"key does not match", "does not match", &adminv1.ReloadCertificatesRequest{CertPem: leaf.CertPEM, KeyPem: other.KeyPEM}},
		{"hostname not covered", `"localhost" is not in the certificate's SANs`, &adminv1.ReloadCertificatesRequest{CertPem: other.CertPEM, KeyPem: other.KeyPEM}},
	}
	for _, tt := range tests {
		_, err := c.ReloadCertificates(ctx, tt.req)
		if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want InvalidArgument containing %q", tt.name, err, tt.want)
		}
	}
	certs, err := c.GetCertificates(ctx, &adminv1.GetCertificatesRequest{})
	if err != nil || certs.Generation != 1 || certs.Certificates[0].Serial != leaf.Cert.SerialNumber.Text(16) {
		t.Fatalf("after refused reloads: got %v %v, want generation 1 and the first serial", certs, err)
	}
	// A good one swaps; the live sessions stay.
	next := localhostLeaf(t, ca)
	rr, err := c.ReloadCertificates(ctx, &adminv1.ReloadCertificatesRequest{CertPem: next.CertPEM, KeyPem: next.KeyPEM})
	if err != nil || rr.Generation != 2 {
		t.Fatalf("reload: got %v %v, want generation 2", rr, err)
	}
	conn, err := tls.Dial("tcp", d.Device, tc)
	if err != nil {
		t.Fatal(err)
	}
	if got := conn.ConnectionState().PeerCertificates[0].SerialNumber; got.Cmp(next.Cert.SerialNumber) != 0 {
		t.Errorf("served serial %v after reload, want %v", got, next.Cert.SerialNumber)
	}
	conn.Close()
	if err := wsutil.WriteClientText(app, []byte(`{"type":"subscribe","id":1,"channel":"devices/+/up"}`)); err != nil {
		t.Fatalf("app session lost after reload: %v", err)
	}

	// Stats and metrics come from the same counters.
	st, err := c.GetStats(ctx, &adminv1.GetStatsRequest{})
	if err != nil || len(st.Listeners) != 2 || st.CertificateGeneration != 2 {
		t.Fatalf("stats: got %v %v", st, err)
	}
	resp, err := http.Get("http://" + d.Ops + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`wssgate_handshakes_total{listener="device"`, "wssgate_certificate_not_after"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// grpcurl (installed by .ci/run) sees the service by reflection.
	grpcurl, err := exec.LookPath("grpcurl")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("grpcurl not installed; .ci/run installs it")
		}
		t.Log("grpcurl not on PATH: skipping its part")
		return
	}
	out, err := exec.Command(grpcurl, "-plaintext", d.Admin, "list").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "wssgate.admin.v1.AdminService") || !strings.Contains(string(out), "grpc.health.v1.Health") {
		t.Fatalf("grpcurl list: %v\n%s", err, out)
	}
	out, err = exec.Command(grpcurl, "-plaintext", "-d", `{"channel":"devices/d1/down","text":"from grpcurl"}`, d.Admin, "wssgate.admin.v1.AdminService/Publish").CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"reached"`) {
		t.Fatalf("grpcurl Publish: %v\n%s", err, out)
	}
	if p, _, err := wsutil.ReadServerData(dev); err != nil || string(p) != "from grpcurl" {
		t.Fatalf("device got %q %v, want the grpcurl publish", p, err)
	}
}

// stream receives from a gRPC stream into a channel until it ends.
func stream[T any](recv func() (*T, error)) <-chan *T {
	ch := make(chan *T, 16)
	go func() {
		defer close(ch)
		for {
			m, err := recv()
			if err != nil {
				return
			}
			ch <- m
		}
	}()
	return ch
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAdminDryRunImpact: a dry run with a new client-CA bundle names the
// live device sessions it would orphan, and swaps nothing.
func TestAdminDryRunImpact(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	ca, deviceCA := certstest.NewCA(t, "test CA"), certstest.NewCA(t, "device CA")
	localhostLeaf(t, ca).Write(t, dir, "server")
	caFile := deviceCA.WriteCA(t, dir)
	cfg := writeConfig(t, dir, "tls:\n  certificates: [{cert: server.pem, key: server-key.pem}]\n  client_ca: "+caFile+"\n"+
		"app: {address: '127.0.0.1:0'}\ndevice: {address: '127.0.0.1:0', client_auth: require}\nadmin: {address: '127.0.0.1:0'}\nops: {address: 'off'}\n")
	d := start(t, bin, nil, "--config", cfg)
	devCert := deviceCA.Issue(t, certstest.LeafOptions{CN: "meter-7", Client: true})
	tc := &tls.Config{RootCAs: ca.Pool, ServerName: "localhost", Certificates: []tls.Certificate{devCert.TLS}}
	conn, _, _, err := ws.Dialer{TLSConfig: tc, Timeout: 5 * time.Second}.Dial(context.Background(), "wss://"+d.Device+"/device")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	cc, err := grpc.NewClient(d.Admin, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	c := adminv1.NewAdminServiceClient(cc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	waitUntil(t, "device session", func() bool {
		l, err := c.ListSessions(ctx, &adminv1.ListSessionsRequest{Identity: "meter-7"})
		return err == nil && len(l.Sessions) == 1
	})
	other := certstest.NewCA(t, "replacement device CA")
	r, err := c.ReloadCertificates(ctx, &adminv1.ReloadCertificatesRequest{DryRun: true, ClientCaPem: other.CertPEM})
	if err != nil {
		t.Fatal(err)
	}
	if !r.DryRun || r.Generation != 1 || len(r.RefusedSessions) != 1 || r.RefusedSessions[0].Identity != "meter-7" ||
		!strings.HasPrefix(r.RefusedSessions[0].Reason, "unknown_ca") {
		t.Fatalf("dry run: got %v, want meter-7 refused for unknown_ca at generation 1", r)
	}
	st, err := c.GetStats(ctx, &adminv1.GetStatsRequest{})
	if err != nil || st.CertificateGeneration != 1 {
		t.Fatalf("after dry run: %v %v, want generation 1", st, err)
	}
}
