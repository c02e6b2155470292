// Package daemontest builds the wssgate binary and runs it as a child process
// for tests that need the real daemon: a config written by the test, the
// bound addresses learnt from the JSON log line "wssgate serving", every log
// line kept for assertions, signals, and the exit status.
//
// Concurrency: Binary may be called from any goroutine and builds at most once
// per test binary. A Daemon's methods are safe for concurrent use; its
// address fields are set by Start and never change. Every process started is
// killed (only that process) when its test ends, if it is still running.
package daemontest
