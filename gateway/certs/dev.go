package certs

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Development CA and leaf lifetimes, and the remaining lifetime under which
// EnsureDev renews them.
// A CA made by an older wssgate (10 years, no name constraints) keeps being
// used until it nears its end.
const (
	devCALifetime   = 2 * 365 * 24 * time.Hour
	devLeafLifetime = 90 * 24 * time.Hour
	devRenewBefore  = 30 * 24 * time.Hour
)

// devNames are the names the development leaf covers.
var (
	devDNS = []string{"localhost"}
	devIPs = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	// devPermittedDNS and devPermittedIPs are the name constraints of a new
	// development CA (with the hostnames configured at its creation): a
	// trusted development CA cannot vouch for a public name. "localhost"
	// also permits its subdomains; ".test" permits only subdomains.
	devPermittedDNS = []string{"localhost", ".localhost", ".test"}
	devPermittedIPs = []*net.IPNet{
		{IP: net.IPv4(127, 0, 0, 0).To4(), Mask: net.CIDRMask(8, 32)},
		{IP: net.IPv6loopback, Mask: net.CIDRMask(128, 128)},
	}
)

// DevOptions are the options of EnsureDevWith. The zero value is EnsureDev.
type DevOptions struct {
	// Hostnames are extra names or IPs (ports and brackets are stripped)
	// the leaf covers and a new CA permits. A hostname that an existing CA's
	// name constraints do not permit is left out of the leaf and listed in
	// DevFiles.NotPermitted. nil: localhost and the loopback IPs only.
	Hostnames []string
	// Now is the clock. nil: time.Now.
	Now func() time.Time
}

// DevFiles names the development CA and leaf written by EnsureDev.
type DevFiles struct {
	// Dir holds the files.
	Dir string
	// CAFile is dev-ca.pem (the file to trust), CAKeyFile dev-ca-key.pem.
	CAFile, CAKeyFile string
	// CertFile is dev-cert.pem, KeyFile dev-key.pem.
	CertFile, KeyFile string
	// Created is true when EnsureDev wrote any file (a new CA or a new leaf).
	Created bool
	// CACreated is true when EnsureDev made a new CA, which clients must
	// trust anew.
	CACreated bool
	// CA and Leaf are the certificates in the files.
	CA, Leaf *x509.Certificate
	// NotPermitted lists DevOptions.Hostnames the CA's name constraints
	// exclude (a CA made before they were configured): delete dev-ca.pem
	// and dev-ca-key.pem to make a CA that permits them.
	NotPermitted []string
}

// EnsureDev is EnsureDevWith without options.
func EnsureDev(dir string) (DevFiles, error) { return EnsureDevWith(dir, DevOptions{}) }

// EnsureDevWith makes sure dir holds a usable development CA and a leaf for
// localhost, 127.0.0.1, ::1 and o.Hostnames signed by it, and returns their
// paths. A new CA lives 2 years and carries name constraints (localhost,
// .localhost, .test, 127.0.0.0/8, ::1 and o.Hostnames); a leaf lives 90
// days. The leaf file holds the chain leaf + CA, so that clients that pin
// or trust the CA (Chromium's --ignore-certificate-errors-spki-list) see
// it in the handshake. dir is created 0700 if missing; keys are written
// 0600, certificates 0644, each through a temp file and a rename. Existing
// files are reused; the leaf is reissued with the existing CA when it is
// unreadable, does not verify for every name, is not followed by the CA in
// its file, or expires within 30 days; the CA is replaced (with a new leaf)
// when it is missing, unparsable or expires within 30 days.
func EnsureDevWith(dir string, o DevOptions) (DevFiles, error) {
	f := DevFiles{
		Dir:       dir,
		CAFile:    filepath.Join(dir, "dev-ca.pem"),
		CAKeyFile: filepath.Join(dir, "dev-ca-key.pem"),
		CertFile:  filepath.Join(dir, "dev-cert.pem"),
		KeyFile:   filepath.Join(dir, "dev-key.pem"),
	}
	if dir == "" {
		return f, fmt.Errorf("ensure dev certificates: %w", os.ErrInvalid)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return f, fmt.Errorf("ensure dev certificates: %w", err)
	}
	now := time.Now()
	if o.Now != nil {
		now = o.Now()
	}
	hosts := devHosts(o.Hostnames)
	ca, caKey, err := loadDevCA(f, now)
	if errors.Is(err, errUnusable) {
		if ca, caKey, err = newDevCA(f, hosts, now); err == nil {
			f.Created, f.CACreated = true, true
		}
	}
	if err != nil {
		return f, fmt.Errorf("ensure dev certificates: %w", err)
	}
	f.CA = ca
	dns, ips, notPermitted := permittedHosts(ca, hosts, devDNS, devIPs)
	f.NotPermitted = notPermitted
	if !f.CACreated {
		if f.Leaf = devLeafOK(f, ca, dns, ips, now); f.Leaf != nil {
			return f, nil
		}
	}
	if f.Leaf, err = newDevLeaf(f, ca, caKey, dns, ips, now); err != nil {
		return f, fmt.Errorf("ensure dev certificates: %w", err)
	}
	f.Created = true
	return f, nil
}

