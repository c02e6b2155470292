package gateway

import (
	"bytes"
	"testing"
	"time"

	"github.com/wssgate/wssgate/gateway/hub"
)

func TestClusterMessageEncoding(t *testing.T) {
	for name, m := range map[string]hub.Message{
		"text":   {Channel: "devices/42/down", Data: []byte(`{"led":"on"}`), Origin: "gw-1"},
		"binary": {Channel: "a//b", Binary: true, Data: []byte{0, 1, 2}, Origin: ""},
		"empty":  {Channel: "x", Origin: "node-with-a-long-name"},
	} {
		t.Run(name, func(t *testing.T) {
			b := encodeMessage(m)
			got, err := decodeMessage(b)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if got.Channel != m.Channel || got.Binary != m.Binary || got.Origin != m.Origin || !bytes.Equal(got.Data, m.Data) {
				t.Fatalf("got %+v, want %+v", got, m)
			}
			for i := range min(len(b), 2+len(m.Origin)+2+len(m.Channel)) {
				if _, err := decodeMessage(b[:i]); err == nil {
					t.Fatalf("decode of %d of %d bytes: no error", i, len(b))
				}
			}
		})
	}
}

func TestClaimsKeepTheNewest(t *testing.T) {
	var c claims
	c.init()
	now := time.Now()
	c.record("d", claim{node: "gw-1", at: now, seen: now})
	c.record("d", claim{node: "gw-2", at: now.Add(-time.Second), seen: now}) // older: ignored
	if x, _ := c.get("d", now); x.node != "gw-1" {
		t.Fatalf("claim of d: %s, want gw-1 (the later connect)", x.node)
	}
	c.record("d", claim{node: "gw-3", at: now, seen: now}) // same time: the higher name wins
	if x, _ := c.get("d", now); x.node != "gw-3" {
		t.Fatalf("claim of d after a tie: %s, want gw-3", x.node)
	}
	if _, ok := c.get("d", now.Add(claimTTL+time.Second)); ok {
		t.Fatalf("claim older than %s still returned", claimTTL)
	}
}
