#!/usr/bin/env bash
# Measures wssgate next to the two anchors of ../shared/bench (Node `ws` and the
# gobwas/ws + crypto/tls floor), figure by figure, in one run: each server
# pinned to CPU 0 (taskset -c 0), the load pinned to CPU 1 (taskset -c 1),
# everything on loopback. The anchors and wssgate are measured with the same
# independent instrument (wsload, from ../shared/bench/wsload); wssgate is also
# measured with its own tool (cmd/wssgate-bench). docs/performance.md is written
# from the table this prints.
#
# Usage: scripts/bench.sh [FIGURE...]
#   FIGURE: idle handshake fanout1k fanout10k latency   (default: all)
# Env:
#   QUICK=1     one run per figure, 3 s runs, small counts (about 3 minutes)
#   RUNS=3      measured runs per figure and server (full mode)
#   SERVERS="gobwas node wssgate"
#   OUT=DIR     raw output (default /tmp/wssgate-bench/<UTC time>)
#   NOISE=10    a run during which others used more than NOISE % of a CPU is made
#               again once (kept in *.noisy)
#   LOGLEVEL=error   wssgate's --log-level (info logs two lines per session)
#   PROFILE=1   also take a 10 s CPU profile of wssgate during fan-out 1→1,000
#   PERF=1      count the server's instructions during handshake runs (perf stat;
#               needs perf and hardware counters): server_instructions= is added
#               to the RESULT line. Instructions do not move with a busy host as
#               CPU time does, so they show whether wssgate does more work.
# Output: $OUT/<server>-<figure>[-tool].txt (RESULT lines), .err, .noisy,
#   commands.txt, machine.txt, summary.md (the table of ratios), *.pprof.
# Bounded: every load command has its own durations and -max-run; the whole
# script takes about 30-35 minutes in full mode (3 min QUICK).
set -euo pipefail -f
export PATH=$PATH:/usr/local/go/bin
root=$(cd "$(dirname "$0")/.." && pwd)
shared=$(cd "$root/../shared/bench" && pwd)
out=${OUT:-/tmp/wssgate-bench/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out/bin"
out=$(cd "$out" && pwd)
bin=$out/bin
quick=${QUICK:-0}
runs=${RUNS:-3}
noise=${NOISE:-10}
loglevel=${LOGLEVEL:-error}
servers=(${SERVERS:-gobwas node wssgate})
figures=("${@:-idle handshake fanout1k fanout10k latency}")
figures=(${figures[*]})
if [ "$quick" = 1 ]; then
	runs=1 dur=3s hold=3s nidle=2000 n10k=3000
else
	dur=10s hold=10s nidle=19000 n10k=10000
fi
ips=127.0.0.2-127.0.0.40

echo "bench.sh: building into $bin" >&2
(cd "$root" && go build -o "$bin/wssgate" ./cmd/wssgate && go build -o "$bin/wssgate-bench" ./cmd/wssgate-bench)
(cd "$shared/wsload" && go build -o "$bin/wsload" .)
(cd "$shared/anchors/gobwas-echo" && go build -o "$bin/gobwas-echo" .)
if [ ! -d "$out/node-ws/node_modules" ]; then
	mkdir -p "$out/node-ws"
	cp "$shared/anchors/node-ws/"{server.js,package.json,package-lock.json} "$out/node-ws/"
	(cd "$out/node-ws" && npm ci --silent --no-audit --no-fund >/dev/null)
fi
[ -f "$shared/anchors/certs/cert.pem" ] || "$shared/anchors/gen-certs.sh" >/dev/null
anchor_ca=$shared/anchors/certs/cert.pem

# wssgate serves the anchors' own certificate (self-signed ECDSA P-256), so
# that clients do the same verification work against all three servers.
cat >"$out/wssgate.yaml" <<YAML
dev: true
state_dir: $out/state
tls:
  certificates:
    - {cert: $shared/anchors/certs/cert.pem, key: $shared/anchors/certs/key.pem}
app:
  address: 127.0.0.1:28443
  limits: {max_connections: 0}
device:
  address: 127.0.0.1:29443
admin:
  address: 127.0.0.1:29090
ops:
  address: 127.0.0.1:29091
YAML

{
	date -u +"date: %Y-%m-%d %H:%M UTC"
	echo "kernel: $(uname -r)"
	lscpu | grep -E '^(Model name|CPU\(s\))'
	grep MemTotal /proc/meminfo
	echo "go: $(go version)"
	echo "node: $(node --version), ws $(node -p "require('$out/node-ws/node_modules/ws/package.json').version")"
	echo "wssgate: $(cd "$root" && git rev-parse --short HEAD 2>/dev/null || echo unknown) (working tree), log level $loglevel"
	echo "RLIMIT_NOFILE: $(ulimit -Sn)/$(ulimit -Hn)"
	echo "ip_local_port_range: $(cat /proc/sys/net/ipv4/ip_local_port_range)"
	echo "mode: QUICK=$quick runs=$runs duration=$dur"
} >"$out/machine.txt"

declare -A ports=([node]=18443 [gobwas]=19443 [wssgate]=28443)
spid=
declare -A pids=() # running servers, by name
start_server() { # $1: node|gobwas|wssgate
	local port=${ports[$1]}
	case $1 in
	node) (cd "$out/node-ws" && CERT_DIR=$shared/anchors/certs exec taskset -c 0 node server.js "$port") >>"$out/server-$1.log" 2>&1 & ;;
	gobwas) (exec taskset -c 0 "$bin/gobwas-echo" -addr 127.0.0.1:$port -cert "$shared/anchors/certs/cert.pem" \
		-key "$shared/anchors/certs/key.pem") >>"$out/server-$1.log" 2>&1 & ;;
	wssgate) (exec taskset -c 0 "$bin/wssgate" serve --config "$out/wssgate.yaml" --log-level "$loglevel") \
		>>"$out/server-$1.log" 2>&1 & ;;
	esac
	spid=$!
	pids[$1]=$spid
	for _ in $(seq 100); do
		if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then
			[ "$1" != wssgate ] || sleep 0.3 # the device port opens after the app port
			return
		fi
		sleep 0.1
	done
	echo "bench.sh: server $1 did not start, see $out/server-$1.log" >&2
	exit 1
}
stop_server() { # stops every running server
	local s
	for s in "${!pids[@]}"; do
		kill "${pids[$s]}" 2>/dev/null || true
		wait "${pids[$s]}" 2>/dev/null || true
	done
	pids=()
	spid=
}
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done' EXIT

