package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/wssgate/wssgate/admin"
)

func TestPublish(t *testing.T) {
	e := startEnv(t, admin.Config{})
	dir := t.TempDir()
	text := writeFile(t, dir, "msg.json", []byte(`{"led":"on"}`))
	bin := writeFile(t, dir, "msg.bin", []byte{0, 1, 2, 0xff})
	tests := []struct {
		name       string
		args       []string
		wantBinary bool
		wantData   []byte
	}{
		{"text", []string{"publish", "devices/42/down", "--text", "hello"}, false, []byte("hello")},
		{"empty text", []string{"publish", "devices/42/down", "--text", ""}, false, []byte{}},
		{"file as text", []string{"publish", "--file", text, "devices/42/down"}, false, []byte(`{"led":"on"}`)},
		{"file binary", []string{"publish", "devices/42/down", "--file", bin, "--binary"}, true, []byte{0, 1, 2, 0xff}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(e.hub.Published())
			r := runCtl(t, append([]string{"--addr", e.addr}, tt.args...)...).want(t, 0)
			if want := "published to devices/42/down: reached 0 sessions\n"; r.stdout != want {
				t.Errorf("stdout: got %q, want %q", r.stdout, want)
			}
			msgs := e.hub.Published()
			if len(msgs) != before+1 {
				t.Fatalf("got %d messages published, want %d", len(msgs), before+1)
			}
			m := msgs[len(msgs)-1]
			if m.Channel != "devices/42/down" || m.Binary != tt.wantBinary || !bytes.Equal(m.Data, tt.wantData) {
				t.Errorf("got %s binary=%v %q, want devices/42/down binary=%v %q", m.Channel, m.Binary, m.Data, tt.wantBinary, tt.wantData)
			}
		})
	}
	t.Run("not utf-8 without --binary", func(t *testing.T) {
		r := runCtl(t, "--addr", e.addr, "publish", "devices/42/down", "--file", bin).want(t, 1)
		if !strings.Contains(r.stderr, "--binary") {
			t.Errorf("stderr: got %q, want a hint at --binary", r.stderr)
		}
	})
	t.Run("wildcard channel", func(t *testing.T) {
		r := runCtl(t, "--addr", e.addr, "publish", "devices/+/down", "--text", "x").want(t, 1)
		if !strings.HasSuffix(r.stderr, "(InvalidArgument)\n") {
			t.Errorf("stderr: got %q, want an InvalidArgument message", r.stderr)
		}
	})
	t.Run("json reached", func(t *testing.T) {
		stop, err := e.hub.Subscribe(context.Background(), "devices/#", func(admin.Message) {})
		if err != nil {
			t.Fatal(err)
		}
		defer stop()
		r := runCtl(t, "--addr", e.addr, "--json", "publish", "devices/1/down", "--text", "x").want(t, 0)
		var got map[string]string
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || got["reached"] != "1" {
			t.Errorf("stdout: got %q (%v), want reached 1", r.stdout, err)
		}
		r = runCtl(t, "--addr", e.addr, "publish", "devices/1/down", "--text", "x").want(t, 0)
		if want := "published to devices/1/down: reached 1 session\n"; r.stdout != want {
			t.Errorf("stdout: got %q, want %q", r.stdout, want)
		}
	})
}

func TestSend(t *testing.T) {
	e := startEnv(t, admin.Config{})
	seed(e)
	bin := writeFile(t, t.TempDir(), "frame.bin", []byte{9, 8, 7})
	r := runCtl(t, "--addr", e.addr, "send", "s-dev", "--text", "reboot").want(t, 0)
	if want := "sent 6 bytes to session s-dev\n"; r.stdout != want {
		t.Errorf("stdout: got %q, want %q", r.stdout, want)
	}
	runCtl(t, "--addr", e.addr, "send", "s-dev", "--file", bin, "--binary").want(t, 0)
	got := e.sessions.Outbox("s-dev")
	want := []admin.Frame{{Data: []byte("reboot")}, {Binary: true, Data: []byte{9, 8, 7}}}
	if len(got) != len(want) {
		t.Fatalf("got %d frames, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Binary != want[i].Binary || !bytes.Equal(got[i].Data, want[i].Data) {
			t.Errorf("frame %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestSendStdin reads the payload from stdin with --file -.
func TestSendStdin(t *testing.T) {
	e := startEnv(t, admin.Config{})
	seed(e)
	var out, errb bytes.Buffer
	c := &cli{stdout: &out, stderr: &errb, stdin: strings.NewReader("from stdin")}
	defer c.close()
	if code := c.exitCode(c.dispatch(context.Background(), []string{"--addr", e.addr, "send", "s-app", "--file", "-"})); code != 0 {
		t.Fatalf("exit code: got %d, want 0; stderr %q", code, errb.String())
	}
	if got := e.sessions.Outbox("s-app"); len(got) != 1 || string(got[0].Data) != "from stdin" {
		t.Errorf("got frames %+v, want one \"from stdin\"", got)
	}
}
