package main

import (
	"errors"
	"fmt"
	"syscall"
)

// errTooManyConns refuses a run whose connections cannot get file descriptors.
var errTooManyConns = errors.New("wssgate-bench: too many connections for RLIMIT_NOFILE")

// fdReserve is what the process needs besides one descriptor per connection.
const fdReserve = 64

// ensureFiles raises the soft RLIMIT_NOFILE so that conns connections fit, or
// says clearly why they cannot.
func ensureFiles(conns int) error {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return fmt.Errorf("get RLIMIT_NOFILE: %w", err)
	}
	need := uint64(conns) + fdReserve
	if need > rl.Max {
		return fmt.Errorf("%w: %d connections need %d file descriptors, but the hard limit is %d "+
			"(raising it needs CAP_SYS_RESOURCE): at most about %d connections per process",
			errTooManyConns, conns, need, rl.Max, rl.Max-fdReserve)
	}
	if need > rl.Cur {
		rl.Cur = rl.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
			return fmt.Errorf("raise RLIMIT_NOFILE to %d: %w", rl.Max, err)
		}
	}
	return nil
}
