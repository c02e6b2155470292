package main

import (
	"context"
	"strconv"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	adminv1 "github.com/wssgate/wssgate/gen/wssgate/admin/v1"
)

// runFailures lists recent failed handshakes, newest first.
func (c *cli) runFailures(ctx context.Context, args []string) error {
	fs := c.newFlags()
	req := &adminv1.ListFailuresRequest{}
	fs.StringVar(&req.Listener, "listener", "", "only failures of listener `L`")
	since := fs.Duration("since", 0, "only failures of the last `DURATION`, e.g. 10m (0: all kept)")
	limit := fs.Uint("limit", 0, "at most `N` failures (0: all kept)")
	if _, err := c.parse(fs, args, 0); err != nil {
		return err
	}
	switch {
	case *since < 0:
		return c.usageErrorf("--since %v: want a positive duration", *since)
	case *limit > 1<<31-1:
		return c.usageErrorf("--limit %d is too large", *limit)
	}
	req.Limit = int32(*limit)
	if *since > 0 {
		req.Since = timestamppb.New(time.Now().Add(-*since))
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	ctx, cancel := c.callCtx(ctx)
	defer cancel()
	resp, err := cl.ListFailures(ctx, req)
	if err != nil {
		return err
	}
	if c.g.json {
		return c.printJSON(resp)
	}
	tw := table(c.stdout, "TIME", "LISTENER", "REMOTE", "SNI", "STAGE", "REASON", "CLIENT CERT", "MESSAGE")
	for _, f := range resp.GetFailures() {
		row(tw, stamp(f.GetTime()), f.GetListener(), f.GetRemoteAddress(),
			f.GetServerName(), f.GetStage(), reasonText(f), clientCert(f), f.GetMessage())
	}
	return tw.Flush()
}

// reasonText is the failure's reason with its sub-reason, e.g. "unauthenticated/expired".
func reasonText(f *adminv1.HandshakeFailure) string {
	if f.GetSubReason() != "" {
		return f.GetReason() + "/" + f.GetSubReason()
	}
	return f.GetReason()
}

// clientCert describes the client certificate of a failure in one cell:
// subject, then issuer, serial and SHA-256 when known.
func clientCert(f *adminv1.HandshakeFailure) string {
	if f.GetClientCertificateSubject() == "" {
		return ""
	}
	s := f.GetClientCertificateSubject()
	for _, kv := range [][2]string{{"issuer", f.GetClientCertificateIssuer()}, {"serial", f.GetClientCertificateSerial()}, {"sha256", f.GetClientCertificateSha256()}} {
		if kv[1] != "" {
			s += " " + kv[0] + "=" + strconv.Quote(kv[1])
		}
	}
	return s
}
