package admin_test

import (
	"context"
	"encoding/binary"
	"io"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/wssgate/wssgate/admin"
	adminv1 "github.com/wssgate/wssgate/gen/wssgate/admin/v1"
)

// tokenEnv is a server that accepts one admin token, "admin-secret".
func tokenEnv(t *testing.T) *env {
	return startEnv(t, admin.Config{Tokens: []admin.Token{{Name: "ops", SHA256: hashOf("admin-secret"), Access: admin.AccessAdmin}}})
}

// partialCall starts a raw HTTP/2 gRPC call of Publish whose message announces size bytes
// but sends only the first sent of them, then keeps the request open. It returns the
// response headers, or nil when none came within wait: a server that authenticates
// before reading answers at once; one that reads the message first waits for the rest.
func partialCall(t *testing.T, addr, authorization string, size, sent int, wait time.Duration) *http.Response {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	pr, pw := io.Pipe()
	t.Cleanup(func() { pw.Close() })
	go func() {
		var prefix [5]byte
		binary.BigEndian.PutUint32(prefix[1:], uint32(size))
		if _, err := pw.Write(prefix[:]); err != nil {
			return
		}
		chunk := make([]byte, 32<<10)
		for n := 0; n < sent; n += len(chunk) {
			if _, err := pw.Write(chunk[:min(len(chunk), sent-n)]); err != nil {
				return
			}
		}
		<-ctx.Done() // the rest never comes
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+adminv1.AdminService_Publish_FullMethodName, pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("TE", "trailers")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true) // prior knowledge, as gRPC speaks it
	t.Cleanup(tr.CloseIdleConnections)
	got := make(chan *http.Response, 1)
	go func() {
		resp, err := tr.RoundTrip(req)
		if err != nil {
			got <- nil
			return
		}
		resp.Body.Close()
		got <- resp
	}()
	select {
	case r := <-got:
		if r == nil {
			t.Fatalf("round trip failed")
		}
		return r
	case <-time.After(wait):
		return nil
	}
}

// TestAuthenticatedBeforeRead: an unauthenticated call is refused while its message is
// still arriving, so the server never waits for (nor buffers) its body. The control: an
// authenticated call with the same partial message gets no answer, because the server
// does wait for the rest of the message before calling the handler.
func TestAuthenticatedBeforeRead(t *testing.T) {
	e := tokenEnv(t)
	const size, sent = 4_000_000, 1 << 20
	r := partialCall(t, e.addr, "", size, sent, 5*time.Second)
	if r == nil {
		t.Fatal("unauthenticated partial call: no answer within 5s; want UNAUTHENTICATED before the message is read")
	}
	if got := r.Header.Get("Grpc-Status"); got != "16" {
		t.Fatalf("unauthenticated partial call: grpc-status %q (%s), want 16 (UNAUTHENTICATED)", got, r.Header.Get("Grpc-Message"))
	}
	if r := partialCall(t, e.addr, "Bearer admin-secret", size, sent, 300*time.Millisecond); r != nil {
		t.Fatalf("authenticated partial call: answered %q before its message was complete; the control is broken", r.Header.Get("Grpc-Status"))
	}
}

// rawCodec sends a []byte as the message as is, so that many calls can share one
// payload without the client copying it.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return *v.(*[]byte), nil }
func (rawCodec) Unmarshal(data []byte, v any) error {
	*v.(*[]byte) = append((*v.(*[]byte))[:0], data...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

// TestUnauthenticatedFloodMemory: 64 concurrent unauthenticated Publish calls of
// 4,000,000 bytes each are refused, and the process allocates less than 20 MiB meanwhile
// (reading them before authenticating allocates 64 × 4 MB = 256 MB).
func TestUnauthenticatedFloodMemory(t *testing.T) {
	e := tokenEnv(t)
	cc, err := grpc.NewClient(e.addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(rawCodec{})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	payload := make([]byte, 4_000_000)
	ctx := testCtx(t)
	// Warm the connection so that its setup does not count.
	var reply []byte
	_ = cc.Invoke(ctx, adminv1.AdminService_ListSessions_FullMethodName, &[]byte{}, &reply)

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var wg sync.WaitGroup
	got := make([]codes.Code, 64)
	for i := range got {
		wg.Go(func() {
			var reply []byte
			err := cc.Invoke(ctx, adminv1.AdminService_Publish_FullMethodName, &payload, &reply)
			got[i] = status.Code(err)
		})
	}
	wg.Wait()
	runtime.ReadMemStats(&after)
	grown := after.TotalAlloc - before.TotalAlloc
	t.Logf("allocated %.1f MiB during 64 unauthenticated 4 MB calls", float64(grown)/(1<<20))
	if grown >= 20<<20 {
		t.Fatalf("allocated %d bytes during the flood, want < 20 MiB: messages are read before authentication", grown)
	}
	for i, c := range got {
		if c != codes.Unauthenticated {
			t.Fatalf("call %d: got %v, want Unauthenticated", i, c)
		}
	}
}

// TestBearerCaseInsensitive: the authorization scheme matches in any case.
func TestBearerCaseInsensitive(t *testing.T) {
	e := tokenEnv(t)
	c := e.client(t)
	for _, scheme := range []string{"Bearer", "bearer", "BEARER", "bEaReR"} {
		t.Run(scheme, func(t *testing.T) {
			ctx := metadata.AppendToOutgoingContext(testCtx(t), "authorization", scheme+" admin-secret")
			wantCode(t, closeCall("nope")(ctx, c), codes.NotFound) // authenticated, authorized, then not found
		})
	}
	t.Run("other scheme", func(t *testing.T) {
		ctx := metadata.AppendToOutgoingContext(testCtx(t), "authorization", "Basic admin-secret")
		wantCode(t, listCall(ctx, c), codes.Unauthenticated)
	})
}
