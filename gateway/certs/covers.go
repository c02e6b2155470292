package certs

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// RejectNameNotCovered is the failure reason of a handshake whose SNI (or,
// without SNI, dialled IP) the served certificate does not cover.
const RejectNameNotCovered = "name_not_covered"

// ErrNameNotCovered: a client asked for a name, or dialled an IP without
// SNI, that the served certificate does not cover. NotCoveredError wraps it.
var ErrNameNotCovered = errors.New("certs: name not covered by the served certificate")

// coverage is what the handshake-time coverage check precomputes per
// served certificate of a bundle.
type coverage struct {
	sans []string              // SANs(leaf), shared and immutable
	ips  map[netip.Addr]string // IP SAN (unmapped) → its String()
}

// indexCoverage precomputes the SAN lists and IP sets of every certificate.
func (b *Bundle) indexCoverage() {
	b.cover = make([]coverage, len(b.Certs))
	for i, c := range b.Certs {
		cv := coverage{sans: SANs(c.Leaf), ips: map[netip.Addr]string{}}
		for _, ip := range c.Leaf.IPAddresses {
			if a, ok := netip.AddrFromSlice(ip); ok {
				cv.ips[a.Unmap()] = a.Unmap().String()
			}
		}
		b.cover[i] = cv
	}
}

// SANs returns the DNS, IP and URI SANs of leaf in display form, in that
// order: "DNS:localhost", "IP:127.0.0.1", "URI:spiffe://…".
func SANs(leaf *x509.Certificate) []string {
	out := make([]string, 0, len(leaf.DNSNames)+len(leaf.IPAddresses)+len(leaf.URIs))
	for _, d := range leaf.DNSNames {
		out = append(out, "DNS:"+d)
	}
	for _, ip := range leaf.IPAddresses {
		out = append(out, "IP:"+ip.String())
	}
	for _, u := range leaf.URIs {
		out = append(out, "URI:"+u.String())
	}
	return out
}

// certIndex returns the index of the certificate served for sni (already
// lowercased, no trailing dot) and whether a SAN of it matched: exact DNS
// SAN, then wildcard, else the default (index 0, no match). It is the
// selection of getCertificate without the client's algorithm preference;
// every candidate it could prefer matches sni as well.
func (b *Bundle) certIndex(sni string) (int, bool) {
	if sni == "" {
		return 0, false
	}
	if idx, ok := b.exact[sni]; ok {
		return idx[0], true
	}
	if label, parent, found := strings.Cut(sni, "."); found && label != "" {
		if idx, ok := b.wild[parent]; ok {
			return idx[0], true
		}
	}
	return 0, false
}

// normalSNI lowercases name and drops a trailing dot; it allocates only
// when name holds an upper-case letter.
func normalSNI(name string) string {
	return strings.TrimSuffix(strings.ToLower(name), ".")
}

// CertificateFor returns the certificate a handshake with SNI sni is
// served, chosen as the TLS configs choose it (exact DNS SAN, then
// "*.parent" wildcard, else Certs[0]). Among twins for the same name (ECDSA
// and RSA) it returns the first; the handshake may pick another twin, which
// covers the same name.
func (b *Bundle) CertificateFor(sni string) *Cert {
	i, _ := b.certIndex(normalSNI(sni))
	return b.Certs[i]
}

// Coverage reports whether the certificate served to a handshake covers
// what the client asked for. With an SNI: whether the served certificate
// covers that name (x509 VerifyHostname semantics: exact names, and
// "*.parent" wildcards for exactly one label). Without SNI: whether
// localIP, the address the client dialled, is among the default
// certificate's IP SANs (IPv4-mapped IPv6 counts as IPv4). Without SNI and
// local IP it reports true with name "".
//
// name is the normalised SNI or the IP as text; sans are the certificate's
// SANs in display form (shared: do not modify). The covered case does not
// allocate.
func (b *Bundle) Coverage(sni string, localIP net.IP) (covered bool, name string, sans []string) {
	if sni != "" {
		name = normalSNI(sni)
		i, ok := b.certIndex(name)
		if !ok {
			// An SNI that is an IP literal (sent by a few clients) is
			// matched against IP SANs, as VerifyHostname does.
			if a, err := netip.ParseAddr(name); err == nil {
				_, ok = b.cover[i].ips[a.Unmap()]
			}
		}
		return ok, name, b.cover[i].sans
	}
	a, ok := netip.AddrFromSlice(localIP)
	if !ok {
		return true, "", b.cover[0].sans
	}
	a = a.Unmap()
	if s, ok := b.cover[0].ips[a]; ok {
		return true, s, b.cover[0].sans
	}
	return false, a.String(), b.cover[0].sans
}

// Covers reports whether a client using name (an SNI name, or an IP it
// dials without SNI) would be served a certificate that covers it.
func (b *Bundle) Covers(name string) bool {
	if a, err := netip.ParseAddr(strings.Trim(name, "[]")); err == nil {
		covered, _, _ := b.Coverage("", a.AsSlice())
		return covered
	}
	covered, _, _ := b.Coverage(name, nil)
	return covered
}

// HelloLocalIP returns the local IP of the connection a ClientHello
// arrived on (the address the client dialled), or nil if unknown. It does
// not allocate.
func HelloLocalIP(hello *tls.ClientHelloInfo) net.IP {
	if hello == nil || hello.Conn == nil {
		return nil
	}
	if a, ok := hello.Conn.LocalAddr().(*net.TCPAddr); ok {
		return a.IP
	}
	return nil
}

// NotCoveredError describes a handshake whose name or IP the served
// certificate does not cover. It wraps ErrNameNotCovered.
type NotCoveredError struct {
	// Name is the SNI the client sent, or the IP it dialled.
	Name string
	// SNI is true when Name came from the SNI, false for a dialled IP.
	SNI bool
	// SANs are the served certificate's SANs in display form.
	SANs []string
}

// Error returns NotCoveredMessage of e.
func (e *NotCoveredError) Error() string { return NotCoveredMessage(e.Name, e.SNI, e.SANs) }

// Unwrap returns ErrNameNotCovered.
func (e *NotCoveredError) Unwrap() error { return ErrNameNotCovered }

// CheckCoverage is Coverage as an error: nil when covered, else a
// *NotCoveredError.
func (b *Bundle) CheckCoverage(sni string, localIP net.IP) error {
	covered, name, sans := b.Coverage(sni, localIP)
	if covered {
		return nil
	}
	return &NotCoveredError{Name: name, SNI: sni != "", SANs: sans}
}

// NotCoveredMessage formats the one log line of an uncovered handshake:
//
//	client asked for "socket.example", which the certificate does not cover [DNS:localhost DNS:example.com]
//	client dialled 127.0.0.2 without SNI, which the certificate does not cover [DNS:localhost IP:127.0.0.1]
func NotCoveredMessage(name string, sni bool, sans []string) string {
	list := "[" + strings.Join(sans, " ") + "]"
	if sni {
		return "client asked for " + strconv.Quote(name) + ", which the certificate does not cover " + list
	}
	return "client dialled " + name + " without SNI, which the certificate does not cover " + list
}
