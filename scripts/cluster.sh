#!/usr/bin/env bash
# A local 3-node Perdure cluster on 127.0.0.1 running examples/cluster's node program, with the
# order-fulfillment and enrichment examples' external systems shared under $CLUSTER_DIR/systems.
#
#   scripts/cluster.sh start          # static hub: nodes a, b, c on ports 7001-7003 (management API
#                                     # on 8081-8083); each partition lives on its owner's disk
#   scripts/cluster.sh start --nats   # replicated hub: first 3 nats-server processes with JetStream
#                                     # (client ports 4222-4224, routes 6222-6224), then the nodes with
#                                     # --nats nats://127.0.0.1:4222,... --hub demo; a node killed
#                                     # for good takes nothing with it (docs/architecture.md,
#                                     # "The replicated cluster")
#   scripts/cluster.sh status         # the nodes, and the nats servers of a replicated hub
#   scripts/cluster.sh stop           # SIGTERM: each node finishes its commits and stops; then the
#                                     # nats servers
#
# A cluster dir keeps the mode of its first start: start a replicated one with --nats again (or use
# another CLUSTER_DIR). build/cli/perdure --endpoint http://127.0.0.1:8081 cluster partitions shows
# who owns each partition.
#
# Environment: PERDURE_NODE (the node program; default build/examples/cluster/cluster_node),
# CLUSTER_DIR (data, logs and pid files; default ./cluster-data), PARTITIONS (default 6),
# BASE_PORT (default 7001), HTTP_BASE_PORT (default 8081); with --nats: NATS_SERVER (default
# nats-server on the PATH), NATS_BASE_PORT (client ports; default 4222, routes at +2000),
# HUB (the hub's name on the servers; default demo).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
node_program="${PERDURE_NODE:-$root/build/examples/cluster/cluster_node}"
dir="${CLUSTER_DIR:-$PWD/cluster-data}"
partitions="${PARTITIONS:-6}"
base_port="${BASE_PORT:-7001}"
http_base_port="${HTTP_BASE_PORT:-8081}"
nats_server="${NATS_SERVER:-nats-server}"
nats_base_port="${NATS_BASE_PORT:-4222}"
hub="${HUB:-demo}"
ids=(a b c)
nats_ids=(n1 n2 n3)
nats_dir="$dir/nats"

members=""
for i in "${!ids[@]}"; do
  members+="${members:+,}${ids[$i]}@127.0.0.1:$((base_port + i))"
done
nats_urls=""
for i in "${!nats_ids[@]}"; do
  nats_urls+="${nats_urls:+,}nats://127.0.0.1:$((nats_base_port + i))"
done

running() { [[ -f "$1.pid" ]] && kill -0 "$(cat "$1.pid")" 2>/dev/null; }
node_running() { running "$dir/$1"; }
nats_running() { running "$nats_dir/$1"; }
accepts() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_nats() {
  if ! command -v "$nats_server" >/dev/null; then
    echo "no $nats_server on the PATH: install it (apt-get install nats-server) or set NATS_SERVER" >&2
    exit 1
  fi
  local routes=""
  for i in "${!nats_ids[@]}"; do
    routes+="${routes:+, }\"nats-route://127.0.0.1:$((nats_base_port + 2000 + i))\""
  done
  for i in "${!nats_ids[@]}"; do
    local n="${nats_ids[$i]}" port=$((nats_base_port + i))
    if nats_running "$n"; then echo "nats server $n already runs (pid $(cat "$nats_dir/$n.pid"))"; continue; fi
    if accepts "$port"; then
      echo "port $port is taken by another process: stop it or set NATS_BASE_PORT" >&2
      exit 1
    fi
    mkdir -p "$nats_dir/$n"
    cat >"$nats_dir/$n.conf" <<CONF
server_name: $n
listen: 127.0.0.1:$port
jetstream { store_dir: "$nats_dir/$n", max_memory_store: 256MB, max_file_store: 4GB }
cluster {
  name: perdure-local
  listen: 127.0.0.1:$((nats_base_port + 2000 + i))
  routes: [ $routes ]
}
CONF
    "$nats_server" -c "$nats_dir/$n.conf" >"$nats_dir/$n.log" 2>&1 &
    echo $! >"$nats_dir/$n.pid"
  done
  for i in "${!nats_ids[@]}"; do
    local n="${nats_ids[$i]}"
    for _ in $(seq 1 100); do
      accepts $((nats_base_port + i)) && break
      if ! nats_running "$n"; then echo "nats server $n failed to start:" >&2; tail -n 5 "$nats_dir/$n.log" >&2; exit 1; fi
      sleep 0.1
    done
    accepts $((nats_base_port + i)) || { echo "nats server $n does not listen; see $nats_dir/$n.log" >&2; exit 1; }
  done
  # Streams can be made once the servers have elected a JetStream meta leader (a few seconds); the
  # nodes would retry meanwhile, this only makes their start quicker to read.
  for _ in $(seq 1 150); do
    grep -q "metadata leader" "$nats_dir"/n*.log 2>/dev/null && return
    sleep 0.1
  done
  echo "the nats servers have no JetStream meta leader yet; starting the nodes anyway (see $nats_dir/n*.log)" >&2
}

