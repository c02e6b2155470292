package listener

import (
	"bytes"
	"crypto/tls"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/wssgate/wssgate/gateway/certs"
	"github.com/wssgate/wssgate/gateway/certs/certstest"
)

// addrConn is a connection that only has addresses, for ClientHelloInfo.
type addrConn struct {
	net.Conn
	local, remote net.Addr
}

func (c addrConn) LocalAddr() net.Addr  { return c.local }
func (c addrConn) RemoteAddr() net.Addr { return c.remote }

func clientHello(sni string, port int) *tls.ClientHelloInfo {
	return &tls.ClientHelloInfo{ServerName: sni, Conn: addrConn{
		local:  &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2), Port: 8443},
		remote: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port},
	}}
}

func newTestCoverage(t *testing.T, maxPending int) (*Coverage, *Counters, *bytes.Buffer, *certs.NameLog) {
	t.Helper()
	ca := certstest.NewCA(t, "coverage CA")
	certFile, keyFile := ca.Issue(t, certstest.LeafOptions{CN: "localhost", DNS: []string{"localhost", "example.com"}}).Write(t, t.TempDir(), "c")
	store, err := certs.NewStore(certs.Options{Pairs: []certs.Pair{{CertFile: certFile, KeyFile: keyFile}}})
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	counters, names := &Counters{Name: "app"}, certs.NewNameLog(0)
	return NewCoverage(store.Current, names, counters, slog.New(slog.NewTextHandler(&logs, nil)), maxPending), counters, &logs, names
}

func TestCoverageBoundsPendingHellos(t *testing.T) {
	c, counters, logs, _ := newTestCoverage(t, 1)
	c.note(clientHello("localhost", 1000))      // held
	c.note(clientHello("socket.example", 1001)) // over the bound: recorded at once
	r := counters.Recent()
	if len(r) != 1 || r[0].Reason != NameNotCovered || !strings.Contains(r[0].Message, "more than 1 handshakes in progress") {
		t.Fatalf("failures: got %+v, want the uncovered hello recorded at once, naming the bound", r)
	}
	if !strings.Contains(logs.String(), "name_not_covered") {
		t.Errorf("log: got %q, want the failure line", logs.String())
	}
	if miss := c.succeeded("127.0.0.1:1000"); miss != nil {
		t.Errorf("covered hello: got miss %v", miss)
	}
	if _, ok := c.take("127.0.0.1:1001"); ok {
		t.Error("the hello over the bound was held")
	}
}

func TestCoverageFailedNamesTheCause(t *testing.T) {
	c, _, _, names := newTestCoverage(t, 0)
	c.note(clientHello("", 1000)) // no SNI: the dialled 127.0.0.2 is not in the IP SANs
	f := Failure{Remote: "127.0.0.1:1000", Stage: "tls", Reason: TLSFailure, Message: "EOF"}
	c.failed(&f)
	want := "client dialled 127.0.0.2 without SNI, which the certificate does not cover [DNS:localhost DNS:example.com]; the handshake then failed: EOF"
	if f.Reason != NameNotCovered || f.Name != "127.0.0.2" || f.ServerName != "" || f.Message != want {
		t.Fatalf("failure: got %+v, want %q", f, want)
	}
	if names.Len() != 0 {
		t.Errorf("a failed handshake's name was recorded")
	}
	c.note(clientHello("Example.COM", 1001))
	if miss := c.succeeded("127.0.0.1:1001"); miss != nil || names.Len() != 1 || names.Recent(f.Time)[0].Name != "example.com" {
		t.Fatalf("covered handshake: miss %v, names %+v, want example.com recorded", miss, names.Recent(f.Time))
	}
}
