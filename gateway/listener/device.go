package listener

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/gobwas/ws"

	"github.com/wssgate/wssgate/gateway/auth"
	"github.com/wssgate/wssgate/gateway/certs"
	"github.com/wssgate/wssgate/gateway/session"
)

// Device is the WSS listener for devices.
type Device struct {
	Name string
	TLS  *tls.Config // from certs.Store.TLSConfig
	Path string
	// Auth names the device, or says why it may not connect (the
	// handshake is then refused with 401).
	Auth             func(auth.Credentials) (auth.Grant, error)
	HandshakeTimeout time.Duration
	MaxRequestBytes  int
	Limits           Limits // checked at accept, before TLS
	// CertGeneration reports the certificate generation serving now.
	CertGeneration func() uint64
	// Upgraded starts the session of an upgraded connection on a goroutine
	// of its own and returns; done is called when the session has ended.
	// grant is what Auth returned.
	Upgraded func(conn net.Conn, info *session.Info, grant *auth.Grant, done func())
	Log      *slog.Logger
	Counters *Counters
	Coverage *Coverage // whose Config wraps TLS; nil: no coverage check

	ln     net.Listener
	wg     sync.WaitGroup // handshakes in progress
	mu     sync.Mutex     // guards conns and closed
	conns  map[net.Conn]struct{}
	closed bool
}

// Listen binds addr. Call Serve next.
func (d *Device) Listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen device %s: %w", addr, err)
	}
	d.ln = newLimitListener(ln, d.Limits, d.Counters, func(f Failure) { d.Counters.fail(d.Log, f) }, false)
	d.Counters.Address = ln.Addr().String()
	d.conns = make(map[net.Conn]struct{})
	return nil
}

// Addr returns the bound address.
func (d *Device) Addr() net.Addr { return d.ln.Addr() }

// Serve accepts connections until Close. Sessions run on their own
// goroutines, which Close does not wait for: the gateway ends sessions
// through the registry.
func (d *Device) Serve() error {
	var delay time.Duration
	for {
		conn, err := d.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			if retryable(err) {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				d.Log.Warn("device accept failed; retrying", "err", err, "delay", delay)
				time.Sleep(delay)
				continue
			}
			return fmt.Errorf("accept device: %w", err)
		}
		delay = 0
		if !d.track(conn, true) {
			conn.Close() // Close ran meanwhile
			return nil
		}
		go d.handle(conn) // calls d.wg.Done when the handshake ends
	}
}

// retryable reports accept errors that pass (out of file descriptors,
// timeouts): the loop backs off instead of ending, as net/http does.
func retryable(err error) bool {
	return isTimeout(err) || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ECONNABORTED)
}

// Close stops accepting and aborts handshakes in progress; it waits for
// the accept loop and handshakes, not for running sessions.
func (d *Device) Close() error {
	err := d.ln.Close()
	d.mu.Lock()
	d.closed = true
	for c := range d.conns {
		c.Close()
	}
	d.mu.Unlock()
	d.wg.Wait()
	return err
}

// track adds (with a handshake on the WaitGroup) or removes a connection
// in handshake; it refuses to add once Close has run.
func (d *Device) track(c net.Conn, add bool) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !add {
		delete(d.conns, c)
		return true
	}
	if d.closed {
		return false
	}
	d.conns[c] = struct{}{}
	d.wg.Add(1)
	return true
}

// handle does TLS and the upgrade under one deadline, then starts the
// session. The session runs on a new goroutine, so that the stack this one
// grew during the TLS handshake is freed. Close waits for handle only.
func (d *Device) handle(raw net.Conn) {
	conn := tls.Server(raw, d.TLS)
	info, grant, early, ok := d.handshake(conn)
	d.track(raw, false)
	d.wg.Done()
	if !ok {
		conn.Close()
		return
	}
	d.Counters.Open.Add(1) // max_connections is checked at accept (limits.go)
	d.Counters.HandshakesOK.Add(1)
	d.Upgraded(withEarlyData(conn, early), &info, grant, func() { d.Counters.Open.Add(-1) })
}

