#!/usr/bin/env bash
# A local 3-node Perdure cluster on 127.0.0.1 running examples/cluster's node program, with the
# order-fulfillment and enrichment examples' external systems shared under $CLUSTER_DIR/systems.
#
#   scripts/cluster.sh start    # nodes a, b, c on ports 7001-7003 (management API on 8081-8083)
#   scripts/cluster.sh status
#   scripts/cluster.sh stop     # SIGTERM: each node finishes its commits and stops
#
# Environment: PERDURE_NODE (the node program; default build/examples/cluster/cluster_node),
# CLUSTER_DIR (data, logs and pid files; default ./cluster-data), PARTITIONS (default 6),
# BASE_PORT (default 7001), HTTP_BASE_PORT (default 8081).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
node_program="${PERDURE_NODE:-$root/build/examples/cluster/cluster_node}"
dir="${CLUSTER_DIR:-$PWD/cluster-data}"
partitions="${PARTITIONS:-6}"
base_port="${BASE_PORT:-7001}"
http_base_port="${HTTP_BASE_PORT:-8081}"
ids=(a b c)

members=""
for i in "${!ids[@]}"; do
  members+="${members:+,}${ids[$i]}@127.0.0.1:$((base_port + i))"
done

running() { [[ -f "$dir/$1.pid" ]] && kill -0 "$(cat "$dir/$1.pid")" 2>/dev/null; }

start() {
  if [[ ! -x "$node_program" ]]; then
    echo "no node program at $node_program: build it (cmake --build build --target cluster_node) or set PERDURE_NODE" >&2
    exit 1
  fi
  mkdir -p "$dir"
  for i in "${!ids[@]}"; do
    local id="${ids[$i]}"
    if running "$id"; then echo "node $id already runs (pid $(cat "$dir/$id.pid"))"; continue; fi
    "$node_program" --node-id "$id" --members "$members" --data "$dir/$id" --partitions "$partitions" \
      --http-port $((http_base_port + i)) --systems "$dir/systems" >"$dir/$id.log" 2>&1 &
    echo $! >"$dir/$id.pid"
  done
  for id in "${ids[@]}"; do
    for _ in $(seq 1 600); do
      grep -q "perdure node ready" "$dir/$id.log" && break
      if ! running "$id"; then echo "node $id failed to start:" >&2; tail -n 5 "$dir/$id.log" >&2; exit 1; fi
      sleep 0.1
    done
    grep -q "perdure node ready" "$dir/$id.log" || { echo "node $id did not become ready; see $dir/$id.log" >&2; exit 1; }
  done
  status
}

status() {
  for i in "${!ids[@]}"; do
    local id="${ids[$i]}"
    if running "$id"; then
      echo "node $id: running (pid $(cat "$dir/$id.pid")), cluster 127.0.0.1:$((base_port + i)), management API http://127.0.0.1:$((http_base_port + i))"
    else
      echo "node $id: stopped"
    fi
  done
}

stop() {
  for id in "${ids[@]}"; do
    if running "$id"; then kill -TERM "$(cat "$dir/$id.pid")"; fi
  done
  for id in "${ids[@]}"; do
    for _ in $(seq 1 100); do running "$id" || break; sleep 0.1; done
    if running "$id"; then echo "node $id did not stop within 10 s; pid $(cat "$dir/$id.pid")" >&2; exit 1; fi
    rm -f "$dir/$id.pid"
  done
  echo "cluster stopped (data kept in $dir)"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