// devHosts strips ports, brackets and trailing dots from hostnames, and
// drops empty and duplicate ones.
func devHosts(hostnames []string) []string {
	var out []string
	for _, h := range hostnames {
		if h = strings.ToLower(hostOnly(h)); h != "" && !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}

// permittedHosts adds to dns and ips the hosts ca's name constraints permit,
// and returns the others as notPermitted.
func permittedHosts(ca *x509.Certificate, hosts, dns []string, ips []net.IP) ([]string, []net.IP, []string) {
	dns, ips = slices.Clone(dns), slices.Clone(ips)
	var notPermitted []string
	for _, h := range hosts {
		ip := net.ParseIP(h)
		switch {
		case ip != nil && ipPermitted(ca, ip):
			if !slices.ContainsFunc(ips, ip.Equal) {
				ips = append(ips, ip)
			}
		case ip == nil && dnsPermitted(ca, h):
			if !slices.Contains(dns, h) {
				dns = append(dns, h)
			}
		default:
			notPermitted = append(notPermitted, h)
		}
	}
	return dns, ips, notPermitted
}

// ipPermitted reports whether ca's IP constraints permit ip (no IP
// constraints permit every IP).
func ipPermitted(ca *x509.Certificate, ip net.IP) bool {
	if len(ca.PermittedIPRanges) == 0 && len(ca.PermittedDNSDomains) == 0 {
		return true
	}
	return slices.ContainsFunc(ca.PermittedIPRanges, func(n *net.IPNet) bool { return n.Contains(ip) })
}

// dnsPermitted reports whether ca's DNS constraints permit name, as
// crypto/x509 matches them: "a.b" permits a.b and its subdomains, ".a.b"
// only subdomains.
func dnsPermitted(ca *x509.Certificate, name string) bool {
	if len(ca.PermittedDNSDomains) == 0 && len(ca.PermittedIPRanges) == 0 {
		return true
	}
	for _, c := range ca.PermittedDNSDomains {
		c = strings.ToLower(c)
		if strings.HasPrefix(c, ".") && strings.HasSuffix(name, c) && len(name) > len(c) ||
			name == c || strings.HasSuffix(name, "."+c) {
			return true
		}
	}
	return false
}

// errUnusable marks a development file that must be regenerated.
var errUnusable = errors.New("unusable")

// loadDevCA reads the development CA. A missing, unparsable or expiring CA
// gives errUnusable; other read errors (such as permissions) are returned
// as they are, so that a CA someone trusts is not replaced by accident.
func loadDevCA(f DevFiles, now time.Time) (*x509.Certificate, crypto.Signer, error) {
	certPEM, err := os.ReadFile(f.CAFile)
	if err != nil {
		return nil, nil, devReadErr(err)
	}
	keyPEM, err := os.ReadFile(f.CAKeyFile)
	if err != nil {
		return nil, nil, devReadErr(err)
	}
	c, err := parsePair(certPEM, keyPEM, f.CAFile, f.CAKeyFile)
	if err != nil || checkKeyMatch(c) != nil || !c.Leaf.IsCA || c.Leaf.NotAfter.Sub(now) < devRenewBefore {
		return nil, nil, errUnusable
	}
	return c.Leaf, c.key, nil
}

// devReadErr maps a missing file to errUnusable.
func devReadErr(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return errUnusable
	}
	return err
}