// handshake does TLS and the upgrade. early is what the client sent after
// its upgrade request without waiting for the 101 (frames for the session).
func (d *Device) handshake(conn *tls.Conn) (info session.Info, grant *auth.Grant, early []byte, ok bool) {
	remote := conn.RemoteAddr().String()
	_ = conn.SetDeadline(time.Now().Add(d.HandshakeTimeout))
	if err := conn.HandshakeContext(context.Background()); err != nil {
		d.tlsFailed(conn, remote, err)
		return info, nil, nil, false
	}
	miss := d.Coverage.succeeded(remote) // recorded below, with the upgrade's outcome
	cs := conn.ConnectionState()
	up := &deviceUpgrade{d: d, reason: Unauthenticated}
	up.creds.Remote = remote
	if len(cs.PeerCertificates) > 0 {
		up.creds.PeerCert = cs.PeerCertificates[0]
	}
	lr := &limitedReader{Conn: conn, n: d.MaxRequestBytes}
	if _, err := up.upgrader().Upgrade(lr); err != nil {
		d.upgradeFailed(conn, lr, remote, up.reason, up.reject, err, miss)
		return info, nil, nil, false
	}
	if miss != nil {
		d.Counters.fail(d.Log, notCovered(Failure{Remote: remote, Stage: "tls"}, miss))
	}
	_ = conn.SetDeadline(time.Time{})
	info = session.Info{
		Listener:    d.Name,
		Role:        session.RoleDevice,
		Identity:    up.grant.Identity,
		AuthMethod:  string(up.grant.Method),
		RemoteAddr:  remote,
		LocalAddr:   conn.LocalAddr().String(),
		ConnectedAt: time.Now(),
		UserAgent:   up.userAgent,
	}
	fillTLS(&info, cs)
	if d.CertGeneration != nil {
		info.CertGeneration = d.CertGeneration()
	}
	return info, &up.grant, lr.early, true
}

// deviceUpgrade is the state of one device's upgrade request, filled by
// the gobwas/ws callbacks (which copy what they keep: the bytes they see
// are reused).
type deviceUpgrade struct {
	d         *Device
	creds     auth.Credentials
	origin    string
	userAgent string
	reason    Reason // why the upgrade was refused
	reject    error  // a refusal of ours (origin, credentials), not a protocol error
	grant     auth.Grant
}

func (u *deviceUpgrade) upgrader() ws.Upgrader {
	return ws.Upgrader{OnRequest: u.onRequest, OnHeader: u.onHeader, OnBeforeUpgrade: u.onBeforeUpgrade}
}

func (u *deviceUpgrade) onRequest(uri []byte) error {
	path, query, _ := bytes.Cut(uri, []byte("?"))
	if string(path) != u.d.Path {
		u.reason = BadPath
		return ws.RejectConnectionError(ws.RejectionStatus(404),
			ws.RejectionReason(fmt.Sprintf("no WebSocket endpoint at this path; devices connect to %s", u.d.Path)))
	}
	u.creds.Token, u.creds.DeviceID = queryValue(query, "token"), queryValue(query, "device_id")
	return nil
}

func (u *deviceUpgrade) onHeader(key, value []byte) error {
	switch {
	case bytes.EqualFold(key, []byte("Authorization")):
		// The scheme is case-insensitive (RFC 9110 §11.1).
		scheme, tok, ok := bytes.Cut(bytes.TrimSpace(value), []byte(" "))
		if ok && bytes.EqualFold(scheme, []byte("Bearer")) {
			u.creds.Token = string(bytes.TrimSpace(tok))
		}
	case bytes.EqualFold(key, []byte("Origin")):
		u.origin = string(value)
	case bytes.EqualFold(key, []byte("User-Agent")):
		u.userAgent = string(value)
	}
	return nil
}

