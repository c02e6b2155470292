package listener

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"net"
	"os"

	"github.com/wssgate/wssgate/gateway/certs"
	"github.com/wssgate/wssgate/gateway/session"
)

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// isClientCertError reports a handshake that failed on the client's
// certificate (unknown authority, expired, bad usage, or none given when
// one is required).
func isClientCertError(err error) bool {
	return certs.ClientCertRejectReason(err) != certs.RejectOther
}

// cipherSuiteNames maps suite ids to names once: tls.CipherSuiteName
// builds the lists of suites anew on every call.
var cipherSuiteNames = func() map[uint16]string {
	m := make(map[uint16]string)
	for _, list := range [][]*tls.CipherSuite{tls.CipherSuites(), tls.InsecureCipherSuites()} {
		for _, c := range list {
			m[c.ID] = c.Name
		}
	}
	return m
}()

func cipherSuiteName(id uint16) string {
	if name, ok := cipherSuiteNames[id]; ok {
		return name
	}
	return tls.CipherSuiteName(id) // "0x…"
}

// fillTLS records what the TLS handshake negotiated.
func fillTLS(info *session.Info, cs tls.ConnectionState) {
	info.TLSVersion = tls.VersionName(cs.Version)
	info.CipherSuite = cipherSuiteName(cs.CipherSuite)
	info.ServerName = cs.ServerName
	info.ALPN = cs.NegotiatedProtocol
	if len(cs.PeerCertificates) > 0 {
		c := cs.PeerCertificates[0]
		sum := sha256.Sum256(c.Raw)
		info.PeerCertSubject = c.Subject.String()
		info.PeerCertSHA256 = hex.EncodeToString(sum[:])
		info.PeerChain = cs.PeerCertificates
	}
}
