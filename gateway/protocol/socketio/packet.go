package socketio

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// PacketType is a Socket.IO v5 packet type.
type PacketType byte

// Socket.IO packet types.
const (
	PacketConnect      PacketType = 0
	PacketDisconnect   PacketType = 1
	PacketEvent        PacketType = 2
	PacketAck          PacketType = 3
	PacketConnectError PacketType = 4
	PacketBinaryEvent  PacketType = 5
	PacketBinaryAck    PacketType = 6
)

// ErrBadSocketPacket wraps every Socket.IO decoding failure.
var ErrBadSocketPacket = errors.New("socketio: bad socket.io packet")

// Packet is one Socket.IO packet, without its binary attachments.
type Packet struct {
	Type PacketType
	// Namespace is "/" unless the packet names another.
	Namespace string
	// ID is the ack id; HasID says whether the packet carries one.
	ID    uint64
	HasID bool
	// Attachments is the number of binary attachments that follow a
	// BINARY_EVENT or BINARY_ACK.
	Attachments int
	// Data is the JSON payload, nil when absent. It aliases the decoded
	// input.
	Data json.RawMessage
}

// maxAckID bounds ack ids to what a JavaScript number holds exactly.
const maxAckID = 1<<53 - 1

// ParsePacket decodes a Socket.IO packet as socket.io-parser writes it:
// type digit, [attachments "-"], [namespace ","], [ack id], [JSON].
func ParsePacket(p []byte) (Packet, error) {
	if len(p) == 0 || p[0] > '6' || p[0] < '0' {
		return Packet{}, fmt.Errorf("%w: unknown type", ErrBadSocketPacket)
	}
	pkt := Packet{Type: PacketType(p[0] - '0'), Namespace: "/"}
	p = p[1:]
	if pkt.Type == PacketBinaryEvent || pkt.Type == PacketBinaryAck {
		n, rest, err := parseAttachmentCount(p)
		if err != nil {
			return Packet{}, err
		}
		pkt.Attachments, p = n, rest
	}
	if len(p) > 0 && p[0] == '/' {
		i := bytes.IndexByte(p, ',')
		if i < 0 {
			i = len(p) // socket.io-parser takes the rest as the namespace
		}
		pkt.Namespace = string(p[:i])
		p = p[min(i+1, len(p)):]
	}
	i := 0
	for i < len(p) && p[i] >= '0' && p[i] <= '9' {
		i++
	}
	if i > 0 {
		id, err := strconv.ParseUint(string(p[:i]), 10, 64)
		if err != nil || id > maxAckID {
			return Packet{}, fmt.Errorf("%w: bad ack id", ErrBadSocketPacket)
		}
		pkt.ID, pkt.HasID, p = id, true, p[i:]
	}
	if len(p) > 0 {
		if !json.Valid(p) {
			return Packet{}, fmt.Errorf("%w: invalid JSON payload", ErrBadSocketPacket)
		}
		pkt.Data = p
	}
	return pkt, validPayload(&pkt)
}

// parseAttachmentCount reads "N-" of a binary packet.
func parseAttachmentCount(p []byte) (int, []byte, error) {
	i := bytes.IndexByte(p, '-')
	if i <= 0 || i > 6 {
		return 0, nil, fmt.Errorf("%w: illegal attachments", ErrBadSocketPacket)
	}
	n, err := strconv.Atoi(string(p[:i]))
	if err != nil || n < 1 {
		return 0, nil, fmt.Errorf("%w: illegal attachments", ErrBadSocketPacket)
	}
	return n, p[i+1:], nil
}

// validPayload checks the payload's shape per type, as socket.io-parser.
func validPayload(p *Packet) error {
	kind := jsonKind(p.Data)
	ok := false
	switch p.Type {
	case PacketConnect:
		ok = kind == 0 || kind == '{'
	case PacketDisconnect:
		ok = kind == 0
	case PacketConnectError:
		ok = kind == '{' || kind == '"'
	case PacketEvent, PacketBinaryEvent, PacketAck, PacketBinaryAck:
		ok = kind == '['
	}
	if !ok {
		return fmt.Errorf("%w: invalid payload for packet type %d", ErrBadSocketPacket, p.Type)
	}
	return nil
}

// jsonKind is the first non-space byte of a JSON value, 0 for none.
func jsonKind(v []byte) byte {
	v = bytes.TrimLeft(v, " \t\r\n")
	if len(v) == 0 {
		return 0
	}
	return v[0]
}

// AppendPacket encodes p as socket.io-parser does.
func AppendPacket(dst []byte, p *Packet) []byte {
	dst = append(dst, '0'+byte(p.Type))
	if p.Type == PacketBinaryEvent || p.Type == PacketBinaryAck {
		dst = strconv.AppendInt(dst, int64(p.Attachments), 10)
		dst = append(dst, '-')
	}
	if p.Namespace != "" && p.Namespace != "/" {
		dst = append(dst, p.Namespace...)
		dst = append(dst, ',')
	}
	if p.HasID {
		dst = strconv.AppendUint(dst, p.ID, 10)
	}
	return append(dst, p.Data...)
}

// EventArgs splits an EVENT payload into the event name and its
// arguments. The arguments alias data.
func EventArgs(data json.RawMessage) (name string, args []json.RawMessage, err error) {
	if err := json.Unmarshal(data, &args); err != nil {
		return "", nil, fmt.Errorf("%w: event payload: %v", ErrBadSocketPacket, err)
	}
	if len(args) == 0 || jsonKind(args[0]) != '"' {
		return "", nil, fmt.Errorf("%w: event name is not a string", ErrBadSocketPacket)
	}
	if err := json.Unmarshal(args[0], &name); err != nil {
		return "", nil, fmt.Errorf("%w: event name: %v", ErrBadSocketPacket, err)
	}
	return name, args[1:], nil
}

// placeholder is the JSON that stands for binary attachment num.
type placeholder struct {
	Placeholder bool `json:"_placeholder"`
	Num         int  `json:"num"`
}

// Placeholder reports whether arg is a binary attachment placeholder
// {"_placeholder":true,"num":N} and returns N.
func Placeholder(arg json.RawMessage) (num int, ok bool) {
	if jsonKind(arg) != '{' || !bytes.Contains(arg, []byte(`"_placeholder"`)) {
		return 0, false
	}
	var ph placeholder
	if json.Unmarshal(arg, &ph) != nil || !ph.Placeholder || ph.Num < 0 {
		return 0, false
	}
	return ph.Num, true
}

// appendPlaceholder appends the placeholder for attachment num.
func appendPlaceholder(dst []byte, num int) []byte {
	dst = append(dst, `{"_placeholder":true,"num":`...)
	dst = strconv.AppendInt(dst, int64(num), 10)
	return append(dst, '}')
}
