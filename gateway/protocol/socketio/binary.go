package socketio

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/wssgate/wssgate/gateway/wire"
)

// Reassembler errors.
var (
	ErrTooManyAttachments = errors.New("socketio: too many binary attachments")
	ErrAttachmentsTooBig  = errors.New("socketio: binary attachments too large")
	ErrUnexpectedBinary   = errors.New("socketio: binary message without a binary packet")
	ErrMissingBinary      = errors.New("socketio: text packet while binary attachments are pending")
)

// Reassembler joins a BINARY_EVENT or BINARY_ACK with the binary messages
// that follow it. The zero value accepts nothing binary; set both bounds.
// Not safe for concurrent use: one per connection, fed in arrival order.
type Reassembler struct {
	MaxAttachments int // most attachments one packet may declare
	MaxBytes       int // most attachment bytes one packet may carry in total

	pending *Packet
	atts    [][]byte
	size    int
}

// Text feeds one Socket.IO text packet. done reports a complete packet
// (returned with its attachments); a binary packet is complete only after
// its attachments arrived through Binary.
func (r *Reassembler) Text(text []byte) (pkt Packet, atts [][]byte, done bool, err error) {
	if r.pending != nil {
		return Packet{}, nil, false, ErrMissingBinary
	}
	p, err := ParsePacket(text)
	if err != nil {
		return Packet{}, nil, false, err
	}
	if p.Attachments == 0 {
		return p, nil, true, nil
	}
	if p.Attachments > r.MaxAttachments {
		return Packet{}, nil, false, fmt.Errorf("%w: %d declared, at most %d", ErrTooManyAttachments, p.Attachments, r.MaxAttachments)
	}
	r.pending, r.atts, r.size = &p, make([][]byte, 0, p.Attachments), 0
	return Packet{}, nil, false, nil
}

// Binary feeds one binary message (an attachment). b is kept.
func (r *Reassembler) Binary(b []byte) (pkt Packet, atts [][]byte, done bool, err error) {
	if r.pending == nil {
		return Packet{}, nil, false, ErrUnexpectedBinary
	}
	r.size += len(b)
	if r.size > r.MaxBytes {
		r.Reset()
		return Packet{}, nil, false, fmt.Errorf("%w: more than %d bytes", ErrAttachmentsTooBig, r.MaxBytes)
	}
	r.atts = append(r.atts, b)
	if len(r.atts) < r.pending.Attachments {
		return Packet{}, nil, false, nil
	}
	pkt, atts = *r.pending, r.atts
	r.Reset()
	return pkt, atts, true, nil
}

// Reset drops a partly received packet.
func (r *Reassembler) Reset() { r.pending, r.atts, r.size = nil, nil, 0 }

// EncodeMessageEvent encodes a wssgate delivery as the Socket.IO event
// 42["message",{"channel":C,"data":D}]: text that is valid JSON is embedded
// as is, other text as a JSON string; binary data becomes attachment 0
// (451-["message",{"channel":C,"data":{"_placeholder":true,"num":0}}]).
// Encode once, then hand the result to many sockets through Prepare.
func EncodeMessageEvent(channel string, data []byte, binary bool) (text []byte, attachments [][]byte) {
	est := 48 + len(channel)
	if !binary {
		est += len(data)
	}
	b := make([]byte, 0, est)
	if binary {
		b = append(b, `51-["message",{"channel":`...)
	} else {
		b = append(b, `2["message",{"channel":`...)
	}
	b = wire.AppendJSONString(b, channel)
	b = append(b, `,"data":`...)
	switch {
	case binary:
		b = appendPlaceholder(b, 0)
		attachments = [][]byte{data}
	case json.Valid(data):
		b = append(b, data...)
	default:
		b = wire.AppendJSONString(b, string(data))
	}
	return append(b, "}]"...), attachments
}

// encodeEvent encodes EVENT or ACK packets with arbitrary arguments:
// a top-level []byte argument becomes a binary attachment, a
// json.RawMessage is embedded as is, anything else goes through
// encoding/json. name is empty for an ack.
func encodeEvent(ack bool, id uint64, name string, args []any) (text []byte, atts [][]byte, err error) {
	body := make([]byte, 0, 64)
	body = append(body, '[')
	if !ack {
		body = wire.AppendJSONString(body, name)
	}
	for i, a := range args {
		if i > 0 || !ack {
			body = append(body, ',')
		}
		switch v := a.(type) {
		case []byte:
			body = appendPlaceholder(body, len(atts))
			atts = append(atts, v)
		case json.RawMessage:
			if !json.Valid(v) {
				return nil, nil, fmt.Errorf("encode argument %d: invalid JSON", i)
			}
			body = append(body, v...)
		default:
			j, err := json.Marshal(v)
			if err != nil {
				return nil, nil, fmt.Errorf("encode argument %d: %w", i, err)
			}
			body = append(body, j...)
		}
	}
	body = append(body, ']')
	p := Packet{Type: PacketEvent, Namespace: "/", Data: body, ID: id, HasID: ack}
	if ack {
		p.Type = PacketAck
	}
	if len(atts) > 0 {
		p.Type += PacketBinaryEvent - PacketEvent
		p.Attachments = len(atts)
	}
	return AppendPacket(make([]byte, 0, len(body)+24), &p), atts, nil
}

// encodeConnectError encodes CONNECT_ERROR {"message":M} for namespace ns.
func encodeConnectError(ns, message string) []byte {
	b := make([]byte, 0, 32+len(ns)+len(message))
	b = append(b, '4')
	if ns != "/" {
		b = append(append(b, ns...), ',')
	}
	b = append(b, `{"message":`...)
	b = wire.AppendJSONString(b, message)
	return append(b, '}')
}

// encodeConnect encodes the CONNECT reply {"sid":S}.
func encodeConnect(sid string) []byte {
	b := append(make([]byte, 0, 16+len(sid)), `0{"sid":`...)
	b = strconv.AppendQuote(b, sid) // sids are base64url: no escaping needed
	return append(b, '}')
}