func (u *deviceUpgrade) onBeforeUpgrade() (ws.HandshakeHeader, error) {
	if u.origin != "" {
		// A browser: a page must not act as a device with the browser's
		// client certificate. Pages use the app listener.
		u.reason = BadOrigin
		u.reject = fmt.Errorf("browser request (Origin %s) refused on the device listener: pages connect to the app listener's WebSocket", u.origin)
		return nil, ws.RejectConnectionError(ws.RejectionStatus(403), ws.RejectionReason(u.reject.Error()))
	}
	grant, err := u.d.Auth(u.creds)
	if err != nil {
		u.reason, u.reject = Unauthenticated, err
		opts := []ws.RejectOption{ws.RejectionStatus(401), ws.RejectionReason(err.Error())}
		if auth.Reason(err) != "" { // a JWT: say why, as the app listener does
			opts = append(opts, ws.RejectionHeader(ws.HandshakeHeaderString("WWW-Authenticate: "+auth.WWWAuthenticate(err)+"\r\n")))
		}
		return nil, ws.RejectConnectionError(opts...)
	}
	u.grant = grant
	return ws.HandshakeHeaderString(""), nil
}

func (d *Device) tlsFailed(conn *tls.Conn, remote string, err error) {
	f := Failure{Remote: remote, Stage: "tls", Reason: TLSFailure, Message: err.Error()}
	var rhe tls.RecordHeaderError
	switch {
	case errors.As(err, &rhe) && rhe.Conn != nil:
		// Plain HTTP or ws:// on a TLS port: tell the client in its own terms.
		f.Reason, f.Message = NotTLS, "client sent plain text to the TLS port: use wss:// (or https://), not ws:// (or http://)"
		_ = rhe.Conn.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = io.WriteString(rhe.Conn, "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n"+
			"This port speaks TLS: connect with wss:// (or https://), not ws:// or http://.\n")
	case isTimeout(err):
		f.Reason, f.Message = Timeout, fmt.Sprintf("TLS handshake not done within %s", d.HandshakeTimeout)
	case isClientCertError(err):
		why := certs.ClientCertRejectReason(err)
		d.Counters.RejectCert(why)
		f.Reason, f.Message = BadClientCertificate, why+": "+err.Error()
	}
	cs := conn.ConnectionState()
	f.ServerName = cs.ServerName
	if len(cs.PeerCertificates) > 0 {
		f.setPeer(cs.PeerCertificates[0])
	} else {
		f.setPeer(certs.PresentedCert(err)) // refused certificates too
	}
	d.Coverage.failed(&f)
	d.Counters.fail(d.Log, f)
}

// upgradeFailed records a failed upgrade; miss, if the certificate did not
// cover the name the client asked for, is named as the cause.
func (d *Device) upgradeFailed(conn *tls.Conn, lr *limitedReader, remote string, reason Reason, reject, err error, miss *certs.NotCoveredError) {
	cs := conn.ConnectionState()
	f := Failure{Remote: remote, ServerName: cs.ServerName, Stage: "upgrade", Reason: NotWebSocket, Message: err.Error()}
	if len(cs.PeerCertificates) > 0 {
		f.setPeer(cs.PeerCertificates[0])
	}

	switch {
	case lr.header.bad != "":
		f.Message = lr.header.bad
		body := "bad request: " + lr.header.bad + "\n"
		_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = fmt.Fprintf(conn, "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	case lr.exceeded:
		f.Reason, f.Message = TooLarge, fmt.Sprintf("upgrade request larger than %d bytes", d.MaxRequestBytes)
		_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = io.WriteString(conn, "HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
	case isTimeout(err):
		f.Reason, f.Message = Timeout, fmt.Sprintf("upgrade request not received within %s", d.HandshakeTimeout)
	case reject != nil && reason == BadOrigin:
		f.Reason, f.Message = BadOrigin, reject.Error()
	case reject != nil:
		f.Stage, f.Reason, f.Message = "auth", reason, reject.Error()
		f.SubReason = string(auth.Reason(reject))
		if why := certs.ClientCertRejectReason(reject); why == certs.RejectNoIdentity {
			d.Counters.RejectCert(why) // a valid certificate that names no usable identity
		}
	case reason == BadPath:
		f.Reason = BadPath
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		f.Message = "connection closed during the upgrade"
	}
	if miss != nil {
		f = notCovered(f, miss)
	}
	d.Counters.fail(d.Log, f)
}
