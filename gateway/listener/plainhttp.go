package listener

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/wssgate/wssgate/gateway/auth"
)

// maxPlainRequest bounds what is read of a plain HTTP request on the app
// port before it is answered.
const maxPlainRequest = 8 << 10

// recordTypeHandshake is the first byte of every TLS ClientHello.
const recordTypeHandshake = 0x16

// errPlainHTTPAnswered ends the TLS handshake of a connection that spoke
// plain HTTP and was answered in plain HTTP (the failure is recorded then).
var errPlainHTTPAnswered = errors.New("listener: plain HTTP request answered in plain HTTP")

// plainHTTP wraps the app listener's TCP listener: a connection whose first
// byte is not a TLS record but the start of an HTTP request (someone typed
// http:// or ws://) is answered in plain HTTP instead of with Go's stock
// "Client sent an HTTP request to an HTTPS server": a GET or HEAD with a
// Host gets 308 to the same URL over https, anything else (a ws:// upgrade
// included) a plain-text 400 naming https:// and wss://. Each is counted
// as not_tls. The sniff happens in the connection's first Read, on the
// handshake goroutine of net/http under its handshake deadline, so Accept
// never blocks on a client.
func plainHTTP(ln net.Listener, a *App) net.Listener { return &sniffListener{Listener: ln, a: a} }

type sniffListener struct {
	net.Listener
	a *App
}

// Accept returns the next connection, behind the first-byte sniff.
func (l *sniffListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if _, refused := c.(*refusedConn); refused {
		return c, nil // answered 503 over TLS; refusedContext must see it unwrapped
	}
	return &sniffConn{Conn: c, a: l.a}, nil
}

// sniffConn checks the first bytes read; only the TLS handshake reads them,
// so sniffed needs no lock.
type sniffConn struct {
	net.Conn
	a       *App
	sniffed bool
}

func (c *sniffConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if c.sniffed || n == 0 {
		return n, err
	}
	c.sniffed = true
	if p[0] == recordTypeHandshake || p[0] < 'A' || p[0] > 'Z' { // HTTP methods are upper-case tokens
		return n, err
	}
	c.answer(p[:n])
	return 0, errPlainHTTPAnswered
}

// answer reads the plain HTTP request that starts with first, answers it
// and records the failure.
func (c *sniffConn) answer(first []byte) {
	br := bufio.NewReader(io.MultiReader(bytes.NewReader(first), io.LimitReader(c.Conn, maxPlainRequest-int64(len(first)))))
	req, err := http.ReadRequest(br)
	f := Failure{Remote: c.RemoteAddr().String(), Stage: "tls", Reason: NotTLS}
	_ = c.Conn.SetWriteDeadline(time.Now().Add(time.Second))
	if loc := redirectTarget(req, err); loc != "" {
		body := "This port speaks TLS: " + loc + "\n"
		fmt.Fprintf(c.Conn, "HTTP/1.1 308 Permanent Redirect\r\nLocation: %s\r\nContent-Type: text/plain; charset=utf-8\r\n"+
			"Content-Length: %d\r\nConnection: close\r\n\r\n", loc, len(body))
		if req.Method != http.MethodHead {
			io.WriteString(c.Conn, body)
		}
		f.Message = fmt.Sprintf("client sent plain HTTP (%s %s) to the TLS port: answered 308 to https://%s%s",
			req.Method, loggedURI(req), req.Host, loggedURI(req))
	} else {
		body := "This port speaks TLS: use https:// for pages and wss:// for WebSockets, not http:// or ws://.\n"
		fmt.Fprintf(c.Conn, "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
			len(body), body)
		f.Message = "client sent plain HTTP (" + describePlain(req, err) + ") to the TLS port: answered 400; use https:// and wss://, not http:// or ws://"
	}
	c.a.Counters.fail(c.a.Log, f)
}

// redirectTarget is the https URL a plain request is redirected to, or ""
// when it gets the 400: not parsed, not GET/HEAD, no usable Host, or a
// WebSocket upgrade (a ws:// client does not follow redirects; the hint
// helps it more).
func redirectTarget(req *http.Request, err error) string {
	if err != nil || (req.Method != http.MethodGet && req.Method != http.MethodHead) || !validHost(req.Host) ||
		strings.EqualFold(req.Header.Get("Upgrade"), "websocket") {
		return ""
	}
	return "https://" + req.Host + req.URL.RequestURI()
}

// validHost accepts a Host header of a name or IP and an optional port,
// nothing that could change the URL's meaning.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for _, r := range h {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(".-_:[]", r)
		if !ok {
			return false
		}
	}
	return true
}

// describePlain names a plain request in the failure, e.g. "POST /x".
func describePlain(req *http.Request, err error) string {
	switch {
	case err != nil:
		return "unparsable: " + err.Error()
	case strings.EqualFold(req.Header.Get("Upgrade"), "websocket"):
		return "ws:// upgrade " + loggedURI(req)
	}
	return req.Method + " " + loggedURI(req)
}

// loggedURI is the request's path and query as a log line may show it: a
// token in the query (a browser's ?token=) is redacted.
func loggedURI(req *http.Request) string {
	u := *req.URL
	u.RawQuery = auth.RedactQuery(u.RawQuery)
	return u.RequestURI()
}
