package cluster

import (
	"crypto/tls"
	"net"
	"path/filepath"
	"testing"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/wssgate/wssgate/gateway/certs/certstest"
	"github.com/wssgate/wssgate/gateway/config"
	"github.com/wssgate/wssgate/gateway/hub"
)

func clusterTLS(ca, cert, key string) config.ClusterTLS {
	return config.ClusterTLS{CA: ca, Cert: cert, Key: key}
}

// A NATS server requiring TLS and client certificates: the broker connects with the configured
// CA, certificate and key, and a broker without a client certificate does not.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	ca := certstest.NewCA(t, "nats test CA")
	srv := ca.Issue(t, certstest.LeafOptions{CN: "nats", IPs: []net.IP{net.ParseIP("127.0.0.1")}})
	cli := ca.Issue(t, certstest.LeafOptions{CN: "gw-1", Client: true})
	caFile := ca.WriteCA(t, dir)
	certFile, keyFile := cli.Write(t, dir, "client")

	s, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true,
		TLS: true, TLSVerify: true,
		TLSConfig: &tls.Config{
			Certificates: []tls.Certificate{srv.TLS},
			ClientCAs:    ca.Pool,
			ClientAuth:   tls.RequireAndVerifyClientCert,
			MinVersion:   tls.VersionTLS12,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(s.Shutdown)
	if !s.ReadyForConnections(waitFor) {
		t.Fatal("NATS server not ready")
	}
	url := "tls://" + s.Addr().String()

	o := testOptions("gw-1", []string{url})
	o.TLS = clusterTLS(caFile, certFile, keyFile)
	b := newBroker(t, o)
	got := make(chan hub.Message, 16)
	if _, err := b.Subscribe(t.Context(), "x", func(m hub.Message) { got <- m }); err != nil {
		t.Fatal(err)
	}
	eventually(t, "TLS link up", func() bool { return b.Stats().LinkUp })
	if err := b.Publish(t.Context(), hub.Message{Channel: "x", Origin: "gw-1", Data: []byte("over TLS")}); err != nil {
		t.Fatal(err)
	}
	if m := <-got; string(m.Data) != "over TLS" {
		t.Fatalf("got %q", m.Data)
	}

	noCert := testOptions("gw-2", []string{url})
	noCert.TLS = clusterTLS(caFile, "", "")
	b2 := newBroker(t, noCert)
	if b2.Stats().LinkUp {
		t.Fatal("a broker without a client certificate connected")
	}
	if _, err := New(t.Context(), Options{Node: "n", URLs: []string{url}, TLS: clusterTLS(filepath.Join(dir, "missing.pem"), "", "")}, nil); err == nil {
		t.Fatal("New with a missing CA file succeeded")
	}
}
