// Command wssgatectl is the operators' CLI over the wssgate gRPC admin API
// (wssgate.admin.v1.AdminService).
//
//	wssgatectl [global flags] <command> [flags]
//
// Every read command accepts --json (protojson with proto field names; streams print one
// JSON object per line). Exit status: 0 ok, 1 error (the gRPC status message and code on
// stderr), 2 usage. SIGINT or SIGTERM ends a stream cleanly with status 0.
//
// Concurrency: one invocation runs one command on the calling goroutine; run may be called
// concurrently (tests do) because it keeps no package-level state.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// cli is one invocation: its output streams, global options and lazily dialed connection.
type cli struct {
	stdout, stderr io.Writer
	stdin          io.Reader
	g              globals
	cmd            *command         // the command being run
	flagHelp       string           // its flags' defaults, for usage messages
	conn           *grpc.ClientConn // nil until the first call
}

// run runs the command line args and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := &cli{stdout: stdout, stderr: stderr, stdin: os.Stdin}
	defer c.close()
	return c.exitCode(c.dispatch(ctx, args))
}

// dispatch parses the global flags, finds the command and runs it.
func (c *cli) dispatch(ctx context.Context, args []string) error {
	rest, err := c.parseGlobals(args)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return &usageError{msg: "missing command"}
	}
	if rest[0] == "help" {
		return c.help(rest[1:])
	}
	cmd, n := lookup(rest)
	if cmd == nil {
		return &usageError{msg: fmt.Sprintf("unknown command %q", strings.Join(rest[:min(n+1, len(rest))], " ")), group: rest[0]}
	}
	c.cmd = cmd
	return cmd.run(c, ctx, rest[n:])
}

// help prints the top-level usage, or a command's usage, on stdout.
func (c *cli) help(args []string) error {
	if len(args) == 0 {
		c.usage(c.stdout, "")
		return nil
	}
	cmd, n := lookup(args)
	if cmd == nil && n == 1 && len(args) == 1 { // a group: "help sessions"
		c.usage(c.stdout, args[0])
		return nil
	}
	if cmd == nil {
		return &usageError{msg: fmt.Sprintf("unknown command %q", strings.Join(args, " ")), group: args[0]}
	}
	c.cmd = cmd
	return cmd.run(c, context.Background(), []string{"--help"})
}

// exitCode reports err on stderr and returns the exit status for it.
func (c *cli) exitCode(err error) int {
	var ue *usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errHelp):
		return 0
	case errors.As(err, &ue):
		c.printUsageError(ue)
		return 2
	}
	if st, ok := status.FromError(err); ok {
		fmt.Fprintf(c.stderr, "wssgatectl: %s (%s)\n", st.Message(), st.Code())
		return 1
	}
	fmt.Fprintf(c.stderr, "wssgatectl: %v\n", err)
	return 1
}

// close closes the connection, if one was dialed.
func (c *cli) close() {
	if c.conn != nil {
		c.conn.Close()
	}
}
