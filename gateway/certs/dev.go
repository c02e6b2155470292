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
	"time"
)

// Development CA and leaf lifetimes, and the remaining lifetime under which
// EnsureDev renews them.
const (
	devCALifetime   = 10 * 365 * 24 * time.Hour
	devLeafLifetime = 365 * 24 * time.Hour
	devRenewBefore  = 30 * 24 * time.Hour
)

// devNames are the names the development leaf covers.
var (
	devDNS = []string{"localhost"}
	devIPs = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
)

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
}

// EnsureDev makes sure dir holds a usable development CA and a leaf for
// localhost, 127.0.0.1 and ::1 signed by it, and returns their paths. dir is
// created 0700 if missing; keys are written 0600, certificates 0644, each
// through a temp file and a rename. Existing files are reused; the leaf is
// reissued with the existing CA when it is unreadable, does not verify or
// expires within 30 days; the CA is replaced (with a new leaf) when it is
// missing, unparsable or expires within 30 days.
func EnsureDev(dir string) (DevFiles, error) {
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
	ca, caKey, err := loadDevCA(f, now)
	if errors.Is(err, errUnusable) {
		if ca, caKey, err = newDevCA(f, now); err == nil {
			f.Created, f.CACreated = true, true
		}
	}
	if err != nil {
		return f, fmt.Errorf("ensure dev certificates: %w", err)
	}
	if !f.CACreated && devLeafOK(f, ca, now) {
		return f, nil
	}
	if err := newDevLeaf(f, ca, caKey, now); err != nil {
		return f, fmt.Errorf("ensure dev certificates: %w", err)
	}
	f.Created = true
	return f, nil
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

// devLeafOK reports whether the leaf files hold a key-matched leaf that
// verifies against ca for every development name and lives 30 more days.
func devLeafOK(f DevFiles, ca *x509.Certificate, now time.Time) bool {
	c, err := readPair(Pair{f.CertFile, f.KeyFile})
	if err != nil || checkKeyMatch(c) != nil || c.Leaf.NotAfter.Sub(now) < devRenewBefore {
		return false
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	names := append([]string{}, devDNS...)
	for _, ip := range devIPs {
		names = append(names, ip.String())
	}
	for _, name := range names {
		_, err := c.Leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: name, CurrentTime: now})
		if err != nil {
			return false
		}
	}
	return true
}

// newDevCA makes and writes a development CA.
func newDevCA(f DevFiles, now time.Time) (*x509.Certificate, crypto.Signer, error) {
	cn := "wssgate development CA"
	if host, err := os.Hostname(); err == nil && host != "" {
		cn += " (" + host + ")"
	}
	ca, key, err := NewCA(cn, now.Add(devCALifetime))
	if err != nil {
		return nil, nil, err
	}
	if err := writeKeyAndCert(f.CAKeyFile, f.CAFile, key, ca); err != nil {
		return nil, nil, err
	}
	return ca, key, nil
}

// newDevLeaf issues and writes the development leaf.
func newDevLeaf(f DevFiles, ca *x509.Certificate, caKey crypto.Signer, now time.Time) error {
	leaf, key, err := Issue(ca, caKey, IssueOptions{
		CN:        "localhost",
		DNS:       devDNS,
		IPs:       devIPs,
		NotBefore: now.Add(-time.Hour),
		NotAfter:  now.Add(devLeafLifetime),
	})
	if err != nil {
		return err
	}
	return writeKeyAndCert(f.KeyFile, f.CertFile, key, leaf)
}

// writeKeyAndCert writes key (0600) and then cert (0644).
func writeKeyAndCert(keyFile, certFile string, key crypto.Signer, cert *x509.Certificate) error {
	keyPEM, err := KeyPEM(key)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(keyFile, keyPEM, 0o600); err != nil {
		return err
	}
	return writeFileAtomic(certFile, CertPEM(cert), 0o644)
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
