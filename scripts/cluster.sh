#!/usr/bin/env bash
# cluster.sh — a local three-node wssgate cluster on one machine: one nats-server (installed
# with `go install` at a pinned version into $(go env GOPATH)/bin) and three `wssgate serve
# --config` nodes on distinct ports, sharing the development CA through one state_dir. It prints
# how to connect a device to one node and a browser to another, and stops everything it started
# (by pid) on Ctrl-C.
#
# Usage: scripts/cluster.sh   (needs Go and curl)
# Env:   DIR=/tmp/wssgate-cluster      configs, logs and the shared state_dir
#        NATS_PORT=4222
#        BASE=18440   node i (1-3) listens on app BASE+i, device BASE+10+i, admin BASE+20+i,
#                     ops BASE+30+i (18441, 18451, 18461, 18471 for node 1)
set -euo pipefail

NATS_VERSION=v2.15.2 # same as github.com/nats-io/nats-server/v2 in go.mod

root=$(cd "$(dirname "$0")/.." && pwd)
dir=${DIR:-/tmp/wssgate-cluster}
nats_port=${NATS_PORT:-4222}
base=${BASE:-18440}
app() { echo $((base + $1)); }
dev() { echo $((base + 10 + $1)); }
adm() { echo $((base + 20 + $1)); }
ops() { echo $((base + 30 + $1)); }
gobin="$(go env GOPATH)/bin"
mkdir -p "$dir/state"

if ! "$gobin/nats-server" --version 2>/dev/null | grep -qF "${NATS_VERSION#v}"; then
	echo "cluster: go install github.com/nats-io/nats-server/v2@$NATS_VERSION"
	GOBIN="$gobin" go install "github.com/nats-io/nats-server/v2@$NATS_VERSION"
fi
echo "cluster: building wssgate and wssgatectl into $dir"
(cd "$root" && go build -o "$dir/wssgate" ./cmd/wssgate && go build -o "$dir/wssgatectl" ./cmd/wssgatectl)

pids=()
stop() {
	trap - INT TERM EXIT
	echo
	echo "cluster: stopping ${pids[*]}"
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap stop INT TERM EXIT

"$gobin/nats-server" -a 127.0.0.1 -p "$nats_port" >"$dir/nats.log" 2>&1 &
pids+=($!)

for i in 1 2 3; do
	cat >"$dir/gw-$i.yaml" <<EOF
node: gw-$i
dev: true
state_dir: $dir/state
app: {address: "127.0.0.1:$(app $i)"}
device: {address: "127.0.0.1:$(dev $i)"}
admin: {address: "127.0.0.1:$(adm $i)"}
ops: {address: "127.0.0.1:$(ops $i)"}
cluster:
  nats: [nats://127.0.0.1:$nats_port]
EOF
	if [[ $i == 1 ]]; then
		# The first node makes the development CA and leaf; the others reuse them.
		"$dir/wssgate" devcert --dir "$dir/state" >/dev/null
	fi
	"$dir/wssgate" serve --config "$dir/gw-$i.yaml" >"$dir/gw-$i.log" 2>&1 &
	pids+=($!)
done

ready=0
for _ in $(seq 1 100); do
	ready=0
	for i in 1 2 3; do
		if curl -fs "http://127.0.0.1:$(ops $i)/readyz" 2>/dev/null | grep -q "cluster: up"; then ready=$((ready + 1)); fi
	done
	[[ $ready == 3 ]] && break
	sleep 0.1
done
if [[ $ready != 3 ]]; then
	echo "cluster: only $ready of 3 nodes ready with the cluster up; logs in $dir" >&2
	exit 1
fi

ca="$dir/state/dev-ca.pem"
cat <<EOF
cluster: nats-server on 127.0.0.1:$nats_port and three nodes (logs in $dir):
$(for i in 1 2 3; do echo "  gw-$i  app https://localhost:$(app $i)/  device wss://localhost:$(dev $i)/device  admin 127.0.0.1:$(adm $i)  ops http://127.0.0.1:$(ops $i)/readyz"; done)

A device on node 1 (Node.js and the npm ws package):
  NODE_EXTRA_CA_CERTS=$ca node -e "const W=require('ws');const w=new W('wss://localhost:$(dev 1)/device?device_id=demo-1');w.on('open',()=>setInterval(()=>w.send(JSON.stringify({t:20+Math.random()})),1000));w.on('message',d=>console.log('command:',d.toString()))"
A browser on node 2: $dir/wssgate devcert --dir $dir/state prints the Chromium flag; open https://localhost:$(app 2)/
  (its demo page lists demo-1's messages and sends commands that reach it on node 1).
The whole cluster through node 2's admin API:
  $dir/wssgatectl --addr 127.0.0.1:$(adm 2) sessions list --json
  $dir/wssgatectl --addr 127.0.0.1:$(adm 2) devices
  $dir/wssgatectl --addr 127.0.0.1:$(adm 2) stats
Ctrl-C stops nats-server and the three nodes.
EOF
wait "${pids[0]}"
