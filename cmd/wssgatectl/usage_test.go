package main

import (
	"reflect"
	"strings"
	"testing"
)

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		wantInErr string
	}{
		{"no command", nil, "missing command"},
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"unknown subcommand", []string{"sessions", "frob"}, `unknown command "sessions frob"`},
		{"group only", []string{"certs"}, `unknown command "certs"`},
		{"unknown global flag", []string{"--bogus", "stats"}, "flag provided but not defined: -bogus"},
		{"unknown command flag", []string{"sessions", "list", "--bogus"}, "sessions list: flag provided but not defined: -bogus"},
		{"missing id", []string{"sessions", "show"}, "sessions show: missing argument ID"},
		{"extra argument", []string{"stats", "extra"}, `stats: unexpected argument "extra"`},
		{"bad role", []string{"sessions", "list", "--role", "robot"}, `--role "robot": want app or device`},
		{"no payload", []string{"publish", "a/b"}, "give exactly one of --text and --file"},
		{"two payloads", []string{"send", "s1", "--text", "x", "--file", "f"}, "give exactly one of --text and --file"},
		{"binary text", []string{"send", "s1", "--text", "x", "--binary"}, "--binary needs --file"},
		{"reconnect without generation", []string{"sessions", "reconnect"}, "missing --below-generation"},
		{"negative rate", []string{"sessions", "reconnect", "--below-generation", "0", "--rate", "-1"}, "--rate -1"},
		{"bad code", []string{"sessions", "close", "s1", "--code", "70000"}, "--code 70000"},
		{"bad timeout", []string{"--timeout", "soon", "stats"}, "invalid value"},
		{"cert without key", []string{"certs", "reload", "--cert", "c.pem"}, "--cert and --key must be given together"},
		{"mtls without cacert", []string{"--cert", "c.pem", "--key", "k.pem", "stats"}, "need --cacert"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCtl(t, append([]string{"--addr", "127.0.0.1:1"}, tt.args...)...).want(t, 2)
			if !strings.HasPrefix(r.stderr, "wssgatectl: ") || !strings.Contains(r.stderr, tt.wantInErr) {
				t.Errorf("stderr: got %q, want it to contain %q", r.stderr, tt.wantInErr)
			}
			if !strings.Contains(r.stderr, "usage: wssgatectl") {
				t.Errorf("stderr lacks the usage:\n%s", r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout: got %q, want nothing", r.stdout)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {"help", "sessions", "close"}, {"sessions", "close", "--help"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := runCtl(t, args...).want(t, 0)
			if !strings.HasPrefix(r.stdout, "usage: wssgatectl") {
				t.Errorf("stdout: got %q, want the usage", r.stdout)
			}
		})
	}
	r := runCtl(t, "help", "sessions").want(t, 0)
	if !strings.Contains(r.stdout, "sessions reconnect") || strings.Contains(r.stdout, "certs show") {
		t.Errorf("help sessions: got %q, want only the sessions commands", r.stdout)
	}
	r = runCtl(t, "--help")
	if !strings.Contains(r.stdout, "PLAINTEXT") {
		t.Errorf("--help does not say that the connection is plaintext without --cacert:\n%s", r.stdout)
	}
}

func TestParseInterspersed(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantPos []string
		wantN   string
	}{
		{"flags first", []string{"--n", "1", "a", "b"}, []string{"a", "b"}, "1"},
		{"flags last", []string{"a", "--n", "2"}, []string{"a"}, "2"},
		{"mixed", []string{"a", "--n=3", "b"}, []string{"a", "b"}, "3"},
		{"double dash", []string{"--n", "4", "--", "--n", "x"}, []string{"--n", "x"}, "4"},
		{"none", nil, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &cli{cmd: &command{name: "t"}}
			fs := c.newFlags()
			n := fs.String("n", "", "")
			pos, err := parseInterspersed(fs, tt.args)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(pos, tt.wantPos) || *n != tt.wantN {
				t.Errorf("got %q n=%q, want %q n=%q", pos, *n, tt.wantPos, tt.wantN)
			}
		})
	}
}

func TestDialTarget(t *testing.T) {
	tests := []struct {
		addr, want string
		unix       bool
	}{
		{"127.0.0.1:9090", "passthrough:///127.0.0.1:9090", false},
		{"localhost:9090", "passthrough:///localhost:9090", false},
		{"unix:///run/wssgate.sock", "unix:///run/wssgate.sock", true},
		{"unix:/run/wssgate.sock", "unix:/run/wssgate.sock", true},
		{"/run/wssgate.sock", "unix:///run/wssgate.sock", true},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			got, unix := dialTarget(tt.addr)
			if got != tt.want || unix != tt.unix {
				t.Errorf("got %q unix=%v, want %q unix=%v", got, unix, tt.want, tt.unix)
			}
		})
	}
}

func TestUnreachable(t *testing.T) {
	r := runCtl(t, "--addr", "127.0.0.1:1", "--timeout", "2s", "stats").want(t, 1)
	if !strings.HasSuffix(r.stderr, "(Unavailable)\n") {
		t.Errorf("stderr: got %q, want an Unavailable message", r.stderr)
	}
}
