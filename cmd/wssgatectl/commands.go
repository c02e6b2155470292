package main

import (
	"context"
	"fmt"
	"io"
	"strings"
)

// command is one wssgatectl command.
type command struct {
	name     string // "sessions list"
	synopsis string // the arguments after the name, for usage
	summary  string // one line
	run      func(c *cli, ctx context.Context, args []string) error
}

// commands lists every command in usage order. It is a function, not a variable, because
// the commands refer back to it for their usage texts.
func commands() []command {
	return []command{
		{"certs show", "", "describe the served certificates", (*cli).runCertsShow},
		{"certs reload", "[--dry-run] [--force] [--all-nodes] [--cert F --key F] [--client-ca F]", "re-read (or replace) and validate the certificates, then swap them", (*cli).runCertsReload},
		{"certs names", "[--within DURATION]", "list the names (SNI or dialled IP) clients used recently, and whether the certificates cover them", (*cli).runCertsNames},
		{"sessions list", "[--listener L] [--role app|device] [--identity I] [--remote PREFIX]", "list the open sessions", (*cli).runSessionsList},
		{"sessions show", "ID", "describe one session", (*cli).runSessionsShow},
		{"sessions close", "ID|--identity I [--code N] [--reason R]", "close one session, or every session of an identity, with a WebSocket close code", (*cli).runSessionsClose},
		{"sessions reconnect", "--below-generation N [--listener L] [--rate R]", "close (1012) sessions from older certificate generations so they reconnect", (*cli).runSessionsReconnect},
		{"send", "ID (--text S | --file F [--binary])", "send one frame to one session", (*cli).runSend},
		{"publish", "CHANNEL (--text S | --file F [--binary])", "publish one message on a channel", (*cli).runPublish},
		{"subscribe", "PATTERN [--count N]", "print the messages published on matching channels as they arrive", (*cli).runSubscribe},
		{"watch", "[--listener L] [--role app|device] [--count N]", "print session connect and disconnect events as they happen", (*cli).runWatch},
		{"stats", "", "print per-listener counters and process figures", (*cli).runStats},
		{"failures", "[--listener L] [--since DURATION] [--limit N]", "list recent failed handshakes, newest first", (*cli).runFailures},
		{"devices", "[--prefix P]", "list the connected devices of every node (identity, node, session, since)", (*cli).runDevices},
	}
}

// lookup finds the command named by the first words of args and returns it with the
// number of words its name took. It returns nil and the number of words it matched
// partially (0 or 1) when no command matches.
func lookup(args []string) (*command, int) {
	partial := 0
	for _, cmd := range commands() {
		words := strings.Fields(cmd.name)
		if len(args) >= len(words) && equal(args[:len(words)], words) {
			return &cmd, len(words)
		}
		if len(words) > 1 && len(args) > 0 && args[0] == words[0] {
			partial = 1
		}
	}
	return nil, partial
}

func equal(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}

// usage prints the top-level usage; a non-empty group lists only the commands under it.
func (c *cli) usage(w io.Writer, group string) {
	fmt.Fprint(w, "usage: wssgatectl [global flags] <command> [flags]\n\ncommands:\n")
	for _, cmd := range commands() {
		if group == "" || strings.HasPrefix(cmd.name, group+" ") {
			fmt.Fprintf(w, "  %s\n        %s\n", strings.TrimSpace(cmd.name+" "+cmd.synopsis), cmd.summary)
		}
	}
	fmt.Fprint(w, "\nglobal flags (also accepted after the command):\n")
	fmt.Fprint(w, globalFlagsHelp)
	fmt.Fprint(w, "\nRun 'wssgatectl help <command>' for a command's flags.\n")
}