// devLeafOK returns the leaf if the leaf files hold a key-matched leaf,
// followed by ca, that verifies against ca for every name and lives 30
// more days; nil otherwise.
func devLeafOK(f DevFiles, ca *x509.Certificate, dns []string, ips []net.IP, now time.Time) *x509.Certificate {
	c, err := readPair(Pair{f.CertFile, f.KeyFile})
	if err != nil || checkKeyMatch(c) != nil || c.Leaf.NotAfter.Sub(now) < devRenewBefore {
		return nil
	}
	if len(c.Chain) != 2 || !c.Chain[1].Equal(ca) {
		return nil // a leaf-only file of an older wssgate: serve the chain
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	names := slices.Clone(dns)
	for _, ip := range ips {
		names = append(names, ip.String())
	}
	for _, name := range names {
		_, err := c.Leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: name, CurrentTime: now})
		if err != nil {
			return nil
		}
	}
	return c.Leaf
}

// newDevCA makes and writes a name-constrained development CA.
func newDevCA(f DevFiles, hosts []string, now time.Time) (*x509.Certificate, crypto.Signer, error) {
	cn := "wssgate development CA"
	if host, err := os.Hostname(); err == nil && host != "" {
		cn += " (" + host + ")"
	}
	c := &NameConstraints{DNS: slices.Clone(devPermittedDNS), IPs: slices.Clone(devPermittedIPs)}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip == nil {
			c.DNS = append(c.DNS, h)
		} else if !slices.ContainsFunc(c.IPs, func(n *net.IPNet) bool { return n.Contains(ip) }) {
			c.IPs = append(c.IPs, hostNet(ip))
		}
	}
	ca, key, err := NewConstrainedCA(cn, now.Add(-time.Hour), now.Add(devCALifetime), c)
	if err != nil {
		return nil, nil, err
	}
	if err := writeKeyAndCert(f.CAKeyFile, f.CAFile, key, ca); err != nil {
		return nil, nil, err
	}
	return ca, key, nil
}

// hostNet is the /32 or /128 network of ip.
func hostNet(ip net.IP) *net.IPNet {
	if v4 := ip.To4(); v4 != nil {
		return &net.IPNet{IP: v4, Mask: net.CIDRMask(32, 32)}
	}
	return &net.IPNet{IP: ip, Mask: net.CIDRMask(128, 128)}
}

// newDevLeaf issues the development leaf and writes it followed by ca.
func newDevLeaf(f DevFiles, ca *x509.Certificate, caKey crypto.Signer, dns []string, ips []net.IP, now time.Time) (*x509.Certificate, error) {
	notAfter := now.Add(devLeafLifetime)
	if notAfter.After(ca.NotAfter) {
		notAfter = ca.NotAfter
	}
	leaf, key, err := Issue(ca, caKey, IssueOptions{
		CN:        "localhost",
		DNS:       dns,
		IPs:       ips,
		NotBefore: now.Add(-time.Hour),
		NotAfter:  notAfter,
	})
	if err != nil {
		return nil, err
	}
	return leaf, writeKeyAndCert(f.KeyFile, f.CertFile, key, leaf, ca)
}

// writeKeyAndCert writes key (0600) and then the chain (0644).
func writeKeyAndCert(keyFile, certFile string, key crypto.Signer, chain ...*x509.Certificate) error {
	keyPEM, err := KeyPEM(key)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(keyFile, keyPEM, 0o600); err != nil {
		return err
	}
	return writeFileAtomic(certFile, CertPEM(chain...), 0o644)
}

// writeFileAtomic writes data to a temp file in file's directory, sets
// mode, syncs and renames it over file.
func writeFileAtomic(file string, data []byte, mode os.FileMode) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(mode); err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	if err = os.Rename(tmp.Name(), file); err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	return nil
}
