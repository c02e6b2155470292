#!/usr/bin/env bash
# bench-cluster.sh — fan-out across nodes, side by side with one node, in one run: a device
# publishes 64-byte messages (window 16, closed loop) to N app subscribers
#   one:     one wssgate node alone (in-memory broker), device and subscribers on it;
#   cluster: three nodes and one nats-server, the device on node A, the subscribers spread
#            round robin over nodes B and C (cmd/wssgate-bench --app-url B,C).
# Servers (every wssgate and nats-server) are pinned to CPU 0, the load to CPU 1; the server
# CPU of the cluster run is the sum of the three nodes and nats-server (--pid, --more-pids).
# Runs alternate one/cluster, RUNS times each. Prints the RESULT lines and a median table.
#
# Usage: scripts/bench-cluster.sh      Env: SUBS="1000" (e.g. "1000 10000"), RUNS=3, DUR=10s,
#        OUT=DIR (default /tmp/wssgate-bench-cluster/<UTC time>), NATS_PORT=24222, BASE=28440
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=${OUT:-/tmp/wssgate-bench-cluster/$(date -u +%Y%m%dT%H%M%SZ)}
subs=(${SUBS:-1000})
runs=${RUNS:-3}
dur=${DUR:-10s}
nats_port=${NATS_PORT:-24222}
base=${BASE:-28440}
source "$root/scripts/bench-cluster-lib.sh"

bench() { # LABEL N --pid ... --app-url ...
	local label=$1 n=$2
	shift 2
	taskset -c 1 "$out/wssgate-bench" fanout --ca "$out/state/dev-ca.pem" --apps "$n" --size 64 --window 16 \
		--duration "$dur" --concurrency 100 --quiet --device-url "wss://127.0.0.1:$((base + 11))/device" "$@" |
		sed "s/^RESULT /RESULT setup=$label /" | tee -a "$out/results.txt"
}

echo "machine: $(nproc) CPUs, $(uname -r); shared with other work: figures are ratios of runs made side by side" | tee "$out/machine.txt"
for n in "${subs[@]}"; do
	for r in $(seq 1 "$runs"); do
		node one 1 0
		bench one "$n" --pid "${pids[0]}" --app-url "wss://127.0.0.1:$((base + 1))/ws"
		stop
		taskset -c 0 "$gobin/nats-server" -a 127.0.0.1 -p "$nats_port" >"$out/nats.log" 2>&1 &
		pids+=($!)
		for i in 1 2 3; do node "gw-$i" "$i" 1; done
		for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$((base + 31))/readyz" | grep -q "3 nodes up" && break; sleep 0.1; done
		bench cluster "$n" --pid "${pids[1]}" --more-pids "${pids[2]},${pids[3]},${pids[0]}" \
			--app-url "wss://127.0.0.1:$((base + 2))/ws,wss://127.0.0.1:$((base + 3))/ws"
		stop
	done
done
python3 - "$out/results.txt" <<'EOF'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    f = dict(re.findall(r'(\w+)=(\S+)', line))
    rows.setdefault((int(f['subs']), f['setup']), []).append(f)
print("| subscribers | setup | deliveries/s | server CPU µs/delivery | p99 µs | missing |")
print("|---|---|---|---|---|---|")
for (n, setup), fs in sorted(rows.items()):
    med = lambda k: statistics.median(float(x.get(k, 'nan')) for x in fs)
    print(f"| {n} | {setup} | {med('deliveries_per_s'):.0f} | {med('server_cpu_us_per_delivery'):.2f} | {med('p99_us'):.0f} | {sum(int(x['missing']) for x in fs)} |")
EOF