# quiet waits (up to 20 s) until the machine is idle.
quiet() {
	local a b total idle i
	for _ in $(seq 10); do
		a=($(head -1 /proc/stat))
		sleep 1
		b=($(head -1 /proc/stat))
		total=0
		for i in 1 2 3 4 5 6 7 8; do total=$((total + b[i] - a[i])); done
		idle=$((b[4] + b[5] - a[4] - a[5]))
		if ((100 * (total - idle) < 5 * total)); then return; fi
		sleep 1
	done
	echo "bench.sh: machine still busy after 20 s, measuring anyway" >&2
}

# load NAME TOOL ARGS...: one run pinned to CPU 1; its RESULT line goes to
# $out/NAME.txt. A noisy run (others_cpu_pct > NOISE) is made again once.
load() {
	local name=$1 tool=$2 res others try cmd
	shift 2
	case $tool in
	wsload) cmd=(timeout 300 taskset -c 1 "$bin/wsload" "$@" -local-ips "$ips" -server-pid "$spid" -max-run 4m) ;;
	bench) cmd=(timeout 300 taskset -c 1 "$bin/wssgate-bench" "$@" --ca "$anchor_ca" --local-ips "$ips" --pid "$spid" \
		--app-url wss://127.0.0.1:28443/ws --device-url wss://127.0.0.1:29443/device --max-run 4m) ;;
	esac
	for try in 0 1; do
		[ "${NOQUIET:-0}" = 1 ] || quiet
		echo "${cmd[*]}" >>"$out/commands.txt"
		local perfpid= perfout=$out/$name.perf
		if [ "${PERF:-0}" = 1 ] && [[ $name == *handshake* ]]; then
			perf stat -x, -e instructions -p "$spid" -o "$perfout" &
			perfpid=$!
		fi
		res=$("${cmd[@]}" 2>>"$out/$name.err" | grep '^RESULT' || true)
		if [ -n "$perfpid" ]; then
			kill -INT "$perfpid" 2>/dev/null || true
			wait "$perfpid" 2>/dev/null || true
			local ins
			ins=$(grep -oP '^[0-9]+(?=,[^,]*,instructions)' "$perfout" || true)
			[ -z "$res" ] || [ -z "$ins" ] || res="$res server_instructions=$ins"
		fi
		[ -n "$res" ] || echo "bench.sh: no RESULT (see $out/$name.err): ${cmd[*]}" >&2
		others=$(grep -oP 'others_cpu_pct=\K[0-9.]+' <<<"$res" || echo 0)
		if [ "$try" = 0 ] && [ "${retry:-1}" = 1 ] && awk "BEGIN { exit !($others > $noise) }"; then
			echo "$res" >>"$out/$name.noisy"
			echo "bench.sh: $name: others used $others% CPU, measuring again" >&2
			continue
		fi
		[ -z "$res" ] || echo "$res" | tee -a "$out/$name.txt" >&2
		return
	done
}

