# bench-cluster-lib.sh — what bench-cluster.sh and bench-cluster-idle.sh share; sourced, not
# run. Needs: root, out, base, nats_port, and MAX_CONNS (app max_connections of each node).
# Installs the pinned nats-server, builds wssgate and wssgate-bench into $out, makes the dev
# CA, and defines node (start one node) and stop (end every process started, by pid).

NATS_VERSION=v2.15.2
gobin="$(go env GOPATH)/bin"
mkdir -p "$out/state"
if ! "$gobin/nats-server" --version 2>/dev/null | grep -qF "${NATS_VERSION#v}"; then
	GOBIN="$gobin" go install "github.com/nats-io/nats-server/v2@$NATS_VERSION"
fi
(cd "$root" && go build -o "$out/wssgate" ./cmd/wssgate && go build -o "$out/wssgate-bench" ./cmd/wssgate-bench)
"$out/wssgate" devcert --dir "$out/state" >/dev/null

pids=()
stop() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done; pids=(); }
trap stop EXIT INT TERM

# node NAME I CLUSTER(0|1): start wssgate node I (ports BASE+I, BASE+10+I, BASE+30+I) pinned
# to CPU 0 and wait for its /readyz; its pid is the last of pids.
node() {
	local name=$1 i=$2 cl=$3
	{
		echo "node: $name"
		echo "dev: true"
		echo "state_dir: $out/state"
		echo "app: {address: \"127.0.0.1:$((base + i))\", limits: {max_connections: ${MAX_CONNS:-30000}}}"
		echo "device: {address: \"127.0.0.1:$((base + 10 + i))\"}"
		echo "admin: {address: \"off\"}"
		echo "ops: {address: \"127.0.0.1:$((base + 30 + i))\"}"
		[[ $cl == 1 ]] && echo "cluster: {nats: [nats://127.0.0.1:$nats_port]}"
	} >"$out/$name.yaml"
	taskset -c 0 "$out/wssgate" serve --config "$out/$name.yaml" --log-level error >"$out/$name.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$((base + 30 + i))/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
}
