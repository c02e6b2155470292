package listener

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/gobwas/ws"

	"github.com/wssgate/wssgate/gateway/certs"
	"github.com/wssgate/wssgate/gateway/session"
)

// Credentials are what a device presented during its handshake.
type Credentials struct {
	PeerCert *x509.Certificate // verified client certificate, if any
	Token    string            // Authorization: Bearer, or ?token=
	DeviceID string            // ?device_id= (honoured in development mode only)
	Remote   string
}

// Authenticator names the device, or says why it may not connect (the
// handshake is then refused with 401).
type Authenticator func(Credentials) (identity string, err error)

// Device is the WSS listener for devices.
type Device struct {
	Name             string
	TLS              *tls.Config // from certs.Store.TLSConfig
	Path             string
	Auth             Authenticator
	HandshakeTimeout time.Duration
	MaxRequestBytes  int
	MaxConnections   int // 0: no cap
	// CertGeneration reports the certificate generation serving now.
	CertGeneration func() uint64
	// Start starts an upgraded session on a goroutine of its own and
	// returns; done is called when the session has ended.
	Start func(conn net.Conn, info *session.Info, done func())
	Log   *slog.Logger
	Stats *Stats

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
	d.ln = ln
	d.Stats.Address = ln.Addr().String()
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
	info, early, ok := d.handshake(conn)
	d.track(raw, false)
	d.wg.Done()
	if !ok {
		conn.Close()
		return
	}
	if n := d.Stats.Open.Add(1); d.MaxConnections > 0 && n > int64(d.MaxConnections) {
		d.Stats.Open.Add(-1)
		// Checked after the upgrade so the device gets a close code it can act on.
		d.Stats.fail(d.Log, Failure{Remote: info.RemoteAddr, SNI: info.SNI, Stage: "upgrade", Reason: TooManyConnections,
			Message: fmt.Sprintf("listener at max_connections (%d)", d.MaxConnections)})
		_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = conn.Write(closeOverloaded)
		conn.Close()
		return
	}
	d.Stats.HandshakesOK.Add(1)
	d.Start(withEarlyData(conn, early), &info, func() { d.Stats.Open.Add(-1) })
}

var closeOverloaded = ws.MustCompileFrame(ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusCode(1013), "listener at max_connections")))

// handshake does TLS and the upgrade. early is what the client sent after
// its upgrade request without waiting for the 101 (frames for the session).
func (d *Device) handshake(conn *tls.Conn) (info session.Info, early []byte, ok bool) {
	remote := conn.RemoteAddr().String()
	_ = conn.SetDeadline(time.Now().Add(d.HandshakeTimeout))
	if err := conn.HandshakeContext(context.Background()); err != nil {
		d.tlsFailed(conn, remote, err)
		return info, nil, false
	}
	cs := conn.ConnectionState()
	var creds Credentials
	creds.Remote = remote
	if len(cs.PeerCertificates) > 0 {
		creds.PeerCert = cs.PeerCertificates[0]
	}
	var (
		origin, ua string
		reject     error
		reason     = Unauthenticated
		identity   string
	)
	u := ws.Upgrader{
		OnRequest: func(uri []byte) error {
			path, query, _ := bytes.Cut(uri, []byte("?"))
			if string(path) != d.Path {
				reason = BadPath
				return ws.RejectConnectionError(ws.RejectionStatus(404),
					ws.RejectionReason(fmt.Sprintf("no WebSocket endpoint at this path; devices connect to %s", d.Path)))
			}
			creds.Token, creds.DeviceID = queryValue(query, "token"), queryValue(query, "device_id")
			return nil
		},
		OnHeader: func(key, value []byte) error {
			switch {
			case bytes.EqualFold(key, []byte("Authorization")):
				if tok, ok := bytes.CutPrefix(value, []byte("Bearer ")); ok {
					creds.Token = string(bytes.TrimSpace(tok))
				}
			case bytes.EqualFold(key, []byte("Origin")):
				origin = string(value)
			case bytes.EqualFold(key, []byte("User-Agent")):
				ua = string(value)
			}
			return nil
		},
		OnBeforeUpgrade: func() (ws.HandshakeHeader, error) {
			if origin != "" {
				// A browser: a page must not act as a device with the
				// browser's client certificate. Pages use the app listener.
				reason = BadOrigin
				reject = fmt.Errorf("browser request (Origin %s) refused on the device listener: pages connect to the app listener's WebSocket", origin)
				return nil, ws.RejectConnectionError(ws.RejectionStatus(403), ws.RejectionReason(reject.Error()))
			}
			id, err := d.Auth(creds)
			if err != nil {
				reason = Unauthenticated
				reject = err
				return nil, ws.RejectConnectionError(ws.RejectionStatus(401), ws.RejectionReason(err.Error()))
			}
			identity = id
			return ws.HandshakeHeaderString(""), nil
		},
	}
	lr := &limitedReader{Conn: conn, n: d.MaxRequestBytes}
	if _, err := u.Upgrade(lr); err != nil {
		d.upgradeFailed(conn, lr, remote, reason, reject, err)
		return info, nil, false
	}
	_ = conn.SetDeadline(time.Time{})
	info = session.Info{
		Listener:    d.Name,
		Role:        session.RoleDevice,
		Identity:    identity,
		RemoteAddr:  remote,
		LocalAddr:   conn.LocalAddr().String(),
		ConnectedAt: time.Now(),
		Origin:      origin,
		UserAgent:   ua,
	}
	fillTLS(&info, cs)
	if d.CertGeneration != nil {
		info.CertGeneration = d.CertGeneration()
	}
	return info, lr.early, true
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
		d.Stats.RejectCert(why)
		f.Reason, f.Message = BadClientCertificate, why+": "+err.Error()
	}
	cs := conn.ConnectionState()
	f.SNI = cs.ServerName
	if len(cs.PeerCertificates) > 0 {
		f.CertSubject = cs.PeerCertificates[0].Subject.String()
	}
	d.Stats.fail(d.Log, f)
}

