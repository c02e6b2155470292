package main

import (
	"context"
	"strings"
	"time"

	adminv1 "github.com/wssgate/wssgate/gen/wssgate/admin/v1"
)

// runSessionsShow describes one session.
func (c *cli) runSessionsShow(ctx context.Context, args []string) error {
	pos, err := c.parse(c.newFlags(), args, 1)
	if err != nil {
		return err
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	ctx, cancel := c.callCtx(ctx)
	defer cancel()
	resp, err := cl.GetSession(ctx, &adminv1.GetSessionRequest{Id: pos[0]})
	if err != nil {
		return err
	}
	if c.g.json {
		return c.printJSON(resp)
	}
	return printSession(newKV(c.stdout, ""), resp.GetSession(), time.Now())
}

// printSession writes every field of s as a key: value block, keyed by proto field name.
func printSession(k *kv, s *adminv1.Session, now time.Time) error {
	k.add("id", s.GetId())
	k.add("listener", s.GetListener())
	k.add("role", roleName(s.GetRole()))
	k.add("identity", s.GetIdentity())
	k.add("auth_method", s.GetAuthMethod())
	k.add("auth_expires_at", when(s.GetAuthExpiresAt(), now))
	k.add("remote_address", s.GetRemoteAddress())
	k.add("local_address", s.GetLocalAddress())
	k.add("connected_at", when(s.GetConnectedAt(), now))
	k.add("last_activity_at", when(s.GetLastActivityAt(), now))
	k.add("tls_version", s.GetTlsVersion())
	k.add("cipher_suite", s.GetCipherSuite())
	k.add("server_name", s.GetServerName())
	k.add("alpn", s.GetAlpn())
	k.add("peer_certificate_subject", s.GetPeerCertificateSubject())
	k.add("peer_certificate_sha256", s.GetPeerCertificateSha256())
	k.add("certificate_generation", u(s.GetCertificateGeneration()))
	k.add("origin", s.GetOrigin())
	k.add("user_agent", s.GetUserAgent())
	k.add("transport", s.GetTransport())
	k.add("subscriptions", strings.Join(s.GetSubscriptions(), ", "))
	k.add("messages_in", u(s.GetMessagesIn()))
	k.add("messages_out", u(s.GetMessagesOut()))
	k.add("bytes_in", u(s.GetBytesIn()))
	k.add("bytes_out", u(s.GetBytesOut()))
	k.add("queue_length", u(s.GetQueueLength()))
	k.add("drops", u(s.GetDrops()))
	return k.flush()
}
