package admin

import (
	"context"
	"encoding/base64"
	"fmt"
	"sort"
	"time"

	"github.com/gobwas/ws"

	"github.com/wssgate/wssgate/gateway/wire"
	adminv1 "github.com/wssgate/wssgate/gen/wssgate/admin/v1"
)

// Paging limits of ListSessions.
const (
	defaultPageSize = 100
	maxPageSize     = 1000
)

// service implements adminv1.AdminServiceServer over the backends. Every error it returns
// goes through toStatus.
type service struct {
	adminv1.UnimplementedAdminServiceServer
	s *Server
}

var _ adminv1.AdminServiceServer = (*service)(nil)

// Errors for RPCs whose backend is not configured.
func unimplemented(what string) error {
	return fmt.Errorf("%s: %w", what, ErrUnimplemented)
}

// invalidf builds an INVALID_ARGUMENT error.
func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidArgument}, args...)...)
}

func (v *service) GetCertificates(ctx context.Context, _ *adminv1.GetCertificatesRequest) (*adminv1.GetCertificatesResponse, error) {
	if v.s.b.Certificates == nil {
		return nil, toStatus(unimplemented("certificates"))
	}
	b, err := v.s.b.Certificates.Certificates(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	return &adminv1.GetCertificatesResponse{
		Certificates:     certsToProto(b.Certificates, b.Generation, b.LoadedAt),
		ClientCaSubjects: b.ClientCASubjects,
		Generation:       b.Generation,
		LoadedAt:         ts(b.LoadedAt),
		Warnings:         b.Warnings,
	}, nil
}

func (v *service) ReloadCertificates(ctx context.Context, req *adminv1.ReloadCertificatesRequest) (*adminv1.ReloadCertificatesResponse, error) {
	if v.s.b.Certificates == nil {
		return nil, toStatus(unimplemented("certificates"))
	}
	if (len(req.GetCertPem()) > 0) != (len(req.GetKeyPem()) > 0) {
		return nil, toStatus(invalidf("cert_pem and key_pem must be given together"))
	}
	r, err := v.s.b.Certificates.ReloadCertificates(ctx, ReloadRequest{
		DryRun:      req.GetDryRun(),
		CertPEM:     req.GetCertPem(),
		KeyPEM:      req.GetKeyPem(),
		ClientCAPEM: req.GetClientCaPem(),
		Force:       req.GetForce(),
		AllNodes:    req.GetAllNodes(),
	})
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &adminv1.ReloadCertificatesResponse{
		Generation:   r.Generation,
		Warnings:     r.Warnings,
		DryRun:       req.GetDryRun(),
		Certificates: certsToProto(r.Certificates, r.Generation, v.s.now()),
	}
	for _, x := range r.Refused {
		resp.RefusedSessions = append(resp.RefusedSessions, &adminv1.SessionImpact{
			SessionId: x.SessionID, Identity: x.Identity, PeerCertificateSubject: x.PeerCertSubject, Reason: x.Reason,
		})
	}
	return resp, nil
}

func (v *service) ListSessions(ctx context.Context, req *adminv1.ListSessionsRequest) (*adminv1.ListSessionsResponse, error) {
	if v.s.b.Sessions == nil {
		return nil, toStatus(unimplemented("sessions"))
	}
	size := int(req.GetPageSize())
	switch {
	case size < 0:
		return nil, toStatus(invalidf("page_size %d is negative", size))
	case size == 0:
		size = defaultPageSize
	case size > maxPageSize:
		size = maxPageSize
	}
	after, err := decodePageToken(req.GetPageToken())
	if err != nil {
		return nil, toStatus(err)
	}
	all, err := v.s.b.Sessions.ListSessions(ctx, SessionFilter{
		Listener:         req.GetListener(),
		Role:             roleFromProto(req.GetRole()),
		Identity:         req.GetIdentity(),
		RemoteAddrPrefix: req.GetRemoteAddressPrefix(),
		After:            after,
		Limit:            size + 1, // one more says there is a next page
	})
	if err != nil {
		return nil, toStatus(err)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].ID < all[j].ID })
	start := sort.Search(len(all), func(i int) bool { return all[i].ID > after })
	if after == "" {
		start = 0
	}
	end := min(start+size, len(all))
	resp := &adminv1.ListSessionsResponse{}
	for _, s := range all[start:end] {
		resp.Sessions = append(resp.Sessions, sessionToProto(s))
	}
	if end < len(all) {
		resp.NextPageToken = encodePageToken(all[end-1].ID)
	}
	return resp, nil
}