sub='{"type":"subscribe","id":1,"channel":"devices/+/up"}'
# urls SERVER: the wsload arguments that reach SERVER's echo / fan-out endpoints.
wsurl() { # $1 server, $2 echo|fanout
	local port=${ports[$1]}
	if [ "$1" = wssgate ]; then
		case $2 in
		echo) echo "-url wss://127.0.0.1:28443/ws -ca $anchor_ca" ;;
		fanout) echo "-url wss://127.0.0.1:28443/ws -ca $anchor_ca -pub-url wss://127.0.0.1:29443/device?device_id=wsload-pub" ;;
		esac
	else
		echo "-url wss://127.0.0.1:$port/$2 -ca $anchor_ca"
	fi
}

# Handshake and fan-out figures run the servers side by side: all three are
# started (an idle server costs nothing), then run i of each server is made
# before run i+1 of any, so that a machine that drifts over minutes (this one
# does) weighs on all three alike. Only the server under load is busy.
start_all() {
	local s
	for s in "${servers[@]}"; do start_server "$s"; done
}
use() { spid=${pids[$1]}; } # the server the next load measures

# fanout_figure NAME N WINDOW: wsload against every server, wssgate-bench against wssgate.
fanout_figure() {
	local name=$1 n=$2 w=$3 s extra
	start_all
	for s in "${servers[@]}"; do
		use "$s"
		extra=()
		[ "$s" != wssgate ] || extra=(-sub-msg "$sub")
		retry=0 load "$s-$name-warmup" wsload fanout $(wsurl "$s" fanout) "${extra[@]}" -n 100 -pub-size 64 -window "$w" -d 2s >/dev/null 2>&1
	done
	for _ in $(seq "$runs"); do
		for s in "${servers[@]}"; do
			use "$s"
			extra=()
			[ "$s" != wssgate ] || extra=(-sub-msg "$sub")
			load "$s-$name" wsload fanout $(wsurl "$s" fanout) "${extra[@]}" -n "$n" -pub-size 64 -window "$w" -d "$dur"
			if [ "$s" = wssgate ]; then
				load "$s-$name-bench" bench fanout --apps "$n" --size 64 --window "$w" --duration "$dur" --quiet
			fi
		done
	done
	if [[ " ${servers[*]} " == *" wssgate "* ]] && [ "${PROFILE:-0}" = 1 ] && [ "$name" = fanout1k ]; then
		use wssgate
		(sleep 2 && curl -s -o "$out/wssgate-$name-cpu.pprof" "http://127.0.0.1:29091/debug/pprof/profile?seconds=10") &
		local prof=$!
		retry=0 load "wssgate-$name-profiled" wsload fanout $(wsurl wssgate fanout) -sub-msg "$sub" -n "$n" -pub-size 64 -window "$w" -d 14s
		wait "$prof" || true
	fi
	stop_server
}

for f in "${figures[@]}"; do
	case $f in
	idle) # a fresh server for every run: RSS before is a clean start
		for s in "${servers[@]}"; do
			for _ in $(seq "$runs"); do
				start_server "$s"
				retry=0 load "$s-idle" wsload idle $(wsurl "$s" echo) -n "$nidle" -k 50 -hold "$hold"
				stop_server
				if [ "$s" = wssgate ]; then # devices on the device port, each with its own identity
					start_server "$s"
					retry=0 load "$s-idle-bench" bench idle --devices "$nidle" --apps 0 --concurrency 50 --hold "$hold" --quiet
					stop_server
				fi
			done
		done
		;;
	handshake)
		start_all
		for s in "${servers[@]}"; do
			use "$s"
			retry=0 load "$s-handshake-warmup" wsload handshake $(wsurl "$s" echo) -k 50 -d 2s >/dev/null 2>&1
		done
		for _ in $(seq "$runs"); do
			for s in "${servers[@]}"; do
				use "$s"
				load "$s-handshake" wsload handshake $(wsurl "$s" echo) -k 50 -d "$dur"
				[ "$s" != wssgate ] || load "$s-handshake-bench" bench handshake --target device --concurrency 50 --duration "$dur" --quiet
			done
		done
		stop_server
		;;
	fanout1k) fanout_figure fanout1k 1000 16 ;;
	fanout10k) fanout_figure fanout10k "$n10k" 16 ;;
	latency) fanout_figure latency1k 1000 1 ;;
	*)
		echo "bench.sh: unknown figure $f" >&2
		exit 2
		;;
	esac
done
python3 "$root/scripts/bench-summary.py" "$out" | tee "$out/summary.md"
echo "bench.sh: raw output in $out" >&2
