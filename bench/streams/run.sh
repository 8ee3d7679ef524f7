#!/usr/bin/env bash
# Livestream load: STREAMS concurrent streams (default 1000) against one
# `shopshield serve` (release build, SQLite), each over a WebSocket sending
# one transcript segment a second and one frame (a PDQ hash) every five
# seconds for SECS seconds (default 60); every 50th stream pitches
# counterfeits from its 20th second and is warned, then stopped. Prints the load generator's JSON
# summary, with the p50/p90/p99/max event→action latency in milliseconds.
#
#   bench/streams/run.sh
#   STREAMS=200 SECS=30 bench/streams/run.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
STREAMS="${STREAMS:-1000}"
SECS="${SECS:-60}"
PORT="${PORT:-18090}"
OUT="$(mktemp -d /tmp/shopshield-stream-bench.XXXXXX)"
cd "$ROOT"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
# The built executables, wherever the target directory is.
exe() { # cargo build arguments; prints the path of the executable built
  cargo build -q --release --message-format=json "$@" | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable"):
        path = m["executable"]
print(path)'
}
BIN="$(exe --bin shopshield)"
LOAD="$(exe -p shopshield-server --example stream_load)"
mkdir -p "$OUT/data"
# Budgets raised so the engine, not the key's token bucket, is measured
# (1,000 streams are opened and connected by one key in a few seconds).
cp bench/unlimited.toml "$OUT/data/shopshield.toml"
# The demo's 34 word marks (real brand names); every 50th stream pitches
# counterfeits of one of them, so warnings and stops are part of the load.
"$BIN" --data "$OUT/data" rights import data/demo/rights.jsonl >/dev/null
KEY="$("$BIN" --data "$OUT/data" keys create --role service --label stream-bench | tail -n1)"
"$BIN" --data "$OUT/data" serve --addr "127.0.0.1:$PORT" >"$OUT/serve.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
echo "$STREAMS streams for $SECS s on $(nproc) cores:" >&2
"$LOAD" --base "http://127.0.0.1:$PORT" --key "$KEY" \
  --streams "$STREAMS" --secs "$SECS"
