package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// echo registers "who" (answers node:req) and "fail" (always errs) on b.
func echo(b *Broker) {
	b.Handle("who", func(ctx context.Context, req []byte) ([]byte, error) {
		return []byte(b.Node() + ":" + string(req)), nil
	})
	b.Handle("fail", func(ctx context.Context, req []byte) ([]byte, error) {
		return nil, errors.New("no luck")
	})
	b.Handle("big", func(ctx context.Context, req []byte) ([]byte, error) {
		return make([]byte, 2<<20), nil
	})
}

func TestCall(t *testing.T) {
	urls := startNATS3(t)
	b1 := newBroker(t, testOptions("gw-1", urls))
	b2 := newBroker(t, testOptions("gw-2", urls))
	echo(b1)
	echo(b2)
	eventually(t, "members up", func() bool { return upCount(b1) == 2 })

	for _, tt := range []struct {
		name, node, method, want string
		wantErr                  error
	}{
		{"remote", "gw-2", "who", "gw-2:x", nil},
		{"self", "gw-1", "who", "gw-1:x", nil},
		{"remote unknown method", "gw-2", "nope", "", ErrUnknownMethod},
		{"self unknown method", "gw-1", "nope", "", ErrUnknownMethod},
		{"unknown node", "gw-9", "who", "", ErrNoNode},
		{"remote reply too large", "gw-2", "big", "", ErrTooLarge},
		{"self reply too large", "gw-1", "big", "", ErrTooLarge},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := b1.Call(t.Context(), tt.node, tt.method, []byte("x"))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Call = %q, %v; want %v", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Fatalf("Call = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	_, err := b1.Call(t.Context(), "gw-2", "fail", nil)
	var re *RemoteError
	if !errors.As(err, &re) || re.Node != "gw-2" || re.Msg != "no luck" {
		t.Fatalf("Call(fail) = %v, want a RemoteError from gw-2 saying no luck", err)
	}
}

func TestCallAll(t *testing.T) {
	urls := startNATS3(t)
	bs := []*Broker{
		newBroker(t, testOptions("gw-1", urls)),
		newBroker(t, testOptions("gw-2", urls)),
		newBroker(t, testOptions("gw-3", urls)),
	}
	for _, b := range bs {
		echo(b)
	}
	eventually(t, "members up", func() bool { return upCount(bs[0]) == 3 })

	replies, errs, missing := bs[0].CallAll(t.Context(), "who", []byte("q"))
	if len(errs) != 0 || len(missing) != 0 || len(replies) != 3 {
		t.Fatalf("CallAll = %q, %v, missing %v; want 3 replies", replies, errs, missing)
	}
	for _, n := range []string{"gw-1", "gw-2", "gw-3"} {
		if string(replies[n]) != n+":q" {
			t.Errorf("reply of %s = %q", n, replies[n])
		}
	}
	_, errs, missing = bs[0].CallAll(t.Context(), "fail", nil)
	if len(errs) != 3 || len(missing) != 0 || !strings.Contains(fmt.Sprint(errs["gw-3"]), "no luck") {
		t.Fatalf("CallAll(fail) errs = %v, missing %v; want 3 errors", errs, missing)
	}

	// gw-3 stops answering (its link drops) while still believed up: CallAll waits for it until
	// ctx ends and reports it missing.
	bs[2].nc.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	replies, errs, missing = bs[0].CallAll(ctx, "who", nil)
	took := time.Since(start)
	if len(replies) != 2 || len(errs) != 0 || fmt.Sprint(missing) != "[gw-3]" {
		t.Fatalf("CallAll with gw-3 gone = %q, %v, missing %v; want gw-1 and gw-2, missing [gw-3]", replies, errs, missing)
	}
	if took > 2*time.Second {
		t.Errorf("CallAll took %s with a 500ms deadline", took)
	}
	// Once gw-3 is known down, CallAll does not wait for it but still reports it.
	eventually(t, "gw-3 down", func() bool { m, _ := member(bs[0], "gw-3"); return !m.Up })
	start = time.Now()
	_, _, missing = bs[0].CallAll(t.Context(), "who", nil)
	if fmt.Sprint(missing) != "[gw-3]" {
		t.Errorf("missing = %v, want [gw-3]", missing)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("CallAll waited %s for a node known to be down", took)
	}
}
