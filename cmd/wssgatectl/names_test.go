package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/wssgate/wssgate/admin"
)

func TestCertsNames(t *testing.T) {
	e := startEnv(t, admin.Config{})
	now := time.Now()
	e.names.Uses = []admin.NameUse{
		{Name: "socket.example", Handshakes: 312, LastSeen: now.Add(-2 * time.Minute), Covered: false},
		{Name: "127.0.0.1", Handshakes: 7, LastSeen: now.Add(-3 * time.Hour), Covered: true},
	}
	r := runCtl(t, "--addr", e.addr, "certs", "names").want(t, 0)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 3 || !strings.Contains(lines[1], "socket.example") || !strings.Contains(lines[1], "312") ||
		!strings.HasSuffix(strings.TrimSpace(lines[1]), "NO") || !strings.HasSuffix(strings.TrimSpace(lines[2]), "yes") {
		t.Errorf("table: got\n%s", r.stdout)
	}
	r = runCtl(t, "--addr", e.addr, "certs", "names", "--within", "1h", "--json").want(t, 0)
	var got struct {
		Names []struct {
			Name       string `json:"name"`
			Handshakes string `json:"handshakes"`
			Covered    bool   `json:"covered"`
		} `json:"names"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || len(got.Names) != 1 || got.Names[0].Handshakes != "312" || got.Names[0].Covered {
		t.Errorf("json within 1h: got %+v (%v) from %s", got, err, r.stdout)
	}
	runCtl(t, "--addr", e.addr, "certs", "names", "--within", "-1h").want(t, 2)
}

func TestCertsReloadForce(t *testing.T) {
	e := startEnv(t, admin.Config{})
	e.certs.LostNames = `"socket.example": 312 handshakes, last 2 min ago`
	r := runCtl(t, "--addr", e.addr, "certs", "reload").want(t, 1)
	if !strings.Contains(r.stderr, `"socket.example": 312 handshakes`) || e.certs.Generation() != 1 {
		t.Errorf("unforced: got stderr %q, generation %d", r.stderr, e.certs.Generation())
	}
	r = runCtl(t, "--addr", e.addr, "certs", "reload", "--dry-run").want(t, 0)
	if !strings.Contains(r.stdout, `warning: the new certificates stop covering names clients used: "socket.example": 312`) {
		t.Errorf("dry run: got %q, want the warning", r.stdout)
	}
	r = runCtl(t, "--addr", e.addr, "certs", "reload", "--force").want(t, 0)
	if !strings.Contains(r.stdout, "reloaded: generation 2") || e.certs.Generation() != 2 {
		t.Errorf("forced: got %q, generation %d", r.stdout, e.certs.Generation())
	}
}

func TestFailuresClientCertificate(t *testing.T) {
	e := startEnv(t, admin.Config{})
	e.stats.History = []admin.Failure{{
		Time: time.Now(), Listener: "device", RemoteAddr: "192.0.2.2:1234", Stage: "tls", Reason: "bad_client_certificate",
		Message: "unknown_ca: x509: certificate signed by unknown authority", ClientCertSubject: "CN=evil",
		ClientCertIssuer: "CN=other CA", ClientCertSerial: "e318", ClientCertSHA256: "444a",
	}, {
		Time: time.Now(), Listener: "app", RemoteAddr: "192.0.2.3:1234", Stage: "tls", Reason: "name_not_covered",
		Message: `client asked for "socket.example", which the certificate does not cover [DNS:localhost]`,
		Name:    "socket.example", CertificateSANs: []string{"DNS:localhost"},
	}}
	r := runCtl(t, "--addr", e.addr, "failures").want(t, 0)
	for _, w := range []string{`CN=evil issuer="CN=other CA" serial="e318" sha256="444a"`, `client asked for "socket.example"`} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("output lacks %q:\n%s", w, r.stdout)
		}
	}
	r = runCtl(t, "--addr", e.addr, "failures", "--json").want(t, 0)
	for _, w := range []string{`"client_certificate_issuer":"CN=other CA"`, `"name":"socket.example"`, `"certificate_sans":["DNS:localhost"]`} {
		if !strings.Contains(strings.ReplaceAll(r.stdout, " ", ""), strings.ReplaceAll(w, " ", "")) {
			t.Errorf("json lacks %s:\n%s", w, r.stdout)
		}
	}
}