func (d *Device) upgradeFailed(conn *tls.Conn, lr *limitedReader, remote string, reason Reason, reject, err error) {
	cs := conn.ConnectionState()
	f := Failure{Remote: remote, SNI: cs.ServerName, Stage: "upgrade", Reason: NotWebSocket, Message: err.Error()}
	if len(cs.PeerCertificates) > 0 {
		f.CertSubject = cs.PeerCertificates[0].Subject.String()
	}
	switch {
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
		if why := certs.ClientCertRejectReason(reject); why == certs.RejectNoIdentity {
			d.Stats.RejectCert(why) // a valid certificate that names no usable identity
		}
	case reason == BadPath:
		f.Reason = BadPath
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		f.Message = "connection closed during the upgrade"
	}
	d.Stats.fail(d.Log, f)
}

// queryValue returns the unescaped value of key in a raw query, "" if
// absent or malformed. It allocates only for the value it returns.
func queryValue(query []byte, key string) string {
	for len(query) > 0 {
		var pair []byte
		pair, query, _ = bytes.Cut(query, []byte("&"))
		k, v, _ := bytes.Cut(pair, []byte("="))
		if string(k) == key {
			s, err := url.QueryUnescape(string(v))
			if err != nil {
				return ""
			}
			return s
		}
	}
	return ""
}

// limitedReader is what the upgrade reads from: it bounds the request
// (gobwas/ws does not bound header lines by itself) and stops at its end,
// the first empty line. gobwas/ws reads through a pooled buffer that it
// drops after the upgrade, so bytes past the request (frames a client sent
// without waiting for the 101) are kept in early instead of being lost.
type limitedReader struct {
	net.Conn
	n        int
	exceeded bool
	eol      int    // bytes of an empty line seen so far: 1 after "\n", 2 after "\n\r"
	done     bool   // the request's end was read
	early    []byte // what came after it
}

var errRequestTooLarge = errors.New("listener: upgrade request too large")

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.done {
		return 0, io.EOF
	}
	if l.n <= 0 {
		l.exceeded = true
		return 0, errRequestTooLarge
	}
	if len(p) > l.n {
		p = p[:l.n]
	}
	n, err := l.Conn.Read(p)
	l.n -= n
	if end := l.requestEnd(p[:n]); end >= 0 {
		l.done = true
		l.early = append([]byte(nil), p[end:n]...)
		return end, nil
	}
	return n, err
}

// requestEnd returns the offset just past the empty line that ends the
// request in b, or -1; the state carries over between reads. Lines may end
// in "\r\n" or "\n", as gobwas/ws accepts both.
func (l *limitedReader) requestEnd(b []byte) int {
	for i, c := range b {
		switch {
		case c == '\n' && l.eol > 0:
			return i + 1
		case c == '\n':
			l.eol = 1
		case c == '\r' && l.eol == 1:
			l.eol = 2
		default:
			l.eol = 0
		}
	}
	return -1
}

// earlyConn is a connection whose first reads return bytes read ahead.
type earlyConn struct {
	net.Conn
	early []byte
}

func (c *earlyConn) Read(p []byte) (int, error) {
	if len(c.early) > 0 {
		n := copy(p, c.early)
		c.early = c.early[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// withEarlyData returns conn, or conn behind early if there is any.
func withEarlyData(conn net.Conn, early []byte) net.Conn {
	if len(early) == 0 {
		return conn
	}
	return &earlyConn{Conn: conn, early: early}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// isClientCertError reports a handshake that failed on the client's
// certificate (unknown authority, expired, bad usage, or none given when
// one is required).
func isClientCertError(err error) bool {
	return certs.ClientCertRejectReason(err) != "other"
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
	info.SNI = cs.ServerName
	info.ALPN = cs.NegotiatedProtocol
	if len(cs.PeerCertificates) > 0 {
		c := cs.PeerCertificates[0]
		sum := sha256.Sum256(c.Raw)
		info.PeerSubject = c.Subject.String()
		info.PeerFingerprint = hex.EncodeToString(sum[:])
		info.PeerChain = cs.PeerCertificates
	}
}
