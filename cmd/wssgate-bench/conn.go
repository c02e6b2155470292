package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/gobwas/ws"
)

// errClosedByServer reports a close frame from the gateway.
var errClosedByServer = errors.New("wssgate-bench: connection closed by the server")

// maxFrame bounds what the load tool accepts from the gateway in one message.
const maxFrame = 16 << 20

// conn is one WebSocket client connection. Reads happen on one goroutine (the
// owner's); writes may come from any goroutine and are serialized by wmu.
type conn struct {
	nc net.Conn
	br *bufio.Reader

	wmu  sync.Mutex // guards wbuf and writes to nc
	wbuf []byte

	rbuf      []byte // payload of the last message read
	closeCode ws.StatusCode
	socketIO  bool // an Engine.IO client: read answers its pings ("2" → "3")
}

// dialer opens WebSocket connections over TLS from round-robin source addresses.
type dialer struct {
	tls     *tls.Config
	src     *sourcePool
	timeout time.Duration
}

// dial connects to rawURL (wss://...) and upgrades, with extra request headers;
// tc, when not nil, replaces the dialer's TLS configuration (client certificates).
func (d *dialer) dial(ctx context.Context, rawURL string, header http.Header, tc *tls.Config) (*conn, error) {
	if tc == nil {
		tc = d.tls
	}
	wd := ws.Dialer{
		Timeout:   d.timeout,
		TLSConfig: tc,
		NetDial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			nd := net.Dialer{LocalAddr: d.src.pick(), Control: bindNoPort}
			return nd.DialContext(ctx, network, addr)
		},
	}
	if len(header) > 0 {
		wd.Header = ws.HandshakeHeaderHTTP(header)
	}
	nc, br, _, err := wd.Dial(ctx, rawURL)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", rawURL, err)
	}
	c := &conn{nc: nc}
	if br != nil && br.Buffered() > 0 {
		c.br = bufio.NewReaderSize(io.MultiReader(br, nc), 4096)
	} else {
		if br != nil {
			ws.PutReader(br)
		}
		c.br = bufio.NewReaderSize(nc, 4096)
	}
	return c, nil
}

// write sends one masked frame with payload p.
func (c *conn) write(op ws.OpCode, p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	b := c.wbuf[:0]
	b = append(b, 0x80|byte(op))
	switch n := len(p); {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n <= 0xffff:
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	var mask [4]byte
	binary.LittleEndian.PutUint32(mask[:], rand.Uint32())
	b = append(b, mask[:]...)
	start := len(b)
	b = append(b, p...)
	for i := range b[start:] {
		b[start+i] ^= mask[i&3]
	}
	c.wbuf = b
	_, err := c.nc.Write(b)
	return err
}

// read returns the next data message (text or binary). It answers pings
// (WebSocket, and Engine.IO's on a Socket.IO client), skips pongs,
// reassembles fragments and returns errClosedByServer on a close frame
// (closeCode holds its code). The payload is valid until the next read.
func (c *conn) read() (ws.OpCode, []byte, error) {
	for {
		op, p, err := c.readMessage()
		if err != nil || !c.socketIO || op != opText || len(p) != 1 || p[0] != '2' {
			return op, p, err
		}
		if err := c.write(opText, []byte{'3'}); err != nil {
			return 0, nil, fmt.Errorf("write engine.io pong: %w", err)
		}
	}
}

// readMessage is read without Engine.IO pings.
func (c *conn) readMessage() (ws.OpCode, []byte, error) {
	c.rbuf = c.rbuf[:0]
	var msgOp ws.OpCode
	for {
		fin, op, n, err := c.readHeader()
		if err != nil {
			return 0, nil, err
		}
		if op.IsControl() {
			p := make([]byte, n)
			if _, err := io.ReadFull(c.br, p); err != nil {
				return 0, nil, fmt.Errorf("read control frame: %w", err)
			}
			switch op {
			case ws.OpPing:
				if err := c.write(ws.OpPong, p); err != nil {
					return 0, nil, fmt.Errorf("write pong: %w", err)
				}
			case ws.OpClose:
				if len(p) >= 2 {
					c.closeCode = ws.StatusCode(binary.BigEndian.Uint16(p))
				}
				return 0, nil, fmt.Errorf("%w (code %d)", errClosedByServer, c.closeCode)
			}
			continue
		}
		if op != ws.OpContinuation {
			msgOp = op
		}
		if len(c.rbuf)+n > maxFrame {
			return 0, nil, fmt.Errorf("read message: longer than %d bytes", maxFrame)
		}
		start := len(c.rbuf)
		c.rbuf = slices.Grow(c.rbuf, n)[:start+n]
		if _, err := io.ReadFull(c.br, c.rbuf[start:]); err != nil {
			return 0, nil, fmt.Errorf("read frame payload: %w", err)
		}
		if fin {
			return msgOp, c.rbuf, nil
		}
	}
}

// readHeader parses one unmasked server frame header.
func (c *conn) readHeader() (fin bool, op ws.OpCode, n int, err error) {
	var h [2]byte
	if _, err = io.ReadFull(c.br, h[:]); err != nil {
		return false, 0, 0, fmt.Errorf("read frame header: %w", err)
	}
	fin, op = h[0]&0x80 != 0, ws.OpCode(h[0]&0x0f)
	if h[1]&0x80 != 0 {
		return false, 0, 0, errors.New("read frame header: masked frame from the server")
	}
	n64 := uint64(h[1] & 0x7f)
	switch n64 {
	case 126:
		var e [2]byte
		if _, err = io.ReadFull(c.br, e[:]); err != nil {
			return false, 0, 0, fmt.Errorf("read frame length: %w", err)
		}
		n64 = uint64(binary.BigEndian.Uint16(e[:]))
	case 127:
		var e [8]byte
		if _, err = io.ReadFull(c.br, e[:]); err != nil {
			return false, 0, 0, fmt.Errorf("read frame length: %w", err)
		}
		n64 = binary.BigEndian.Uint64(e[:])
	}
	if n64 > maxFrame {
		return false, 0, 0, fmt.Errorf("read frame header: frame of %d bytes", n64)
	}
	return fin, op, int(n64), nil
}

// closeHandshake sends a normal close frame and waits, at most wait, for the
// server's close frame and the end of the stream; then it closes the socket.
// It reports whether the server answered with a close frame.
func (c *conn) closeHandshake(wait time.Duration) bool {
	defer c.nc.Close()
	_ = c.nc.SetDeadline(time.Now().Add(wait))
	if err := c.write(ws.OpClose, []byte{0x03, 0xe8}); err != nil {
		return false
	}
	for {
		_, _, err := c.read()
		if errors.Is(err, errClosedByServer) {
			// Drain to EOF so that the server closes the TCP connection first.
			_, _ = io.Copy(io.Discard, c.br)
			return true
		}
		if err != nil {
			return false
		}
	}
}
