package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	adminv1 "github.com/wssgate/wssgate/gen/wssgate/admin/v1"
)

// runCertsShow describes the certificate bundle currently served.
func (c *cli) runCertsShow(ctx context.Context, args []string) error {
	if _, err := c.parse(c.newFlags(), args, 0); err != nil {
		return err
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	ctx, cancel := c.callCtx(ctx)
	defer cancel()
	resp, err := cl.GetCertificates(ctx, &adminv1.GetCertificatesRequest{})
	if err != nil {
		return err
	}
	if c.g.json {
		return c.printJSON(resp)
	}
	now := time.Now()
	k := newKV(c.stdout, "")
	k.add("generation", u(resp.GetGeneration()))
	k.add("loaded_at", when(resp.GetLoadedAt(), now))
	k.add("client_ca_subjects", strings.Join(resp.GetClientCaSubjects(), "; "))
	for _, w := range resp.GetWarnings() {
		k.add("warning", w)
	}
	if err := k.flush(); err != nil {
		return err
	}
	return c.printCertificates(resp.GetCertificates(), now)
}

// printCertificates writes one key: value block per certificate.
func (c *cli) printCertificates(certs []*adminv1.Certificate, now time.Time) error {
	for i, x := range certs {
		fmt.Fprintf(c.stdout, "\ncertificate %d of %d:\n", i+1, len(certs))
		k := newKV(c.stdout, "  ")
		k.add("subject", x.GetSubject())
		k.add("dns_names", strings.Join(x.GetDnsNames(), ", "))
		k.add("ip_addresses", strings.Join(x.GetIpAddresses(), ", "))
		k.add("uris", strings.Join(x.GetUris(), ", "))
		k.add("issuer", x.GetIssuer())
		k.add("serial", x.GetSerial())
		k.add("not_before", when(x.GetNotBefore(), now))
		k.add("not_after", when(x.GetNotAfter(), now))
		k.add("sha256_fingerprint", x.GetSha256Fingerprint())
		k.add("key_type", x.GetKeyType())
		k.add("chain_length", u(x.GetChainLength()))
		k.add("cert_file", x.GetCertFile())
		k.add("key_file", x.GetKeyFile())
		k.add("generation", u(x.GetGeneration()))
		if err := k.flush(); err != nil {
			return err
		}
	}
	return nil
}
