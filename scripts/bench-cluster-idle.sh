#!/usr/bin/env bash
# bench-cluster-idle.sh — idle sessions on one node, then on three nodes over one nats-server,
# in one run: N app sessions (subscribed to devices/+/up) per node, opened by one load process
# per node (each process stays under the 20,000-descriptor limit), held HOLD. Reports each
# node's RSS per session and the handshakes per second of the ramp (RESULT lines of
# wssgate-bench idle). Servers are pinned to CPU 0, the load to CPU 1.
#
# Usage: scripts/bench-cluster-idle.sh   Env: N=19000, HOLD=10s, OUT=DIR, NATS_PORT=24232, BASE=28540
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=${OUT:-/tmp/wssgate-bench-cluster-idle/$(date -u +%Y%m%dT%H%M%SZ)}
n=${N:-19000}
hold=${HOLD:-10s}
nats_port=${NATS_PORT:-24232}
base=${BASE:-28540}
MAX_CONNS=$((n + 500))
source "$root/scripts/bench-cluster-lib.sh"

# load LABEL I PID: N idle app sessions on node I, from source IPs of its own.
load() {
	local label=$1 i=$2 pid=$3
	taskset -c 1 "$out/wssgate-bench" idle --ca "$out/state/dev-ca.pem" --apps "$n" --devices 0 --concurrency 100 \
		--hold "$hold" --quiet --pid "$pid" --local-ips "127.0.$((i + 1)).1-127.0.$((i + 1)).20" \
		--app-url "wss://127.0.0.1:$((base + i))/ws" --device-url "wss://127.0.0.1:$((base + 10 + i))/device" | sed "s/^RESULT /RESULT setup=$label node=$i /" | tee -a "$out/results.txt"
}

node one 1 0
load one 1 "${pids[-1]}"
stop

taskset -c 0 "$gobin/nats-server" -a 127.0.0.1 -p "$nats_port" >"$out/nats.log" 2>&1 &
pids+=($!)
sleep 0.5
node gw-1 1 1; p1=${pids[-1]}
node gw-2 2 1; p2=${pids[-1]}
node gw-3 3 1; p3=${pids[-1]}
load cluster 1 "$p1" & l1=$!
load cluster 2 "$p2" & l2=$!
load cluster 3 "$p3" & l3=$!
wait $l1 $l2 $l3
echo "results: $out/results.txt"
