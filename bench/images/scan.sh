#!/usr/bin/env bash
# Whole-process benchmark: `shopshield scan` over image listings with the logo search on, with
# N registered logos (default 10,000: the simple-icons logos plus lockups of two icons, see
# crates/keypoints/examples/scan_bench_data.rs), on this machine, with the release binary.
# Prints: the import time, the start-up time of `scan` (loading the registry and the banks),
# and the listings screened per second after start-up; then, over HTTP on a release server on
# the same data, the submit latency of SUBMIT listings sent one at a time with their image as
# a data: URL, with the logo search inline and with logo_search = "after_listing"
# (bench/images/submit_latency.py; rate limits raised as in bench/unlimited.toml).
# Usage: bench/images/scan.sh [LOGOS (10000)] [LISTINGS (573)] [SUBMIT (40)]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
LOGOS="${1:-10000}"
LISTINGS="${2:-573}"
SUBMIT="${3:-40}"
INPUTS="$("$ROOT/bench/images/fetch.sh")"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
(cd "$ROOT" && cargo build --release --quiet --bin shopshield \
  && cargo build --release --quiet -p shopshield-keypoints --example scan_bench_data)
BIN="$CARGO_TARGET_DIR/release/shopshield"
WORK="$(mktemp -d)"
SERVER=""
cleanup() {
  if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
"$CARGO_TARGET_DIR/release/examples/scan_bench_data" --icons "$INPUTS/simple-icons/package/icons" \
  --photos "$INPUTS/products" --photos "$INPUTS/scenes" --out "$WORK/in" \
  --logos "$LOGOS" --listings "$LISTINGS"
echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
t0=$(date +%s.%N)
"$BIN" --data "$WORK/data" rights import "$WORK/in/rights.jsonl"
t1=$(date +%s.%N)
echo "import of $LOGOS logos: $(echo "$t1 - $t0" | bc) s"
: > "$WORK/in/empty.jsonl"
t0=$(date +%s.%N)
"$BIN" --data "$WORK/data" scan "$WORK/in/empty.jsonl" --out "$WORK/empty.out" 2>/dev/null
t1=$(date +%s.%N)
START=$(echo "$t1 - $t0" | bc)
echo "scan start-up (registry and banks, no listing): $START s"
t0=$(date +%s.%N)
"$BIN" --data "$WORK/data" scan "$WORK/in/listings.jsonl" --out "$WORK/decisions.jsonl" 2>"$WORK/scan.err" || true
t1=$(date +%s.%N)
TOTAL=$(echo "$t1 - $t0" | bc)
tail -2 "$WORK/scan.err"
N=$(wc -l < "$WORK/decisions.jsonl")
echo "scan of $N image listings with $LOGOS logos: $TOTAL s in all, $START s of it start-up"
echo "listings/s after start-up: $(echo "scale=1; $N / ($TOTAL - $START)" | bc)"
echo "decisions: $(grep -c '"review"' "$WORK/decisions.jsonl" || true) review, $(grep -c '"reject"' "$WORK/decisions.jsonl" || true) reject"
[ "$SUBMIT" -gt 0 ] || exit 0
KEY=$("$BIN" --data "$WORK/data" keys create --role service 2>/dev/null)
for mode in inline after_listing; do
  { cat "$ROOT/bench/unlimited.toml"; printf '[images]\nlogo_search = "%s"\n' "$mode"; } > "$WORK/$mode.toml"
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  t0=$(date +%s.%N)
  "$BIN" --data "$WORK/data" --config "$WORK/$mode.toml" serve --addr "127.0.0.1:$PORT" 2>"$WORK/server-$mode.log" &
  SERVER=$!
  for _ in $(seq 1 1200); do
    curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
    sleep 0.5
  done
  echo "server start-up ($mode): $(echo "$(date +%s.%N) - $t0" | bc) s"
  python3 "$ROOT/bench/images/submit_latency.py" "http://127.0.0.1:$PORT" "$KEY" \
    "$WORK/in/listings.jsonl" "$SUBMIT" "$mode"
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""
done
