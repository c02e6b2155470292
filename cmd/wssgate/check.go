package main

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/wssgate/wssgate/gateway"
	"github.com/wssgate/wssgate/gateway/certs"
	"github.com/wssgate/wssgate/gateway/config"
	"github.com/wssgate/wssgate/gateway/listener"
)

// errCheckFailed makes `wssgate check` exit 1 after it printed its findings.
var errCheckFailed = errors.New("check found errors")

// runCheck validates the configuration and certificates offline, then
// handshakes with each listener that is up, and prints one line per
// finding: OK, INFO, WARN or ERROR. Any ERROR makes it exit non-zero.
func runCheck(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "configuration file (YAML); none: the development setup")
	timeout := fs.Duration("timeout", 3*time.Second, "limit for each live handshake")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	c := &checker{w: stdout}
	cfg, roots, ok := c.config(*cfgPath)
	if !ok {
		return errCheckFailed
	}
	hosts := gateway.Hostnames(cfg)
	b, ok := c.bundle(cfg, hosts)
	if !ok {
		return errCheckFailed
	}
	c.listeners(cfg, hosts, roots, b, *timeout)
	c.usedNames(cfg, b, *timeout)
	if c.errors > 0 {
		return errCheckFailed
	}
	return nil
}

// config loads the configuration to check (the development one without a
// file) and the roots a client would trust.
func (c *checker) config(path string) (cfg *config.Config, roots *x509.CertPool, ok bool) {
	cfg = config.Dev()
	if path != "" {
		var err error
		if cfg, err = config.Load(path); err != nil {
			c.say("ERROR", "config %s: %v", path, oneLine(err))
			return nil, nil, false
		}
		c.say("OK", "config %s is valid", path)
	}
	if len(cfg.TLS.Certificates) == 0 { // development certificate
		dev := certs.DevFiles{CAFile: cfg.StateDir + "/dev-ca.pem", CertFile: cfg.StateDir + "/dev-cert.pem", KeyFile: cfg.StateDir + "/dev-key.pem"}
		if _, err := os.Stat(dev.CertFile); err != nil {
			c.say("ERROR", "no certificate configured and no development certificate in %s: run `wssgate serve` or `wssgate devcert` once", cfg.StateDir)
			return nil, nil, false
		}
		cfg.TLS.Certificates = []config.CertPair{{Cert: dev.CertFile, Key: dev.KeyFile}}
		if cfg.TLS.Hostnames == nil {
			cfg.TLS.Hostnames = []string{"localhost", "127.0.0.1", "::1"}
		}
		roots, _, _ = certs.LoadCAPool(dev.CAFile)
		c.say("INFO", "development certificate %s (trust %s)", dev.CertFile, dev.CAFile)
	}
	if cfg.TLS.RootCA != "" {
		roots, _, _ = certs.LoadCAPool(cfg.TLS.RootCA)
	}
	return cfg, roots, true
}

// bundle loads and validates the certificates as the gateway would.
func (c *checker) bundle(cfg *config.Config, hosts []string) (*certs.Bundle, bool) {
	store, err := gateway.NewCertStore(cfg)
	if err != nil {
		c.say("ERROR", "%s", oneLine(err))
		return nil, false
	}
	b := store.Current()
	for _, crt := range b.Certs {
		c.say("OK", "certificate %s: %s, SANs %s, %s, expires %s (in %s), sha256 %s",
			crt.CertFile, crt.Leaf.Subject, sans(crt.Leaf), crt.KeyType,
			crt.Leaf.NotAfter.UTC().Format(time.DateOnly), days(time.Until(crt.Leaf.NotAfter)), crt.FingerprintHex())
	}
	for _, h := range hosts {
		c.say("OK", "hostname %q is covered by the certificate's SANs", h)
	}
	if len(hosts) == 0 {
		c.say("WARN", "no hostnames configured (tls.hostnames or app/device public_host): SAN coverage not checked")
	}
	for _, w := range b.Warnings {
		c.say("WARN", "%s", w)
	}
	if len(b.ClientCASubjects) > 0 {
		c.say("OK", "client CAs: %s", strings.Join(b.ClientCASubjects, "; "))
	}
	return b, true
}

