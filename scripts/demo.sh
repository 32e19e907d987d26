#!/usr/bin/env bash
# Installs what is missing, builds Perdure, and runs the main demo on an embedded single node: the
# order-fulfillment saga (every path, with each order's status and history), then the quick start.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build build -j "$(nproc)"
demo_data=$(mktemp -d /tmp/perdure-demo.XXXXXX)
trap 'rm -rf "$demo_data"' EXIT
echo "=== order fulfillment (saga): examples/order_fulfillment ==="
build/examples/order_fulfillment/order_fulfillment --data "$demo_data/orders"
echo "=== quick start: examples/quickstart ==="
build/examples/quickstart --data "$demo_data/quickstart"
