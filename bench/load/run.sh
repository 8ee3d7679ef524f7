#!/usr/bin/env bash
# Load test of the HTTP server on this machine: starts a release server on a
# free loopback port over a temporary data directory (rate limits raised so
# the server, not its budgets, is measured), then runs the bounded load
# client (crates/server/examples/load.rs) over three workloads and prints
# one JSON line each: throughput, p50/p99/max latency, answers by status.
#
#   bench/load/run.sh [SECONDS] [CONCURRENCY]     (defaults 20 and 16)
#
# Traffic goes to 127.0.0.1 only; every run stops by itself.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_EACH=${1:-20}
CONCURRENCY=${2:-16}
PROFILE=${PROFILE:-release}
cargo build --profile "$PROFILE" --bin shopshield
cargo build --profile "$PROFILE" -p shopshield-server --example load
DIR=target/$PROFILE
[ "$PROFILE" = dev ] && DIR=target/debug
DATA=$(mktemp -d)
SERVER=""
cleanup() {
    if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
    rm -rf "$DATA"
}
trap cleanup EXIT
cp bench/unlimited.toml "$DATA/shopshield.toml"
KEY=$("$DIR/shopshield" --data "$DATA" keys create --role service 2>/dev/null)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$DIR/shopshield" --data "$DATA" serve --addr "127.0.0.1:$PORT" 2>"$DATA/server.log" &
SERVER=$!
for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
echo "# $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $SECONDS_EACH s each, $CONCURRENCY connections"
for workload in healthz read listings; do
    "$DIR/examples/load" --base "http://127.0.0.1:$PORT" --key "$KEY" \
        --workload "$workload" --concurrency "$CONCURRENCY" \
        --requests 100000000 --seconds "$SECONDS_EACH"
done