// Page tokens carry the last id of the previous page (sessions are ordered by id).
const pageTokenPrefix = "v1:"

func encodePageToken(lastID string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(pageTokenPrefix + lastID))
}

func decodePageToken(tok string) (string, error) {
	if tok == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) <= len(pageTokenPrefix) || string(b[:len(pageTokenPrefix)]) != pageTokenPrefix {
		return "", invalidf("page_token %q is not one this server issued", tok)
	}
	return string(b[len(pageTokenPrefix):]), nil
}

func (v *service) GetSession(ctx context.Context, req *adminv1.GetSessionRequest) (*adminv1.GetSessionResponse, error) {
	if v.s.b.Sessions == nil {
		return nil, toStatus(unimplemented("sessions"))
	}
	if req.GetId() == "" {
		return nil, toStatus(invalidf("id is empty"))
	}
	s, err := v.s.b.Sessions.Session(ctx, req.GetId())
	if err != nil {
		return nil, toStatus(err)
	}
	return &adminv1.GetSessionResponse{Session: sessionToProto(s)}, nil
}

func (v *service) CloseSession(ctx context.Context, req *adminv1.CloseSessionRequest) (*adminv1.CloseSessionResponse, error) {
	if v.s.b.Sessions == nil {
		return nil, toStatus(unimplemented("sessions"))
	}
	code := int(req.GetCode())
	if code == 0 {
		code = 1000
	}
	switch {
	case (req.GetId() == "") == (req.GetIdentity() == ""):
		return nil, toStatus(invalidf("set exactly one of id and identity"))
	case !wire.ValidCloseCode(ws.StatusCode(code)):
		return nil, toStatus(invalidf("close code %d: want 1000-1003, 1007-1014 or 3000-4999", code))
	case len(req.GetReason()) > 123:
		return nil, toStatus(invalidf("close reason is %d bytes, want at most 123", len(req.GetReason())))
	}
	if req.GetIdentity() != "" {
		n, err := v.s.b.Sessions.CloseIdentity(ctx, req.GetIdentity(), code, req.GetReason())
		if err != nil {
			return nil, toStatus(err)
		}
		return &adminv1.CloseSessionResponse{Closed: uint32(max(n, 0))}, nil
	}
	if err := v.s.b.Sessions.CloseSession(ctx, req.GetId(), code, req.GetReason()); err != nil {
		return nil, toStatus(err)
	}
	return &adminv1.CloseSessionResponse{Closed: 1}, nil
}

func (v *service) SendToSession(ctx context.Context, req *adminv1.SendToSessionRequest) (*adminv1.SendToSessionResponse, error) {
	if v.s.b.Sessions == nil {
		return nil, toStatus(unimplemented("sessions"))
	}
	if req.GetId() == "" {
		return nil, toStatus(invalidf("id is empty"))
	}
	var f Frame
	switch p := req.GetPayload().(type) {
	case *adminv1.SendToSessionRequest_Text:
		f = Frame{Data: []byte(p.Text)}
	case *adminv1.SendToSessionRequest_Binary:
		f = Frame{Binary: true, Data: p.Binary}
	default:
		return nil, toStatus(invalidf("payload is missing: set text or binary"))
	}
	if err := v.s.b.Sessions.SendToSession(ctx, req.GetId(), f); err != nil {
		return nil, toStatus(err)
	}
	return &adminv1.SendToSessionResponse{}, nil
}

func (v *service) ReconnectSessions(ctx context.Context, req *adminv1.ReconnectSessionsRequest) (*adminv1.ReconnectSessionsResponse, error) {
	if v.s.b.Sessions == nil {
		return nil, toStatus(unimplemented("sessions"))
	}
	rate := req.GetRatePerSecond()
	if rate < 0 || rate != rate { // negative or NaN
		return nil, toStatus(invalidf("rate_per_second %v: want 0 (no limit) or more", rate))
	}
	n, err := v.s.b.Sessions.ReconnectSessions(ctx, ReconnectRequest{
		BelowGeneration: req.GetBelowGeneration(),
		Listener:        req.GetListener(),
		RatePerSecond:   rate,
	})
	if err != nil {
		return nil, toStatus(fmt.Errorf("reconnect sessions (%d closed): %w", n, err))
	}
	return &adminv1.ReconnectSessionsResponse{Closed: uint64(max(n, 0))}, nil
}

