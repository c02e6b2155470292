package admin

import (
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	adminv1 "github.com/wssgate/wssgate/gen/wssgate/admin/v1"
)

// ts converts t, keeping the zero time as an unset field.
func ts(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func roleToProto(r Role) adminv1.Role {
	switch r {
	case RoleApp:
		return adminv1.Role_ROLE_APP
	case RoleDevice:
		return adminv1.Role_ROLE_DEVICE
	default:
		return adminv1.Role_ROLE_UNSPECIFIED
	}
}

func roleFromProto(r adminv1.Role) Role {
	switch r {
	case adminv1.Role_ROLE_APP:
		return RoleApp
	case adminv1.Role_ROLE_DEVICE:
		return RoleDevice
	default:
		return ""
	}
}

func certToProto(c CertificateInfo, generation uint64, loadedAt time.Time) *adminv1.Certificate {
	return &adminv1.Certificate{
		Subject:           c.Subject,
		DnsNames:          c.DNSNames,
		IpAddresses:       c.IPAddresses,
		Uris:              c.URIs,
		Issuer:            c.Issuer,
		Serial:            c.Serial,
		NotBefore:         ts(c.NotBefore),
		NotAfter:          ts(c.NotAfter),
		Sha256Fingerprint: c.SHA256Fingerprint,
		KeyType:           c.KeyType,
		CertFile:          c.CertFile,
		KeyFile:           c.KeyFile,
		LoadedAt:          ts(loadedAt),
		Generation:        generation,
		ChainLength:       uint32(c.ChainLength),
	}
}

func certsToProto(cs []CertificateInfo, generation uint64, loadedAt time.Time) []*adminv1.Certificate {
	out := make([]*adminv1.Certificate, len(cs))
	for i, c := range cs {
		out[i] = certToProto(c, generation, loadedAt)
	}
	return out
}

func sessionToProto(s SessionInfo) *adminv1.Session {
	return &adminv1.Session{
		Id:                     s.ID,
		Listener:               s.Listener,
		Role:                   roleToProto(s.Role),
		Identity:               s.Identity,
		RemoteAddress:          s.RemoteAddr,
		LocalAddress:           s.LocalAddr,
		ConnectedAt:            ts(s.ConnectedAt),
		LastActivityAt:         ts(s.LastActivity),
		TlsVersion:             s.TLSVersion,
		CipherSuite:            s.CipherSuite,
		ServerName:             s.ServerName,
		Alpn:                   s.ALPN,
		PeerCertificateSubject: s.PeerCertSubject,
		PeerCertificateSha256:  s.PeerCertSHA256,
		CertificateGeneration:  s.CertGeneration,
		Origin:                 s.Origin,
		UserAgent:              s.UserAgent,
		Transport:              s.Transport,
		Subscriptions:          s.Subscriptions,
		MessagesIn:             s.MessagesIn,
		MessagesOut:            s.MessagesOut,
		BytesIn:                s.BytesIn,
		BytesOut:               s.BytesOut,
		QueueLength:            uint32(max(s.QueueLen, 0)),
		Drops:                  s.Drops,
		Node:                   s.Node,
		AuthMethod:             s.AuthMethod,
		AuthExpiresAt:          ts(s.AuthExpiresAt),
	}
}

func eventToProto(e SessionEvent) *adminv1.WatchSessionsResponse {
	t := adminv1.SessionEventType_SESSION_EVENT_TYPE_UNSPECIFIED
	switch e.Type {
	case EventConnected:
		t = adminv1.SessionEventType_SESSION_EVENT_TYPE_CONNECTED
	case EventDisconnected:
		t = adminv1.SessionEventType_SESSION_EVENT_TYPE_DISCONNECTED
	}
	return &adminv1.WatchSessionsResponse{
		Type:      t,
		Time:      ts(e.Time),
		Session:   sessionToProto(e.Session),
		CloseCode: uint32(max(e.CloseCode, 0)),
		Reason:    e.Reason,
		Node:      e.Session.Node,
	}
}

func messageToProto(m Message) *adminv1.SubscribeResponse {
	r := &adminv1.SubscribeResponse{Channel: m.Channel, Time: ts(m.Time)}
	if m.Binary {
		r.Payload = &adminv1.SubscribeResponse_Binary{Binary: m.Data}
	} else {
		r.Payload = &adminv1.SubscribeResponse_Text{Text: string(m.Data)}
	}
	return r
}

func statsToProto(s StatsSnapshot, now time.Time) *adminv1.GetStatsResponse {
	r := &adminv1.GetStatsResponse{
		Process: &adminv1.ProcessStats{
			StartedAt:      ts(s.Process.StartedAt),
			Goroutines:     s.Process.Goroutines,
			HeapAllocBytes: s.Process.HeapAllocBytes,
			Version:        s.Process.Version,
		},
		CertificateGeneration: s.CertificateGeneration,
		MemoryBudgetBytes:     s.MemoryBudgetBytes,
		MemoryInUseBytes:      s.MemoryInUseBytes,
	}
	if !s.Process.StartedAt.IsZero() {
		r.Process.Uptime = durationpb.New(now.Sub(s.Process.StartedAt))
	}
	r.Listeners = listenersToProto(s.Listeners)
	for _, n := range s.Nodes {
		r.Nodes = append(r.Nodes, &adminv1.NodeStats{Node: n.Node, Listeners: listenersToProto(n.Listeners), Up: n.Up, LastSeen: ts(n.LastSeen)})
	}
	r.MissingNodes = s.MissingNodes
	if c := s.Cluster; c != nil {
		r.Cluster = &adminv1.ClusterStats{
			LinkUp: c.LinkUp, NodesSeen: c.NodesSeen, MessagesIn: c.MessagesIn, MessagesOut: c.MessagesOut,
			Dropped: c.Dropped, Server: c.Server,
		}
	}
	for _, x := range s.Reloads {
		r.Reloads = append(r.Reloads, &adminv1.CertificateReloads{Trigger: x.Trigger, Ok: x.OK, Failed: x.Failed})
	}
	for _, c := range s.Certificates {
		r.Certificates = append(r.Certificates, &adminv1.CertificateExpiry{
			Subject:  c.Subject,
			Serial:   c.Serial,
			NotAfter: ts(c.NotAfter),
		})
	}
	return r
}

func listenersToProto(ls []ListenerStats) []*adminv1.ListenerStats {
	var out []*adminv1.ListenerStats
	for _, l := range ls {
		out = append(out, &adminv1.ListenerStats{
			Name:               l.Name,
			Address:            l.Address,
			Role:               roleToProto(l.Role),
			OpenSessions:       l.OpenSessions,
			HandshakesOk:       l.HandshakesOK,
			HandshakeFailures:  l.HandshakeFailures,
			MessagesIn:         l.MessagesIn,
			MessagesOut:        l.MessagesOut,
			BytesIn:            l.BytesIn,
			BytesOut:           l.BytesOut,
			SlowConsumerCloses: l.SlowConsumerCloses,
			Drops:              l.Drops,
			NamesNotCovered:    l.NamesNotCovered,

			ClientCertificateRejections: l.ClientCertRejections,
			AuthFailures:                l.AuthFailures,
			SessionCloses:               l.SessionCloses,
		})
	}
	return out
}

func failureToProto(f Failure) *adminv1.HandshakeFailure {
	return &adminv1.HandshakeFailure{
		Time:                     ts(f.Time),
		Listener:                 f.Listener,
		RemoteAddress:            f.RemoteAddr,
		ServerName:               f.ServerName,
		Stage:                    f.Stage,
		Reason:                   f.Reason,
		Message:                  f.Message,
		ClientCertificateSubject: f.ClientCertSubject,
		Node:                     f.Node,
		SubReason:                f.SubReason,
		ClientCertificateIssuer:  f.ClientCertIssuer,
		ClientCertificateSerial:  f.ClientCertSerial,
		ClientCertificateSha256:  f.ClientCertSHA256,
		CertificateSans:          f.CertificateSANs,
		Name:                     f.Name,
	}
}
