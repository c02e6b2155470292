#!/usr/bin/env bash
# Runs every fuzz target (func FuzzX(f *testing.F) in a _test.go file) for
# ${FUZZTIME:-5s} each, one after the other. .ci/run calls it.
#
# Env:
#   FUZZTIME=5s            per target (a duration, or a count such as 20000x)
#   FUZZMINIMIZETIME=200x  bound on minimizing each new input: Go's default
#                          (60s) would spend a short run minimizing, not fuzzing
#   PKGS="./gateway/..."   where to look (default: the whole module)
#
# A crasher makes the script fail; go test writes it to the package's
# testdata/fuzz/FuzzX/, where it becomes a regression case once committed.
# Go 1.26 can report a bare "context deadline exceeded" when -fuzztime ends
# while a worker is mid-input (golang/go#75804, fixed in Go 1.27): such a run,
# with no failing input written, is retried once and then only warned about.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME="${FUZZTIME:-5s}"
FUZZMINIMIZETIME="${FUZZMINIMIZETIME:-200x}"
PKGS="${PKGS:-./...}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# run PKG TARGET: 0 pass, 1 failure, 2 deadline flake.
run() {
	if go test -run='^$' -fuzz="^$2\$" -fuzztime="$FUZZTIME" -fuzzminimizetime="$FUZZMINIMIZETIME" "$1" >"$log" 2>&1; then
		return 0
	fi
	if grep -q 'context deadline exceeded' "$log" && ! grep -qE 'Failing input written|panic:|_test\.go:[0-9]+:' "$log"; then
		return 2
	fi
	return 1
}

failed=0 targets=0
for pkg in $(go list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}{{end}}' $PKGS); do
	dir=$(go list -f '{{.Dir}}' "$pkg")
	for target in $(grep -hoE '^func (Fuzz[A-Za-z0-9_]+)\(f \*testing\.F\)' "$dir"/*_test.go | sed -E 's/^func (Fuzz[A-Za-z0-9_]+).*/\1/' | sort -u); do
		targets=$((targets + 1))
		echo "== fuzz $pkg $target ($FUZZTIME)"
		rc=0
		run "$pkg" "$target" || rc=$?
		if [ "$rc" -eq 2 ]; then
			echo "   deadline flake (golang/go#75804), no failing input: retrying once"
			rc=0
			run "$pkg" "$target" || rc=$?
			[ "$rc" -eq 2 ] && { echo "   WARNING: deadline flake again, no failing input; not counted as a failure"; rc=0; }
		fi
		if [ "$rc" -ne 0 ]; then
			cat "$log"
			# Show the crasher too: CI's clone is thrown away after the run.
			for f in $(sed -nE 's/.*Failing input written to (testdata\/fuzz\/[^ ]+).*/\1/p' "$log"); do
				echo "--- $dir/$f:"
				cat "$dir/$f"
			done
			failed=$((failed + 1))
		else
			tail -n 1 "$log"
		fi
	done
done
echo "== $targets fuzz targets, $failed failed"
[ "$failed" -eq 0 ]
