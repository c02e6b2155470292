package listener

import (
	"crypto/x509"
	"strings"

	"github.com/wssgate/wssgate/gateway/certs"
)

// setPeer records the client certificate c presented (nil: none), even a
// refused one.
func (f *Failure) setPeer(c *x509.Certificate) {
	if c == nil {
		return
	}
	p := certs.DescribePeer(c)
	f.ClientCertSubject, f.ClientCertIssuer, f.ClientCertSerial, f.ClientCertSHA256 = p.Subject, p.Issuer, p.Serial, p.SHA256
}

// attrs are the slog attributes of f's one log line; the client
// certificate and the uncovered name appear only when known.
func (f *Failure) attrs() []any {
	a := []any{"reason", f.Reason.String(), "stage", f.Stage, "remote", f.Remote, "sni", f.ServerName}
	if f.Name != "" {
		a = append(a, "name", f.Name, "certificate_sans", "["+strings.Join(f.CertificateSANs, " ")+"]")
	}
	if f.ClientCertSubject != "" {
		a = append(a, "client_certificate_subject", f.ClientCertSubject, "client_certificate_issuer", f.ClientCertIssuer,
			"client_certificate_serial", f.ClientCertSerial, "client_certificate_sha256", f.ClientCertSHA256)
	}
	if f.SubReason != "" {
		a = append(a, "sub_reason", f.SubReason)
	}
	return append(a, "detail", f.Message)
}
