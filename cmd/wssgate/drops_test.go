package main

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/gobwas/ws/wsutil"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/wssgate/wssgate/gateway/certs/certstest"
	adminv1 "github.com/wssgate/wssgate/gen/wssgate/admin/v1"
)

// An app client that subscribes and never reads overflows its queue: the
// frames it lost are in its session's drops (through the admin API, while
// the session is still listed), in its listener's GetStats drops and in
// /metrics.
func TestAdminReportsDrops(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	ca := certstest.NewCA(t, "test CA")
	localhostLeaf(t, ca).Write(t, dir, "server")
	cfg := writeConfig(t, dir, "dev: true\ntls:\n  certificates: [{cert: server.pem, key: server-key.pem}]\n"+
		"app: {address: '127.0.0.1:0', limits: {max_message: 64KiB, queue_bytes: 64KiB, write_timeout: 10s}}\n"+
		"device: {address: '127.0.0.1:0'}\nadmin: {address: '127.0.0.1:0'}\nops: {address: '127.0.0.1:0'}\n")
	d := start(t, bin, nil, "--config", cfg)
	tc := &tls.Config{RootCAs: ca.Pool, ServerName: "localhost"}
	app := dialWS(t, tc, "wss://"+d.App+"/ws")
	dev := dialWS(t, tc, "wss://"+d.Device+"/device?device_id=flood")
	if err := wsutil.WriteClientText(app, []byte(`{"type":"subscribe","id":1,"channel":"devices/+/up"}`)); err != nil {
		t.Fatal(err)
	}
	if msg, err := wsutil.ReadServerText(app); err != nil || string(msg) != `{"type":"ack","id":1}` {
		t.Fatalf("subscribe: got %q, %v", msg, err)
	}
	cc, err := grpc.NewClient(d.Admin, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	c := adminv1.NewAdminServiceClient(cc)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// The app reads nothing from here on; the device floods.
	chunk := make([]byte, 16<<10)
	var drops uint64
	for i := 0; i < 4000 && drops == 0; i++ {
		if err := wsutil.WriteClientBinary(dev, chunk); err != nil {
			t.Fatalf("device write %d: %v", i, err)
		}
		if i%50 != 49 {
			continue
		}
		list, err := c.ListSessions(ctx, &adminv1.ListSessionsRequest{Listener: "app"})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range list.GetSessions() {
			drops = max(drops, s.GetDrops())
		}
	}
	if drops == 0 {
		t.Fatal("no app session reported drops > 0 while it was listed")
	}
	st, err := c.GetStats(ctx, &adminv1.GetStatsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range st.GetListeners() {
		if l.GetName() == "app" && l.GetDrops() < drops {
			t.Errorf("GetStats app drops = %d, want >= the session's %d", l.GetDrops(), drops)
		}
	}
	resp, err := http.Get("http://" + d.Ops + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`wssgate_drops_total\{listener="app",role="app"\} (\d+)`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("/metrics has no wssgate_drops_total for the app listener:\n%s", body)
	}
	if n, _ := strconv.ParseUint(string(m[1]), 10, 64); n < drops {
		t.Errorf("wssgate_drops_total{listener=app} = %d, want >= %d", n, drops)
	}
}
