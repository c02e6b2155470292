// Package sioclient is a minimal Socket.IO v5 client over the Engine.IO v4
// WebSocket transport (gobwas/ws), for tests and cmd/wssgate-bench: dial
// (GET /socket.io/?EIO=4&transport=websocket), CONNECT "/", emit with an
// ack id, read events, answer pings. Text events only; binary attachments
// are returned as the raw frames that follow.
//
// Concurrency: one goroutine reads (Next); Emit and the pong writes share
// a mutex, so Emit may be called from another goroutine.
package sioclient

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// Client is one connected Socket.IO client.
type Client struct {
	conn  net.Conn
	r     *wsutil.Reader
	wmu   sync.Mutex // serialises writes
	ackID int
}

// Dial connects to base (https://host:port) at path (/socket.io/) and
// CONNECTs to "/" with auth (nil for none).
func Dial(ctx context.Context, base, path string, tc *tls.Config, auth any) (*Client, error) {
	url := "wss" + base[len("https"):] + path + "?EIO=4&transport=websocket"
	conn, br, _, err := ws.Dialer{TLSConfig: tc}.Dial(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", url, err)
	}
	var src io.Reader = conn
	if br != nil { // the server spoke before the handshake was read out
		src = br // it reads conn once its buffer is drained
	}
	c := &Client{conn: conn, r: &wsutil.Reader{Source: src, State: ws.StateClientSide, CheckUTF8: true}}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
		defer conn.SetDeadline(time.Time{})
	}
	if p, err := c.nextText(); err != nil || len(p) == 0 || p[0] != '0' {
		conn.Close()
		return nil, fmt.Errorf("open packet: %q %v", p, err)
	}
	connect := []byte("40")
	if auth != nil {
		j, _ := json.Marshal(auth)
		connect = append(connect, j...)
	}
	if err := c.write(connect); err != nil {
		conn.Close()
		return nil, err
	}
	p, err := c.nextText()
	if err != nil || len(p) < 2 || string(p[:2]) != "40" {
		conn.Close()
		return nil, fmt.Errorf("connect: got %q %v", p, err)
	}
	return c, nil
}

// Conn is the underlying connection (for deadlines and Close).
func (c *Client) Conn() net.Conn { return c.conn }

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

func (c *Client) write(p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return wsutil.WriteClientText(c.conn, p)
}

// Emit sends event name with args and returns its ack id (ack true) or 0.
func (c *Client) Emit(ack bool, name string, args ...any) (int, error) {
	all := append([]any{name}, args...)
	j, err := json.Marshal(all)
	if err != nil {
		return 0, err
	}
	p := []byte("42")
	id := 0
	if ack {
		c.wmu.Lock()
		c.ackID++
		id = c.ackID
		c.wmu.Unlock()
		p = strconv.AppendInt(p, int64(id), 10)
	}
	return id, c.write(append(p, j...))
}

// Packet is one Socket.IO packet read: Text is it without the Engine.IO
// type ("2[...]", "3N[...]", "51-[...]"); Binary the attachments that
// followed a binary packet.
type Packet struct {
	Text   []byte
	Binary [][]byte
}

// Next reads the next Socket.IO packet, answering Engine.IO pings on the
// way. A close frame or a transport error is returned as an error (a
// ws.ClosedError carries the code).
func (c *Client) Next() (Packet, error) {
	for {
		p, err := c.nextText()
		if err != nil {
			return Packet{}, err
		}
		if len(p) < 2 || p[0] != '4' {
			continue
		}
		pk := Packet{Text: p[1:]}
		if pk.Text[0] == '5' || pk.Text[0] == '6' {
			n, _ := strconv.Atoi(string(pk.Text[1:indexByte(pk.Text, '-')]))
			for range n {
				b, op, err := c.frame()
				if err != nil {
					return Packet{}, err
				}
				if op == ws.OpBinary {
					pk.Binary = append(pk.Binary, b)
				}
			}
		}
		return pk, nil
	}
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return 1
}

// nextText reads text messages until one that is not a ping (pings are
// answered).
func (c *Client) nextText() ([]byte, error) {
	for {
		p, op, err := c.frame()
		if err != nil {
			return nil, err
		}
		if op != ws.OpText {
			continue
		}
		if len(p) == 1 && p[0] == '2' {
			if err := c.write([]byte("3")); err != nil {
				return nil, err
			}
			continue
		}
		return p, nil
	}
}

// frame reads one data message; control frames are handled.
func (c *Client) frame() ([]byte, ws.OpCode, error) {
	for {
		hdr, err := c.r.NextFrame()
		if err != nil {
			return nil, 0, err
		}
		if hdr.OpCode.IsControl() {
			p := make([]byte, hdr.Length)
			if _, err := io.ReadFull(c.r, p); err != nil {
				return nil, 0, err
			}
			switch hdr.OpCode {
			case ws.OpClose:
				code, reason := ws.ParseCloseFrameData(p)
				return nil, ws.OpClose, wsutil.ClosedError{Code: code, Reason: reason}
			case ws.OpPing:
				c.wmu.Lock()
				_ = wsutil.WriteClientMessage(c.conn, ws.OpPong, p)
				c.wmu.Unlock()
			}
			continue
		}
		b, err := io.ReadAll(c.r)
		if err != nil {
			return nil, 0, err
		}
		return b, hdr.OpCode, nil
	}
}
