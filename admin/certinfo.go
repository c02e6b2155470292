package admin

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"runtime"
	"time"
)

// CertificateInfoOf describes leaf: subject, SANs, issuer, serial, validity, SHA-256
// fingerprint and key type. CertFile, KeyFile and ChainLength are left for the caller.
func CertificateInfoOf(leaf *x509.Certificate) CertificateInfo {
	info := CertificateInfo{
		Subject:           leaf.Subject.String(),
		DNSNames:          leaf.DNSNames,
		Issuer:            leaf.Issuer.String(),
		NotBefore:         leaf.NotBefore,
		NotAfter:          leaf.NotAfter,
		SHA256Fingerprint: fingerprint(leaf.Raw),
		KeyType:           keyType(leaf.PublicKey),
		ChainLength:       1,
	}
	if leaf.SerialNumber != nil {
		info.Serial = leaf.SerialNumber.Text(16)
	}
	for _, ip := range leaf.IPAddresses {
		info.IPAddresses = append(info.IPAddresses, ip.String())
	}
	for _, u := range leaf.URIs {
		info.URIs = append(info.URIs, u.String())
	}
	return info
}

// fingerprint is the lowercase hex SHA-256 of der.
func fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// keyType names a public key: "ECDSA P-256", "RSA 2048", "Ed25519".
func keyType(pub any) string {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d", k.N.BitLen())
	case ed25519.PublicKey:
		return "Ed25519"
	default:
		return fmt.Sprintf("%T", pub)
	}
}

// CurrentProcess reads the process figures now: goroutines and heap from the runtime,
// with the given start time and version.
func CurrentProcess(startedAt time.Time, version string) ProcessStats {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ProcessStats{
		StartedAt:      startedAt,
		Goroutines:     uint64(runtime.NumGoroutine()),
		HeapAllocBytes: ms.HeapAlloc,
		Version:        version,
	}
}