func (v *service) Publish(ctx context.Context, req *adminv1.PublishRequest) (*adminv1.PublishResponse, error) {
	if v.s.b.Messages == nil {
		return nil, toStatus(unimplemented("messages"))
	}
	m := Message{Channel: req.GetChannel(), Time: v.s.now()}
	switch p := req.GetPayload().(type) {
	case *adminv1.PublishRequest_Text:
		m.Data = []byte(p.Text)
	case *adminv1.PublishRequest_Binary:
		m.Binary, m.Data = true, p.Binary
	default:
		return nil, toStatus(invalidf("payload is missing: set text or binary"))
	}
	if m.Channel == "" {
		return nil, toStatus(invalidf("channel is empty"))
	}
	n, err := v.s.b.Messages.Publish(ctx, m)
	if err != nil {
		return nil, toStatus(err)
	}
	return &adminv1.PublishResponse{Reached: uint64(max(n, 0))}, nil
}

func (v *service) GetStats(ctx context.Context, _ *adminv1.GetStatsRequest) (*adminv1.GetStatsResponse, error) {
	if v.s.b.Stats == nil {
		return nil, toStatus(unimplemented("stats"))
	}
	read := v.s.b.Stats.Stats
	if v.s.b.Cluster != nil {
		read = v.s.b.Cluster.ClusterStats
	}
	st, err := read(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	return statsToProto(st, v.s.now()), nil
}

func (v *service) ListFailures(ctx context.Context, req *adminv1.ListFailuresRequest) (*adminv1.ListFailuresResponse, error) {
	if v.s.b.Stats == nil {
		return nil, toStatus(unimplemented("stats"))
	}
	if req.GetLimit() < 0 {
		return nil, toStatus(invalidf("limit %d is negative", req.GetLimit()))
	}
	f := FailureFilter{Listener: req.GetListener(), Limit: int(req.GetLimit())}
	if req.GetSince() != nil {
		f.Since = req.GetSince().AsTime()
	}
	fs, err := v.s.b.Stats.Failures(ctx, f)
	if err != nil {
		return nil, toStatus(err)
	}
	if f.Limit > 0 && len(fs) > f.Limit {
		fs = fs[:f.Limit]
	}
	resp := &adminv1.ListFailuresResponse{}
	for _, x := range fs {
		resp.Failures = append(resp.Failures, failureToProto(x))
	}
	return resp, nil
}

func (v *service) ListNames(ctx context.Context, req *adminv1.ListNamesRequest) (*adminv1.ListNamesResponse, error) {
	if v.s.b.Names == nil {
		return nil, toStatus(unimplemented("names"))
	}
	var within time.Duration
	if req.GetWithin() != nil {
		if err := req.GetWithin().CheckValid(); err != nil {
			return nil, toStatus(invalidf("within: %v", err))
		}
		if within = req.GetWithin().AsDuration(); within < 0 {
			return nil, toStatus(invalidf("within %v is negative", within))
		}
	}
	names, err := v.s.b.Names.Names(ctx, within)
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &adminv1.ListNamesResponse{}
	for _, n := range names {
		resp.Names = append(resp.Names, &adminv1.NameUse{Name: n.Name, Handshakes: n.Handshakes, LastSeen: ts(n.LastSeen), Covered: n.Covered})
	}
	return resp, nil
}

func (v *service) ListDevices(ctx context.Context, req *adminv1.ListDevicesRequest) (*adminv1.ListDevicesResponse, error) {
	if v.s.b.Cluster == nil {
		return nil, toStatus(unimplemented("devices"))
	}
	ds, err := v.s.b.Cluster.Devices(ctx, req.GetIdentityPrefix())
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &adminv1.ListDevicesResponse{}
	for _, d := range ds {
		resp.Devices = append(resp.Devices, &adminv1.Device{
			Identity: d.Identity, Node: d.Node, SessionId: d.SessionID, ConnectedAt: ts(d.ConnectedAt),
		})
	}
	return resp, nil
}
