// Command wssgate is the WebSocket-over-TLS gateway daemon.
//
//	wssgate serve [--config FILE] [--log-format text|json] [--log-level LEVEL]
//	wssgate check [--config FILE]
//	wssgate devcert [--dir DIR]
//	wssgate version
//
// Without --config, serve runs in development mode: a local CA and a
// certificate for localhost are generated once into the state directory,
// and both listeners bind to loopback.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// errUsage marks a command-line mistake (exit status 2).
var errUsage = errors.New("usage")

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = runServe(ctx, args[1:], stderr)
	case "check":
		err = runCheck(args[1:], stdout)
	case "devcert":
		err = runDevcert(args[1:], stdout)
	case "version":
		fmt.Fprintf(stdout, "wssgate %s\n", version)
	case "help", "-h", "--help":
		usage(stdout)
	default:
		fmt.Fprintf(stderr, "wssgate: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage), errors.Is(err, flag.ErrHelp):
		return 2
	case errors.Is(err, errCheckFailed):
		return 1
	}
	fmt.Fprintf(stderr, "wssgate: %v\n", err)
	return 1
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: wssgate <command> [flags]

commands:
  serve     run the gateway (no --config: development mode with a generated certificate)
  check     validate the configuration and certificates, handshake with running listeners
  devcert   create or show the development CA and certificate
  version   print the version
`)
}
