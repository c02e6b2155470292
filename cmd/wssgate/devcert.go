package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/wssgate/wssgate/gateway/certs"
	"github.com/wssgate/wssgate/gateway/config"
)

// devCAName names the development CA in the system store and NSS databases.
const devCAName = "wssgate-dev-ca"

// devcertInfo is what `wssgate devcert` prints (--json: these fields).
type devcertInfo struct {
	CAFile        string `json:"ca_file"`
	CASHA256      string `json:"ca_sha256"`
	CASPKIPin     string `json:"ca_spki_pin"`
	CertFile      string `json:"cert_file"`
	KeyFile       string `json:"key_file"`
	LeafSHA256    string `json:"leaf_sha256"`
	LeafSPKIPin   string `json:"leaf_spki_pin"`
	LeafSANs      string `json:"leaf_sans"`
	LeafNotAfter  string `json:"leaf_not_after"`
	CANotAfter    string `json:"ca_not_after"`
	Created       bool   `json:"created"`
	ChromiumFlag  string `json:"chromium_flag"`
	Unconstrained bool   `json:"ca_unconstrained,omitempty"`
}

func runDevcert(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("devcert", flag.ContinueOnError)
	dir := fs.String("dir", config.DefaultStateDir(), "state directory")
	install := fs.Bool("install", false, "trust the development CA in the system store and the NSS databases (Chromium, Firefox)")
	uninstall := fs.Bool("uninstall", false, "remove the development CA from the system store and the NSS databases")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *install && *uninstall {
		return fmt.Errorf("devcert: --install and --uninstall exclude each other: %w", errUsage)
	}
	if *uninstall {
		in := newTrustInstaller(stdout, filepath.Join(*dir, "dev-ca.pem"))
		return in.uninstall()
	}
	dev, err := certs.EnsureDev(*dir)
	if err != nil {
		return err
	}
	info := describeDev(dev)
	if *asJSON && !*install {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(info)
	}
	printDev(stdout, info)
	if *install {
		return newTrustInstaller(stdout, dev.CAFile).install()
	}
	return nil
}

// describeDev computes what devcert prints.
func describeDev(dev certs.DevFiles) devcertInfo {
	ca, leaf := dev.CA, dev.Leaf
	return devcertInfo{
		CAFile: dev.CAFile, CASHA256: certs.Fingerprint(ca), CASPKIPin: certs.SPKIPin(ca),
		CertFile: dev.CertFile, KeyFile: dev.KeyFile,
		LeafSHA256: certs.Fingerprint(leaf), LeafSPKIPin: certs.SPKIPin(leaf),
		LeafSANs:     strings.Join(certs.SANs(leaf), " "),
		LeafNotAfter: leaf.NotAfter.UTC().Format(time.DateOnly),
		CANotAfter:   ca.NotAfter.UTC().Format(time.DateOnly),
		Created:      dev.Created,
		ChromiumFlag: "--ignore-certificate-errors-spki-list=" + certs.SPKIPin(ca) + "," + certs.SPKIPin(leaf),
		Unconstrained: len(ca.PermittedDNSDomains) == 0 && len(ca.PermittedIPRanges) == 0 &&
			len(ca.ExcludedDNSDomains) == 0,
	}
}

