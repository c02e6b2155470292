package protocol

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/wssgate/wssgate/gateway/wire"
)

// Request types an app client may send.
const (
	TypeSubscribe   = "subscribe"
	TypeUnsubscribe = "unsubscribe"
	TypePublish     = "publish"
	// TypeRefresh carries a new token for the session's identity:
	// {"type":"refresh","id":N,"token":"<JWT>"}.
	TypeRefresh = "refresh"
)

// Error codes of {"type":"error"} replies.
const (
	CodeBadRequest = "bad_request"
	CodeForbidden  = "forbidden"
	CodeNotFound   = "not_found"
	CodeTooLarge   = "too_large"
	CodeLimit      = "limit"
	CodeInternal   = "internal"
	// CodeUnauthenticated answers a refused refresh; the old expiry stays.
	CodeUnauthenticated = "unauthenticated"
)

// Request is one app client request on /ws.
type Request struct {
	Type    string          `json:"type"`
	ID      json.RawMessage `json:"id,omitempty"`
	Channel string          `json:"channel"`
	// Data is any JSON value: a string is published as that text, any
	// other value as its JSON text.
	Data json.RawMessage `json:"data,omitempty"`
	// DataBase64 is a binary payload; exclusive with Data.
	DataBase64 *string `json:"data_base64,omitempty"`
	// Token is a refresh request's new credential; never logged.
	Token string `json:"token,omitempty"`
}

// ErrBadRequest wraps every decoding failure of a request.
var ErrBadRequest = errors.New("bad request")

// DecodeRequest parses one app request. The error wraps ErrBadRequest and
// says what is wrong. The id, if any, is returned even when the rest is
// bad, so the error reply can carry it.
func DecodeRequest(p []byte) (Request, error) {
	var r Request
	if err := json.Unmarshal(p, &r); err != nil {
		return r, fmt.Errorf("%w: not a JSON object: %v", ErrBadRequest, err)
	}
	if len(r.ID) > 0 && !validID(r.ID) {
		r.ID = nil
		return r, fmt.Errorf("%w: id must be a number or a string", ErrBadRequest)
	}
	switch r.Type {
	case TypeRefresh:
		if r.Token == "" {
			return r, fmt.Errorf("%w: refresh needs a token", ErrBadRequest)
		}
		return r, nil
	case TypeSubscribe, TypeUnsubscribe, TypePublish:
	case "":
		return r, fmt.Errorf("%w: missing type", ErrBadRequest)
	default:
		return r, fmt.Errorf("%w: unknown type %q", ErrBadRequest, r.Type)
	}
	if r.Channel == "" {
		return r, fmt.Errorf("%w: missing channel", ErrBadRequest)
	}
	if r.Type == TypePublish && len(r.Data) == 0 && r.DataBase64 == nil {
		return r, fmt.Errorf("%w: publish needs data or data_base64", ErrBadRequest)
	}
	if len(r.Data) > 0 && r.DataBase64 != nil {
		return r, fmt.Errorf("%w: data and data_base64 are exclusive", ErrBadRequest)
	}
	return r, nil
}

func validID(id json.RawMessage) bool {
	if id[0] == '"' {
		return true
	}
	_, err := strconv.ParseFloat(string(id), 64)
	return err == nil
}

// Payload returns what a publish request carries: binary for data_base64,
// else text (a JSON string's contents, or any other value's JSON text).
func (r *Request) Payload() (data []byte, binary bool, err error) {
	if r.DataBase64 != nil {
		b, err := base64.StdEncoding.DecodeString(*r.DataBase64)
		if err != nil {
			return nil, false, fmt.Errorf("%w: data_base64: %v", ErrBadRequest, err)
		}
		return b, true, nil
	}
	if r.Data[0] == '"' {
		var s string
		if err := json.Unmarshal(r.Data, &s); err != nil {
			return nil, false, fmt.Errorf("%w: data: %v", ErrBadRequest, err)
		}
		return []byte(s), false, nil
	}
	return []byte(r.Data), false, nil
}

// MessageFrame compiles {"type":"message","channel":C,"data":...} (or
// "data_base64" for binary) into one text frame. Text that is valid JSON
// and valid UTF-8 is embedded as is; other text becomes a JSON string
// (invalid UTF-8 as U+FFFD: a text frame must be UTF-8, RFC 6455 8.1, and
// json.Valid does not check it).
func MessageFrame(channel string, data []byte, binary bool) []byte {
	est := 48 + len(channel) + len(data)
	if binary {
		est += base64.StdEncoding.EncodedLen(len(data))
	}
	b := wire.TextFrameBuffer(est)
	b = append(b, `{"type":"message","channel":`...)
	b = wire.AppendJSONString(b, channel)
	switch {
	case binary:
		b = append(b, `,"data_base64":"`...)
		b = base64.StdEncoding.AppendEncode(b, data)
		b = append(b, '"')
	case utf8.Valid(data) && json.Valid(data):
		b = append(b, `,"data":`...)
		b = append(b, data...)
	default:
		b = append(b, `,"data":`...)
		b = wire.AppendJSONString(b, string(data))
	}
	return wire.FinishText(append(b, '}'))
}

// AckFrame compiles {"type":"ack","id":ID} with "reached":N when reached >= 0.
func AckFrame(id json.RawMessage, reached int) []byte {
	b := wire.TextFrameBuffer(48 + len(id))
	b = append(b, `{"type":"ack"`...)
	b = appendID(b, id)
	if reached >= 0 {
		b = append(b, `,"reached":`...)
		b = strconv.AppendInt(b, int64(reached), 10)
	}
	return wire.FinishText(append(b, '}'))
}

// ErrorFrame compiles {"type":"error","id":ID,"code":C,"message":M}.
func ErrorFrame(id json.RawMessage, code, message string) []byte {
	b := wire.TextFrameBuffer(64 + len(id) + len(message))
	b = append(b, `{"type":"error"`...)
	b = appendID(b, id)
	b = append(b, `,"code":`...)
	b = wire.AppendJSONString(b, code)
	b = append(b, `,"message":`...)
	b = wire.AppendJSONString(b, message)
	return wire.FinishText(append(b, '}'))
}

func appendID(b []byte, id json.RawMessage) []byte {
	if len(id) == 0 {
		return b
	}
	return append(append(b, `,"id":`...), id...)
}
