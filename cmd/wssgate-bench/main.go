package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one scenario and prints its RESULT line on stdout. It returns
// the process exit code: 0 done, 1 failed, 2 bad usage.
func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseOptions(args, stderr)
	if err != nil {
		fmt.Fprintln(stderr, err)
		if errors.Is(err, errUsage) {
			return 2
		}
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.maxRun)
	defer cancel()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	r, err := runScenario(ctx, o)
	if err != nil {
		fmt.Fprintf(stderr, "wssgate-bench %s: %v\n", o.scenario, err)
		return 1
	}
	fmt.Fprintln(stdout, r.String())
	return 0
}

func runScenario(ctx context.Context, o *options) (*result, error) {
	b, err := newBench(o)
	if err != nil {
		return nil, err
	}
	switch o.scenario {
	case "idle":
		return b.idle(ctx)
	case "fanout":
		return b.fanout(ctx)
	case "command":
		return b.command(ctx)
	case "handshake":
		return b.handshake(ctx)
	case "reload":
		return b.reload(ctx)
	case "hostile":
		return b.hostile(ctx)
	}
	return nil, fmt.Errorf("%w: unknown scenario %q", errUsage, o.scenario)
}
