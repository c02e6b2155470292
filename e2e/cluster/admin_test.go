package clustere2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/wssgate/wssgate/gateway/certs/certstest"
	"github.com/wssgate/wssgate/gateway/cluster/clustertest"
	adminv1 "github.com/wssgate/wssgate/gen/wssgate/admin/v1"
	"github.com/wssgate/wssgate/internal/daemontest"
)

func TestMain(m *testing.M) { daemontest.Main(m) }

// daemonNode is one real "wssgate serve --config" process of the cluster and its admin client.
type daemonNode struct {
	name string
	d    *daemontest.Daemon
	api  adminv1.AdminServiceClient
}

// startDaemons runs n wssgate processes (gw-1…) on the NATS cluster, sharing one certificate.
func startDaemons(t *testing.T, nats *clustertest.Cluster, ca *certstest.CA, n int) []*daemonNode {
	t.Helper()
	dir := t.TempDir()
	leaf := ca.Issue(t, certstest.LeafOptions{CN: "localhost", DNS: []string{"localhost"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	certFile, keyFile := leaf.Write(t, dir, "server")
	bin := daemontest.Binary(t)
	var out []*daemonNode
	for i := range n {
		name := fmt.Sprintf("gw-%d", i+1)
		yaml := fmt.Sprintf(`node: %s
dev: true
state_dir: %s
tls:
  certificates: [{cert: %s, key: %s}]
app: {address: "127.0.0.1:0", subscribe: ["devices/+/up", "devices/+/down"]}
device: {address: "127.0.0.1:0"}
admin: {address: "127.0.0.1:0"}
ops: {address: "127.0.0.1:0"}
cluster: {nats: [%s]}
`, name, dir, certFile, keyFile, strings.Join(nats.URLs(), ", "))
		d := daemontest.Start(t, bin, yaml)
		cc, err := grpc.NewClient(d.Admin, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatalf("admin client of %s: %v", name, err)
		}
		t.Cleanup(func() { cc.Close() })
		out = append(out, &daemonNode{name: name, d: d, api: adminv1.NewAdminServiceClient(cc)})
	}
	return out
}

func call(t *testing.T) (context.Context, context.CancelFunc) {
	t.Helper()
	return context.WithTimeout(context.Background(), wait)
}

func readyz(t *testing.T, n *daemonNode) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + n.d.Ops + "/readyz")
	if err != nil {
		t.Fatalf("readyz of %s: %v", n.name, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, string(body)
}

func TestClusterAdminThroughGRPC(t *testing.T) {
	e := &env{t: t, nats: clustertest.Start(t, 3), ca: certstest.NewCA(t, "wssgate cluster test CA")}
	ns := startDaemons(t, e.nats, e.ca, 3)
	ctx, cancel := call(t)
	defer cancel()
	eventually(t, "node 2 sees three nodes", func() bool {
		st, err := ns[1].api.GetStats(ctx, &adminv1.GetStatsRequest{})
		return err == nil && len(st.GetNodes()) == 3 && len(st.GetMissingNodes()) == 0
	})
	dev := dialNode(t, e, ns[0], "/device?device_id=d1")
	for _, n := range ns[1:] {
		dialNode(t, e, n, "/ws")
	}

	// ListSessions through node 2: every node's sessions, with their node, over two pages.
	var listed []*adminv1.Session
	eventually(t, "three sessions listed through node 2", func() bool {
		listed = listAll(t, ns[1].api, 2)
		return len(listed) == 3
	})
	nodes := map[string]string{}
	for _, s := range listed {
		nodes[s.GetNode()] = s.GetId()
	}
	if len(nodes) != 3 || nodes["gw-1"] == "" {
		t.Fatalf("sessions by node: %v, want one on each of gw-1, gw-2, gw-3", nodes)
	}

	// ListDevices through node 3; GetSession through node 3; Publish through node 3.
	ds, err := ns[2].api.ListDevices(ctx, &adminv1.ListDevicesRequest{})
	if err != nil || len(ds.GetDevices()) != 1 || ds.GetDevices()[0].GetNode() != "gw-1" || ds.GetDevices()[0].GetIdentity() != "d1" {
		t.Fatalf("ListDevices through node 3: %v, %v; want d1 on gw-1", ds, err)
	}
	if s, err := ns[2].api.GetSession(ctx, &adminv1.GetSessionRequest{Id: nodes["gw-1"]}); err != nil || s.GetSession().GetNode() != "gw-1" {
		t.Fatalf("GetSession of a gw-1 session through node 3: %v, %v", s, err)
	}
	pub, err := ns[2].api.Publish(ctx, &adminv1.PublishRequest{Channel: "devices/d1/down", Payload: &adminv1.PublishRequest_Text{Text: "hi"}})
	if err != nil || pub.GetReached() != 1 {
		t.Fatalf("Publish through node 3 to a device on node 1: %v, %v; want reached 1", pub, err)
	}
	expectFrame(t, dev, "hi")

	checkStats(t, ns[1].api)
	checkWatchAndFailures(t, e, ns)
	checkCerts(t, ns[0].api)

	// CloseSession of the gw-1 device through node 2.
	if _, err := ns[1].api.CloseSession(ctx, &adminv1.CloseSessionRequest{Id: nodes["gw-1"], Code: 4000, Reason: "maintenance"}); err != nil {
		t.Fatalf("CloseSession of a gw-1 session through node 2: %v", err)
	}
	if code, ok := dev.closeCode(wait); !ok || code != 4000 {
		t.Fatalf("device closed with %v (closed %v), want 4000", code, ok)
	}

	// NATS fully down: /readyz stays 200 and says so; GetStats reports the others missing.
	if code, body := readyz(t, ns[0]); code != 200 || !strings.Contains(body, "cluster: up") {
		t.Errorf("readyz with NATS up: %d %q", code, body)
	}
	e.nats.StopAll()
	eventually(t, "readyz says cluster: down", func() bool {
		code, body := readyz(t, ns[0])
		return code == 200 && strings.Contains(body, "cluster: down")
	})
	st, err := ns[0].api.GetStats(ctx, &adminv1.GetStatsRequest{})
	if err != nil || st.GetCluster().GetLinkUp() || !slices.Equal(st.GetMissingNodes(), []string{"gw-2", "gw-3"}) {
		t.Errorf("GetStats of node 1 with NATS down: link_up %v, missing %v, %v", st.GetCluster().GetLinkUp(), st.GetMissingNodes(), err)
	}
}

// dialNode opens a WebSocket on node n's app (path /ws) or device listener.
func dialNode(t *testing.T, e *env, n *daemonNode, path string) *conn {
	t.Helper()
	host := n.d.App
	if strings.HasPrefix(path, "/device") {
		host = n.d.Device
	}
	c, err := e.dial("wss://" + host + path)
	if err != nil {
		t.Fatalf("dial %s%s: %v", n.name, path, err)
	}
	return c
}

// listAll fetches every page of ListSessions with pages of size.
func listAll(t *testing.T, api adminv1.AdminServiceClient, size int32) []*adminv1.Session {
	t.Helper()
	ctx, cancel := call(t)
	defer cancel()
	req := &adminv1.ListSessionsRequest{PageSize: size}
	var all []*adminv1.Session
	for range 100 {
		resp, err := api.ListSessions(ctx, req)
		if err != nil {
			t.Fatalf("ListSessions: %v", err)
		}
		all = append(all, resp.GetSessions()...)
		if resp.GetNextPageToken() == "" {
			return all
		}
		req.PageToken = resp.GetNextPageToken()
	}
	t.Fatalf("ListSessions: more than 100 pages")
	return nil
}

func checkStats(t *testing.T, api adminv1.AdminServiceClient) {
	t.Helper()
	ctx, cancel := call(t)
	defer cancel()
	st, err := api.GetStats(ctx, &adminv1.GetStatsRequest{})
	if err != nil {
		t.Fatalf("GetStats: %v", err)
	}
	var open uint64
	for _, l := range st.GetListeners() {
		open += l.GetOpenSessions()
	}
	if open != 3 || len(st.GetNodes()) != 3 || !st.GetCluster().GetLinkUp() || st.GetCluster().GetNodesSeen() != 3 {
		t.Errorf("GetStats: %d open in total, %d nodes, cluster %v; want 3, 3, link up with 3 nodes seen", open, len(st.GetNodes()), st.GetCluster())
	}
	for _, n := range st.GetNodes() {
		if !n.GetUp() || len(n.GetListeners()) != 2 {
			t.Errorf("GetStats node %s: up %v, %d listeners", n.GetNode(), n.GetUp(), len(n.GetListeners()))
		}
	}
}

func checkWatchAndFailures(t *testing.T, e *env, ns []*daemonNode) {
	t.Helper()
	ctx, cancel := call(t)
	defer cancel()
	stream, err := ns[1].api.WatchSessions(ctx, &adminv1.WatchSessionsRequest{})
	if err != nil {
		t.Fatalf("WatchSessions: %v", err)
	}
	time.Sleep(200 * time.Millisecond) // the watch subscribes on NATS
	dialNode(t, e, ns[2], "/device?device_id=d3")
	for {
		ev, err := stream.Recv()
		if err != nil {
			t.Fatalf("no connect event of node 3 through node 2: %v", err)
		}
		if ev.GetNode() == "gw-3" && ev.GetSession().GetIdentity() == "d3" && ev.GetSession().GetNode() == "gw-3" {
			break
		}
	}
	// A plain-text request on node 1's device port fails the handshake there.
	if c, err := net.Dial("tcp", ns[0].d.Device); err == nil {
		fmt.Fprintf(c, "GET /device HTTP/1.1\r\nHost: x\r\n\r\n")
		_, _ = io.ReadAll(io.LimitReader(c, 4096))
		c.Close()
	}
	eventually(t, "a failure of node 1 listed through node 3", func() bool {
		fs, err := ns[2].api.ListFailures(ctx, &adminv1.ListFailuresRequest{})
		return err == nil && slices.ContainsFunc(fs.GetFailures(), func(f *adminv1.HandshakeFailure) bool { return f.GetNode() == "gw-1" })
	})
}

func checkCerts(t *testing.T, api adminv1.AdminServiceClient) {
	t.Helper()
	ctx, cancel := call(t)
	defer cancel()
	c, err := api.GetCertificates(ctx, &adminv1.GetCertificatesRequest{})
	if err != nil || slices.ContainsFunc(c.GetWarnings(), func(w string) bool { return strings.Contains(w, "different") }) {
		t.Errorf("GetCertificates of nodes serving one bundle: %v, %v", c.GetWarnings(), err)
	}
	r, err := api.ReloadCertificates(ctx, &adminv1.ReloadCertificatesRequest{AllNodes: true})
	if err != nil {
		t.Fatalf("ReloadCertificates all_nodes: %v", err)
	}
	for _, n := range []string{"gw-2", "gw-3"} {
		if !slices.ContainsFunc(r.GetWarnings(), func(w string) bool { return strings.HasPrefix(w, "node "+n+": reloaded") }) {
			t.Errorf("ReloadCertificates all_nodes: warnings %q, want node %s reloaded", r.GetWarnings(), n)
		}
	}
}