start() {
  local mode=static
  case "${1:-}" in
    --nats) mode=replicated ;;
    "") ;;
    *) echo "usage: $0 start [--nats]" >&2; exit 2 ;;
  esac
  if [[ ! -x "$node_program" ]]; then
    echo "no node program at $node_program: build it (cmake --build build --target cluster_node) or set PERDURE_NODE" >&2
    exit 1
  fi
  mkdir -p "$dir"
  if [[ -f "$dir/mode" && "$(cat "$dir/mode")" != "$mode" ]]; then
    echo "the cluster in $dir is $(cat "$dir/mode"): start it $([[ $mode == static ]] && echo "with" || echo "without") --nats, or set another CLUSTER_DIR" >&2
    exit 2
  fi
  echo "$mode" >"$dir/mode"
  local replication=()
  if [[ $mode == replicated ]]; then
    start_nats
    replication=(--nats "$nats_urls" --hub "$hub")
  fi
  for i in "${!ids[@]}"; do
    local id="${ids[$i]}"
    if node_running "$id"; then echo "node $id already runs (pid $(cat "$dir/$id.pid"))"; continue; fi
    "$node_program" --node-id "$id" --members "$members" --data "$dir/$id" --partitions "$partitions" \
      --http-port $((http_base_port + i)) ${replication[@]+"${replication[@]}"} --systems "$dir/systems" >"$dir/$id.log" 2>&1 &
    echo $! >"$dir/$id.pid"
  done
  for id in "${ids[@]}"; do
    for _ in $(seq 1 600); do
      grep -q "perdure node ready" "$dir/$id.log" && break
      if ! node_running "$id"; then echo "node $id failed to start:" >&2; tail -n 5 "$dir/$id.log" >&2; exit 1; fi
      sleep 0.1
    done
    grep -q "perdure node ready" "$dir/$id.log" || { echo "node $id did not become ready; see $dir/$id.log" >&2; exit 1; }
  done
  status
}

status() {
  for i in "${!ids[@]}"; do
    local id="${ids[$i]}"
    if node_running "$id"; then
      echo "node $id: running (pid $(cat "$dir/$id.pid")), cluster 127.0.0.1:$((base_port + i)), management API http://127.0.0.1:$((http_base_port + i))"
    else
      echo "node $id: stopped"
    fi
  done
  [[ -d "$nats_dir" ]] || return 0
  for i in "${!nats_ids[@]}"; do
    local n="${nats_ids[$i]}"
    if nats_running "$n"; then
      echo "nats server $n: running (pid $(cat "$nats_dir/$n.pid")), nats://127.0.0.1:$((nats_base_port + i)), route 127.0.0.1:$((nats_base_port + 2000 + i)), hub $hub"
    else
      echo "nats server $n: stopped"
    fi
  done
}

# SIGTERM to each pid file's process, then waits for them (10 s each) and removes the pid files.
stop_all() {
  local what="$1"
  shift
  for f in "$@"; do
    if running "$f"; then kill -TERM "$(cat "$f.pid")"; fi
  done
  for f in "$@"; do
    for _ in $(seq 1 100); do running "$f" || break; sleep 0.1; done
    if running "$f"; then echo "$what $(basename "$f") did not stop within 10 s; pid $(cat "$f.pid")" >&2; exit 1; fi
    rm -f "$f.pid"
  done
}

stop() {
  local nodes=() servers=()
  for id in "${ids[@]}"; do nodes+=("$dir/$id"); done
  for n in "${nats_ids[@]}"; do servers+=("$nats_dir/$n"); done
  # The nodes first: a node stopping still commits through the servers.
  stop_all node "${nodes[@]}"
  stop_all "nats server" "${servers[@]}"
  echo "cluster stopped (data kept in $dir)"
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start [--nats]|stop|status" >&2; exit 2 ;;
esac
