package socketio

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
)

// EIOType is an Engine.IO v4 packet type, the ASCII digit that starts a
// text packet.
type EIOType byte

// Engine.IO packet types.
const (
	EIOOpen    EIOType = '0'
	EIOClose   EIOType = '1'
	EIOPing    EIOType = '2'
	EIOPong    EIOType = '3'
	EIOMessage EIOType = '4'
	EIOUpgrade EIOType = '5'
	EIONoop    EIOType = '6'
)

// payloadSep separates packets in a polling payload (ASCII record separator).
const payloadSep = 0x1e

// ErrBadPacket wraps every Engine.IO decoding failure.
var ErrBadPacket = errors.New("socketio: bad engine.io packet")

// EIOPacket is one decoded Engine.IO packet. Binary is set only for
// message packets that carry bytes (a WebSocket binary frame, or a "b"
// base64 element of a polling payload).
type EIOPacket struct {
	Type   EIOType
	Data   []byte
	Binary bool
}

// DecodeText decodes one text packet: the type digit, then the data.
func DecodeText(p []byte) (EIOPacket, error) {
	if len(p) == 0 {
		return EIOPacket{}, fmt.Errorf("%w: empty", ErrBadPacket)
	}
	t := EIOType(p[0])
	if t < EIOOpen || t > EIONoop {
		return EIOPacket{}, fmt.Errorf("%w: unknown type %q", ErrBadPacket, p[0])
	}
	return EIOPacket{Type: t, Data: p[1:]}, nil
}

// decodePollingPacket decodes one element of a polling payload, where
// binary messages are "b" followed by standard base64.
func decodePollingPacket(p []byte) (EIOPacket, error) {
	if len(p) > 0 && p[0] == 'b' {
		data, err := base64.StdEncoding.AppendDecode(nil, p[1:])
		if err != nil {
			return EIOPacket{}, fmt.Errorf("%w: base64: %v", ErrBadPacket, err)
		}
		return EIOPacket{Type: EIOMessage, Data: data, Binary: true}, nil
	}
	return DecodeText(p)
}

// DecodePayload splits a polling payload into packets and calls fn for
// each, in order, stopping at the first error. At most maxPackets packets
// are accepted (a bound on the work one request can cause).
func DecodePayload(body []byte, maxPackets int, fn func(EIOPacket) error) error {
	for n := 0; ; n++ {
		if n >= maxPackets {
			return fmt.Errorf("%w: more than %d packets in one payload", ErrBadPacket, maxPackets)
		}
		elem, rest, more := bytes.Cut(body, []byte{payloadSep})
		pkt, err := decodePollingPacket(elem)
		if err != nil {
			return err
		}
		if err := fn(pkt); err != nil {
			return err
		}
		if !more {
			return nil
		}
		body = rest
	}
}

// AppendPollingPacket appends one packet as a polling payload element:
// the type digit and data, or "b" and base64 for binary data. The caller
// writes payloadSep between elements.
func AppendPollingPacket(dst []byte, t EIOType, data []byte, binary bool) []byte {
	if binary {
		dst = append(dst, 'b')
		return base64.StdEncoding.AppendEncode(dst, data)
	}
	dst = append(dst, byte(t))
	return append(dst, data...)
}

// pollingLen is the size of a packet in a polling payload, separator
// included: what it costs in the outbound buffer.
func pollingLen(data []byte, binary bool) int {
	if binary {
		return 2 + base64.StdEncoding.EncodedLen(len(data))
	}
	return 2 + len(data)
}
