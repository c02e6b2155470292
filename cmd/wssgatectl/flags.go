package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Defaults and environment variables of the global flags.
const (
	defaultAddr    = "127.0.0.1:9090"
	defaultTimeout = 10 * time.Second
	envAddr        = "WSSGATE_ADDR"
	envToken       = "WSSGATE_TOKEN"
)

// globals are the connection and output options shared by every command.
type globals struct {
	addr       string        // "" → $WSSGATE_ADDR → defaultAddr
	token      string        // "" → $WSSGATE_TOKEN
	cacert     string        // "" → plaintext
	cert, key  string        // client certificate for mTLS
	timeout    time.Duration // per unary call; 0 → none
	timeoutSet bool          // --timeout was given
	json       bool
}

// globalFlagsHelp documents the global flags (printed by usage).
const globalFlagsHelp = `  --addr ADDR      admin API address: host:port, unix:///path or unix:/path
                   (default 127.0.0.1:9090, or $WSSGATE_ADDR)
  --token TOKEN    bearer token sent as "authorization: Bearer TOKEN" (default $WSSGATE_TOKEN)
  --cacert FILE    CA bundle (PEM) to verify the admin server: enables TLS on TCP.
                   Without --cacert the connection is PLAINTEXT (fine on loopback and
                   Unix sockets, which are always plaintext).
  --cert FILE      client certificate (PEM) for mTLS; needs --key and --cacert
  --key FILE       client private key (PEM) for mTLS
  --timeout D      deadline of each unary call (default 10s; 0 for none; streams have none)
  --json           print protojson (proto field names); streams print one object per line
`

// errHelp is returned when -h or --help was asked for and the usage was printed.
var errHelp = errors.New("help requested")

// usageError is a command-line mistake: exit status 2 after printing msg and the usage of
// the command (or of a group, or the top-level usage).
type usageError struct {
	msg   string
	cmd   *command // nil: top-level usage
	flags string   // the command's flag defaults, when cmd is set
	group string   // "certs", "sessions": list that group's commands
}

func (e *usageError) Error() string { return "usage: " + e.msg }

// printUsageError prints e and the matching usage on stderr.
func (c *cli) printUsageError(e *usageError) {
	fmt.Fprintf(c.stderr, "wssgatectl: %s\n", e.msg)
	if e.cmd == nil {
		g := e.group
		if _, n := lookup([]string{g}); n == 0 {
			g = ""
		}
		c.usage(c.stderr, g)
		return
	}
	printCommandUsage(c.stderr, e.cmd, e.flags)
}

func printCommandUsage(w io.Writer, cmd *command, flags string) {
	fmt.Fprintf(w, "usage: wssgatectl %s %s\n  %s\n", cmd.name, cmd.synopsis, cmd.summary)
	if flags != "" {
		fmt.Fprintf(w, "\nflags:\n%s", flags)
	}
	fmt.Fprint(w, "\nglobal flags: --addr, --token, --cacert, --cert, --key, --timeout, --json (see wssgatectl --help)\n")
}

// registerGlobals adds the global flags to fs, bound to c.g, except those fs already
// defines (certs reload has its own --cert and --key). The defaults are the current values,
// so registering on a second FlagSet keeps what the first one parsed.
func (c *cli) registerGlobals(fs *flag.FlagSet) {
	g := &c.g
	str := func(p *string, name string) {
		if fs.Lookup(name) == nil {
			fs.StringVar(p, name, *p, "")
		}
	}
	str(&g.addr, "addr")
	str(&g.token, "token")
	str(&g.cacert, "cacert")
	str(&g.cert, "cert")
	str(&g.key, "key")
	fs.Func("timeout", "", func(s string) error {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			return fmt.Errorf("want a duration such as 10s, or 0 for none")
		}
		g.timeout, g.timeoutSet = d, true
		return nil
	})
	fs.BoolVar(&g.json, "json", g.json, "")
}

// parseGlobals parses the global flags before the command and returns the rest.
func (c *cli) parseGlobals(args []string) ([]string, error) {
	c.g.timeout = defaultTimeout
	fs := flag.NewFlagSet("wssgatectl", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.registerGlobals(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.usage(c.stdout, "")
			return nil, errHelp
		}
		return nil, &usageError{msg: err.Error()}
	}
	return fs.Args(), nil
}

// newFlags returns an empty FlagSet for the running command.
func (c *cli) newFlags() *flag.FlagSet {
	fs := flag.NewFlagSet(c.cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parse parses a command's args, with flags and positional arguments in any order (the
// global flags are accepted too), and checks the number of positional arguments.
func (c *cli) parse(fs *flag.FlagSet, args []string, npos int) ([]string, error) {
	var defaults bytes.Buffer
	fs.SetOutput(&defaults)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	c.flagHelp = defaults.String()
	c.registerGlobals(fs)
	pos, err := parseInterspersed(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		printCommandUsage(c.stdout, c.cmd, c.flagHelp)
		return nil, errHelp
	case err != nil:
		return nil, c.usageErrorf("%v", err)
	case len(pos) < npos:
		return nil, c.usageErrorf("missing %s", c.missing(len(pos)))
	case len(pos) > npos:
		return nil, c.usageErrorf("unexpected argument %q", pos[npos])
	}
	return pos, nil
}

// usageErrorf reports a usage mistake in the running command (exit status 2).
func (c *cli) usageErrorf(format string, args ...any) error {
	return &usageError{msg: c.cmd.name + ": " + fmt.Sprintf(format, args...), cmd: c.cmd, flags: c.flagHelp}
}

// missing names the positional argument number i of the running command.
func (c *cli) missing(i int) string {
	words := strings.Fields(c.cmd.synopsis)
	if i < len(words) {
		return "argument " + words[i]
	}
	return "argument"
}

// parseInterspersed parses flags that may follow positional arguments and returns the
// positional arguments. Everything after "--" is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for { // each round consumes at least one argument
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// resolve fills the defaults that come from the environment.
func (g *globals) resolve() {
	if g.addr == "" {
		g.addr = os.Getenv(envAddr)
	}
	if g.addr == "" {
		g.addr = defaultAddr
	}
	if g.token == "" {
		g.token = os.Getenv(envToken)
	}
}
