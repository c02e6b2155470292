package socketio

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// maxPacketsPerPost bounds the packets of one POST.
const maxPacketsPerPost = 1024

// servePolling answers a GET (long-poll) or POST (client packets) of a
// polling session.
func (ss *session) servePolling(w http.ResponseWriter, r *http.Request) {
	ss.mu.Lock()
	upgraded := ss.ws != nil
	ss.mu.Unlock()
	if upgraded || ss.websocketOnly {
		ss.srv.fail(w, r, http.StatusBadRequest, codeBadRequest, ReasonTransportMismatch,
			"polling request for sid "+ss.id+", which uses websocket")
		return
	}
	switch r.Method {
	case http.MethodGet:
		ss.longPoll(w, r)
	case http.MethodPost:
		ss.post(w, r)
	default:
		ss.srv.fail(w, r, http.StatusBadRequest, codeBadRequest, ReasonBadRequest, "method "+r.Method+" on a polling session")
	}
}

// longPoll holds a GET until packets are queued, the upgrade pauses
// polling, the session closes, or one ping interval passed.
func (ss *session) longPoll(w http.ResponseWriter, r *http.Request) {
	ss.mu.Lock()
	if ss.getting {
		ss.mu.Unlock()
		ss.srv.fail(w, r, http.StatusBadRequest, codeBadRequest, ReasonBadRequest, "overlapping polling GET for sid "+ss.id)
		ss.close("transport error")
		return
	}
	ss.getting = true
	ss.mu.Unlock()
	defer func() {
		ss.mu.Lock()
		ss.getting = false
		ss.mu.Unlock()
	}()

	hold := time.NewTimer(ss.srv.cfg.PingInterval)
	defer hold.Stop()
	for {
		body, ok := ss.takePoll()
		if ok {
			writePolling(w, body)
			if body[0] == byte(EIOClose) {
				ss.srv.remove(ss)
			}
			return
		}
		select {
		case <-ss.wake:
		case <-ss.done:
		case <-hold.C:
			writePolling(w, []byte{byte(EIONoop)})
			return
		case <-r.Context().Done():
			return // the client went away; queued packets stay for its next poll
		}
	}
}

// takePoll returns the body for the held GET, if there is one to send:
// a close packet once closed, a noop while the upgrade pauses polling,
// else the queued packets.
func (ss *session) takePoll() ([]byte, bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	switch {
	case ss.closed:
		return []byte{byte(EIOClose)}, true
	case ss.probed || ss.ws != nil:
		return []byte{byte(EIONoop)}, true
	case len(ss.poll) == 0:
		return nil, false
	}
	b := make([]byte, 0, ss.pollBytes)
	for i, p := range ss.poll {
		if i > 0 {
			b = append(b, payloadSep)
		}
		b = AppendPollingPacket(b, p.typ, p.data, p.binary)
	}
	clear(ss.poll)
	ss.poll, ss.pollBytes = ss.poll[:0], 0
	return b, true
}

// post reads one POST of client packets, at most MaxPayload bytes.
func (ss *session) post(w http.ResponseWriter, r *http.Request) {
	ss.mu.Lock()
	if ss.posting {
		ss.mu.Unlock()
		ss.srv.fail(w, r, http.StatusBadRequest, codeBadRequest, ReasonBadRequest, "overlapping polling POST for sid "+ss.id)
		ss.close("transport error")
		return
	}
	ss.posting = true
	ss.mu.Unlock()
	defer func() {
		ss.mu.Lock()
		ss.posting = false
		ss.mu.Unlock()
	}()

	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(ss.srv.cfg.MaxPayload)))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		ss.srv.failure(r, ReasonTooLarge, fmt.Sprintf("POST body larger than MaxPayload (%d bytes)", ss.srv.cfg.MaxPayload))
		http.Error(w, "payload too large", http.StatusRequestEntityTooLarge)
		ss.close("transport error")
		return
	case err != nil:
		ss.close("transport error")
		return
	}
	ss.inMu.Lock()
	err = DecodePayload(body, maxPacketsPerPost, func(p EIOPacket) error {
		if ss.isClosed() {
			return errClosed
		}
		ss.receive(p)
		return nil
	})
	ss.inMu.Unlock()
	if err != nil && !errors.Is(err, errClosed) {
		ss.srv.fail(w, r, http.StatusBadRequest, codeBadRequest, ReasonBadRequest, "decode payload: "+err.Error())
		ss.close("parse error")
		return
	}
	w.Header().Set("Content-Type", "text/html")
	_, _ = io.WriteString(w, "ok")
}

// errClosed stops decoding a POST once the session has closed.
var errClosed = errors.New("socketio: session closed")

func (ss *session) isClosed() bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.closed
}