// printDev prints info for people.
func printDev(w io.Writer, i devcertInfo) {
	fmt.Fprintf(w, "CA (trust this):   %s\n", i.CAFile)
	fmt.Fprintf(w, "CA SHA-256:        %s\n", i.CASHA256)
	fmt.Fprintf(w, "CA SPKI pin:       %s\n", i.CASPKIPin)
	fmt.Fprintf(w, "CA valid until:    %s\n", i.CANotAfter)
	fmt.Fprintf(w, "certificate:       %s (leaf + CA)\n", i.CertFile)
	fmt.Fprintf(w, "key:               %s\n", i.KeyFile)
	fmt.Fprintf(w, "leaf SHA-256:      %s\n", i.LeafSHA256)
	fmt.Fprintf(w, "leaf SPKI pin:     %s\n", i.LeafSPKIPin)
	fmt.Fprintf(w, "leaf names:        %s\n", i.LeafSANs)
	fmt.Fprintf(w, "leaf valid until:  %s\n", i.LeafNotAfter)
	fmt.Fprintf(w, "created now:       %v\n", i.Created)
	fmt.Fprintf(w, "Chromium flag:     %s\n", i.ChromiumFlag)
	fmt.Fprintf(w, "curl:              curl --cacert %s https://localhost:8443/ (8443: the default app port)\n", i.CAFile)
	if i.Unconstrained {
		fmt.Fprintf(w, "note: this CA was made by an older wssgate and has no name constraints (it could vouch for any name);\n"+
			"      delete %s and its key to get a constrained one, then trust the new one\n", i.CAFile)
	}
}

// trustInstaller puts the development CA into the trust stores of this
// machine, as mkcert does: each step prints what it did or why it skipped.
type trustInstaller struct {
	out     io.Writer
	caFile  string
	home    string
	goos    string
	root    bool
	lookExe func(string) (string, error)
}

// newTrustInstaller returns an installer for this machine and user.
func newTrustInstaller(out io.Writer, caFile string) *trustInstaller {
	home, _ := os.UserHomeDir()
	return &trustInstaller{out: out, caFile: caFile, home: home, goos: runtime.GOOS, root: os.Geteuid() == 0, lookExe: exec.LookPath}
}

// errInstall marks a failed trust step; the other steps still run.
var errInstall = errors.New("devcert: some steps failed")

// install runs every install step.
func (in *trustInstaller) install() error {
	if _, err := os.Stat(in.caFile); err != nil {
		return fmt.Errorf("devcert --install: %w", err)
	}
	return in.steps(true)
}

// uninstall runs every uninstall step.
func (in *trustInstaller) uninstall() error { return in.steps(false) }

// steps runs the system-store step and the NSS step.
func (in *trustInstaller) steps(add bool) error {
	errs := []error{in.system(add)}
	errs = append(errs, in.nss(add)...)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", errInstall, err)
	}
	return nil
}

// system adds the CA to (or removes it from) the system trust store.
func (in *trustInstaller) system(add bool) error {
	switch in.goos {
	case "darwin":
		if add {
			return in.step("macOS keychain", in.sudo("security", "add-trusted-cert", "-d", "-r", "trustRoot", "-k", "/Library/Keychains/System.keychain", in.caFile))
		}
		return in.step("macOS keychain", in.sudo("security", "remove-trusted-cert", "-d", in.caFile))
	case "linux":
		for _, s := range []struct{ name, dir, file, update string }{
			{"system store (Debian/Ubuntu)", "/usr/local/share/ca-certificates", devCAName + ".crt", "update-ca-certificates"},
			{"system store (Fedora/RHEL)", "/etc/pki/ca-trust/source/anchors", devCAName + ".pem", "update-ca-trust"},
		} {
			if _, err := in.lookExe(s.update); err != nil {
				continue
			}
			if _, err := os.Stat(s.dir); err != nil {
				continue
			}
			return in.linuxStore(s.name, filepath.Join(s.dir, s.file), s.update, add)
		}
		in.skip("system store", "neither update-ca-certificates nor update-ca-trust found")
		return nil
	}
	in.skip("system store", "not supported on "+in.goos+": import "+in.caFile+" as a trusted root by hand")
	return nil
}