// listeners says what a client sees on each listener that is up: one live
// handshake per configured name (as SNI), and the URLs the gateway
// advertises (as /.well-known/wssgate builds them).
func (c *checker) listeners(cfg *config.Config, hosts []string, roots *x509.CertPool, b *certs.Bundle, timeout time.Duration) {
	names := []string{"localhost"}
	if len(hosts) > 0 {
		names = names[:0]
		for _, h := range hosts {
			names = append(names, strings.Trim(h, "[]"))
		}
	}
	for _, l := range []struct{ role, addr, path string }{
		{"app", cfg.App.Address, cfg.App.WSPath}, {"device", cfg.Device.Address, cfg.Device.Path},
	} {
		for _, name := range names {
			if !c.live(l.role, dialAddr(l.addr), name, roots, b.Certs[0].Fingerprint, timeout) {
				break // not running: one line is enough
			}
		}
	}
	e := listener.Endpoints{
		PublicHost: cfg.App.PublicHost, DevicePublicHost: cfg.Device.PublicHost, DeviceBindIP: bindIP(cfg.Device.Address),
		AppPort: port(cfg.App.Address, cfg.App.PublicPort), WSPath: cfg.App.WSPath,
		DevicePort: port(cfg.Device.Address, cfg.Device.PublicPort), DevicePath: cfg.Device.Path,
	}
	w := e.For(names[0])
	c.say("INFO", "a page served from %s opens %s; devices connect to %s (never ws:// from an https:// page)", w.AppURL, w.AppWSURL, w.DeviceWSURL)
}

type checker struct {
	w      io.Writer
	errors int
}

func (c *checker) say(level, format string, args ...any) {
	if level == "ERROR" {
		c.errors++
	}
	fmt.Fprintf(c.w, "%-5s %s\n", level, fmt.Sprintf(format, args...))
}

// live handshakes with a running listener as a client that asks for name;
// it reports whether the listener is running.
func (c *checker) live(role, addr, name string, roots *x509.CertPool, want [32]byte, timeout time.Duration) bool {
	d := &net.Dialer{Timeout: timeout}
	conn, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{ServerName: name, RootCAs: roots})
	var uae x509.UnknownAuthorityError
	switch {
	case errors.As(err, &uae):
		c.say("WARN", "%s listener %s: chain not verified: signed by an authority this machine does not trust (set tls.root_ca to check it)", role, addr)
		return true
	case err != nil && isRefused(err):
		c.say("INFO", "%s listener %s: not running, live handshake skipped", role, addr)
		return false
	case err != nil:
		c.say("ERROR", "%s listener %s: handshake as %q failed: %v", role, addr, name, err)
		return true
	}
	defer conn.Close()
	cs := conn.ConnectionState()
	got := sha256.Sum256(cs.PeerCertificates[0].Raw)
	if got != want {
		c.say("WARN", "%s listener %s serves sha256 %s as %q, not the certificate on disk: reload it (SIGHUP or `wssgatectl certs reload`)",
			role, addr, hex.EncodeToString(got[:]), name)
		return true
	}
	c.say("OK", "%s listener %s: %s %s as %q, certificate verified", role, addr,
		tls.VersionName(cs.Version), tls.CipherSuiteName(cs.CipherSuite), name)
	return true
}

func isRefused(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// dialAddr turns a listen address into one to dial on this machine.
func dialAddr(listen string) string {
	host, p, _ := net.SplitHostPort(listen)
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, p)
}

func port(listen string, public int) int {
	if public != 0 {
		return public
	}
	_, p, _ := net.SplitHostPort(listen)
	n, _ := strconv.Atoi(p)
	return n
}

// bindIP is the IP of a listen address, "" for a wildcard or a name.
func bindIP(listen string) string {
	host, _, _ := net.SplitHostPort(listen)
	if ip := net.ParseIP(host); ip != nil && !ip.IsUnspecified() {
		return ip.String()
	}
	return ""
}

func sans(c *x509.Certificate) string { return "[" + strings.Join(certs.SANs(c), " ") + "]" }

func days(d time.Duration) string { return fmt.Sprintf("%d days", int(d.Hours()/24)) }

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }
