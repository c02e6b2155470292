package config

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
)

// Admin defaults (README documents them).
const (
	// DefaultAdminMaxConcurrentStreams bounds the concurrent calls of one
	// admin client connection.
	DefaultAdminMaxConcurrentStreams = 64
	// AdminMessageHeadroom is added to the largest listener max_message for
	// the default admin.max_message: room for the request's other fields.
	AdminMessageHeadroom = 64 << 10
	// MinAdminMaxMessage is the smallest default admin.max_message (gRPC's
	// own default, 4 MiB).
	MinAdminMaxMessage = 4 << 20
	// maxAdminMaxMessage keeps admin.max_message within what gRPC accepts.
	maxAdminMaxMessage = 1 << 30
)

// AdminClient grants Role ("read" or "admin") to the admin client
// certificate whose identity is Identity. The identity is extracted as a
// device's is (device.identity order: URI SAN, DNS SAN, CN).
type AdminClient struct {
	Identity string `yaml:"identity"`
	Role     string `yaml:"role"`
}

// applyAdminDefaults fills the admin section's zero values; it runs after
// the listeners' limits have their defaults.
func (c *Config) applyAdminDefaults() {
	setStr(&c.Admin.Address, DefaultAdminAddress)
	if c.Admin.MaxMessage == 0 {
		c.Admin.MaxMessage = DefaultAdminMaxMessage(c)
	}
	if c.Admin.MaxConcurrentStreams == 0 {
		c.Admin.MaxConcurrentStreams = DefaultAdminMaxConcurrentStreams
	}
}

// DefaultAdminMaxMessage is the default admin.max_message: the largest
// app or device limits.max_message plus AdminMessageHeadroom, at least
// MinAdminMaxMessage, so that Publish and SendToSession can carry any
// message a listener accepts.
func DefaultAdminMaxMessage(c *Config) ByteSize {
	return max(max(c.App.Limits.MaxMessage, c.Device.Limits.MaxMessage)+AdminMessageHeadroom, MinAdminMaxMessage)
}

// validateAdmin checks the admin section; bad records one problem.
func (c *Config) validateAdmin(bad badFunc) {
	a := &c.Admin
	if a.MaxMessage < 64<<10 || a.MaxMessage > maxAdminMaxMessage {
		bad("admin.max_message", "want 64KiB to 1GiB, got %s", a.MaxMessage)
	}
	if a.MaxConcurrentStreams < 1 || a.MaxConcurrentStreams > 10000 {
		bad("admin.max_concurrent_streams", "want 1 to 10000, got %d", a.MaxConcurrentStreams)
	}
	if a.TLS != nil && (a.TLS.Cert == "" || a.TLS.Key == "") {
		bad("admin.tls", "both cert and key are required (or remove admin.tls to serve the gateway's certificate)")
	}
	seen := map[string]bool{}
	for i, cl := range a.Clients {
		f := fmt.Sprintf("admin.clients[%d]", i)
		if cl.Identity == "" {
			bad(f+".identity", "required")
		} else if seen[cl.Identity] {
			bad(f+".identity", "%q is listed twice", cl.Identity)
		}
		seen[cl.Identity] = true
		if cl.Role != "read" && cl.Role != "admin" {
			bad(f+".role", "want read or admin, got %q", cl.Role)
		}
	}
	switch {
	case a.ClientCA != "" && len(a.Clients) == 0:
		bad("admin.clients", "required with admin.client_ca: list the client certificate identities and their roles "+
			"([{identity: ops-1, role: admin}]); an unlisted certificate is refused")
	case a.ClientCA == "" && len(a.Clients) > 0:
		bad("admin.client_ca", "required with admin.clients: the CAs that sign the admin client certificates")
	}
	if a.Address != "off" && !OnLoopback(a.Address) && len(a.Tokens) == 0 && a.ClientCA == "" {
		bad("admin.address", "%q is not loopback: set admin.tokens or admin.client_ca with admin.clients "+
			"(TLS is then served with the gateway's certificate or admin.tls), or listen on 127.0.0.1", a.Address)
	}
}

// OnLoopback reports whether addr (host:port) is reachable on loopback
// only: "localhost" or a loopback IP. An empty host (every interface) is not.
func OnLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// resolvePaths makes the admin section's relative paths relative to dir.
func (a *Admin) resolvePaths(dir string) {
	for _, p := range []*string{&a.ClientCA, tlsCert(a.TLS), tlsKey(a.TLS)} {
		if p != nil && *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
}

func tlsCert(p *CertPair) *string {
	if p == nil {
		return nil
	}
	return &p.Cert
}

func tlsKey(p *CertPair) *string {
	if p == nil {
		return nil
	}
	return &p.Key
}