// linuxStore copies the CA into (or removes it from) a Linux anchors
// folder and runs the update command.
func (in *trustInstaller) linuxStore(name, dest, update string, add bool) error {
	if !add {
		if _, err := os.Stat(dest); errors.Is(err, os.ErrNotExist) {
			in.skip(name, dest+" is not there")
			return nil
		}
	}
	var cmds [][]string
	if add {
		cmds = append(cmds, in.sudo("cp", in.caFile, dest), in.sudo("chmod", "0644", dest))
	} else {
		cmds = append(cmds, in.sudo("rm", "-f", dest))
	}
	switch {
	case update == "update-ca-trust":
		cmds = append(cmds, in.sudo(update, "extract"))
	case add:
		cmds = append(cmds, in.sudo(update))
	default: // --fresh also drops the links to the removed file in /etc/ssl/certs
		cmds = append(cmds, in.sudo(update, "--fresh"))
	}
	for _, c := range cmds {
		if err := in.run(c); err != nil {
			fmt.Fprintf(in.out, "%s: failed: %v\n", name, err)
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	verb := "added " + in.caFile + " as " + dest
	if !add {
		verb = "removed " + dest
	}
	fmt.Fprintf(in.out, "%s: %s and ran %s\n", name, verb, update)
	return nil
}

// nss adds the CA to (or removes it from) every NSS database of the user.
func (in *trustInstaller) nss(add bool) []error {
	if _, err := in.lookExe("certutil"); err != nil {
		in.skip("NSS (Chromium, Firefox)", "certutil not found; install it (Debian/Ubuntu: apt install libnss3-tools; Fedora: dnf install nss-tools; macOS: brew install nss) and run again")
		return nil
	}
	dbs := in.nssDBs()
	if len(dbs) == 0 {
		in.skip("NSS (Chromium, Firefox)", "no database found under "+in.home+" (start Chromium or Firefox once, or create one: mkdir -p ~/.pki/nssdb && certutil -d sql:$HOME/.pki/nssdb -N --empty-password)")
		return nil
	}
	var errs []error
	for _, db := range dbs {
		name := "NSS " + db
		in.run([]string{"certutil", "-d", "sql:" + db, "-D", "-n", devCAName}) // an older dev CA, if any
		if !add {
			fmt.Fprintf(in.out, "%s: removed %s\n", name, devCAName)
			continue
		}
		if err := in.run([]string{"certutil", "-d", "sql:" + db, "-A", "-t", "C,,", "-n", devCAName, "-i", in.caFile}); err != nil {
			fmt.Fprintf(in.out, "%s: failed: %v\n", name, err)
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			continue
		}
		fmt.Fprintf(in.out, "%s: added %s as %s\n", name, in.caFile, devCAName)
	}
	return errs
}

// nssDBs lists the user's NSS databases (folders holding cert9.db):
// Chromium's ~/.pki/nssdb, snap Chromium's, and Firefox profiles.
func (in *trustInstaller) nssDBs() []string {
	if in.home == "" {
		return nil
	}
	candidates := []string{filepath.Join(in.home, ".pki", "nssdb"), filepath.Join(in.home, "snap", "chromium", "current", ".pki", "nssdb")}
	for _, pattern := range []string{".mozilla/firefox/*", "snap/firefox/common/.mozilla/firefox/*", "Library/Application Support/Firefox/Profiles/*"} {
		m, _ := filepath.Glob(filepath.Join(in.home, pattern))
		candidates = append(candidates, m...)
	}
	var out []string
	for _, c := range candidates {
		if _, err := os.Stat(filepath.Join(c, "cert9.db")); err == nil {
			out = append(out, c)
		}
	}
	return out
}

// sudo prefixes a system command with sudo when not root and sudo exists.
func (in *trustInstaller) sudo(args ...string) []string {
	if in.root {
		return args
	}
	if _, err := in.lookExe("sudo"); err != nil {
		return args
	}
	return append([]string{"sudo"}, args...)
}

// step runs one command and says what it did.
func (in *trustInstaller) step(name string, args []string) error {
	if err := in.run(args); err != nil {
		fmt.Fprintf(in.out, "%s: failed: %v\n", name, err)
		return fmt.Errorf("%s: %w", name, err)
	}
	fmt.Fprintf(in.out, "%s: ran %s\n", name, strings.Join(args, " "))
	return nil
}

// skip says why a step did nothing.
func (in *trustInstaller) skip(name, why string) { fmt.Fprintf(in.out, "%s: skipped: %s\n", name, why) }

// run runs a command with a one-minute bound; the error holds its output.
func (in *trustInstaller) run(args []string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
