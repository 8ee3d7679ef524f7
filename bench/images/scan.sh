#!/usr/bin/env bash
# Whole-process benchmark: `shopshield scan` over image listings with the logo search on, with
# N registered logos (default 10,000: the simple-icons logos plus lockups of two icons, see
# crates/keypoints/examples/scan_bench_data.rs), on this machine, with the release binary.
# Prints: the import time, the start-up time of `scan` (loading the registry and the banks),
# and the listings screened per second after start-up.
# Usage: bench/images/scan.sh [LOGOS (10000)] [LISTINGS (573)]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
LOGOS="${1:-10000}"
LISTINGS="${2:-573}"
INPUTS="$("$ROOT/bench/images/fetch.sh")"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
(cd "$ROOT" && cargo build --release --quiet --bin shopshield \
  && cargo build --release --quiet -p shopshield-keypoints --example scan_bench_data)
BIN="$CARGO_TARGET_DIR/release/shopshield"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
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
