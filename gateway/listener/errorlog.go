package listener

import (
	"strings"
)

// errorLog receives net/http's own log lines: failed TLS handshakes
// become recorded failures like the device port's; the rest is debug.
type errorLog struct{ a *App }

func (e errorLog) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(p))
	rest, ok := strings.CutPrefix(line, "http: TLS handshake error from ")
	if !ok {
		e.a.Log.Debug(line)
		return len(p), nil
	}
	remote, reason, _ := strings.Cut(rest, ": ")
	f := Failure{Remote: remote, Stage: "tls", Reason: TLSFailure, Message: reason}
	switch {
	case strings.Contains(reason, errPlainHTTPAnswered.Error()):
		return len(p), nil // recorded with the plain HTTP answer
	case strings.Contains(reason, "HTTP request to an HTTPS server"):
		f.Reason, f.Message = NotTLS, "client sent plain HTTP to the TLS port: use https:// and wss://, not http:// or ws://"
	case strings.Contains(reason, "timeout"):
		f.Reason = Timeout
	case strings.Contains(reason, "EOF"):
		f.Message = "connection closed during the TLS handshake"
	}
	e.a.Coverage.failed(&f) // the SNI, and the uncovered name as the cause
	e.a.Counters.fail(e.a.Log, f)
	return len(p), nil
}
