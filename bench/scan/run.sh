#!/usr/bin/env bash
# Whole-process throughput of `shopshield scan`: JSONL in, every decision
# committed and written out. One run measures, on the same data:
#   1. the embedded SQLite store (one process);
#   2. PostgreSQL with 1 and then 2 `worker` processes fed through the NATS
#      JetStream queue by `scan --nats` (skipped when PostgreSQL or NATS is
#      not reachable).
#
#   bench/scan/run.sh                  # 200,000 listings, 5,000 real marks
#   LISTINGS=50000 bench/scan/run.sh
#   PG=postgres://postgres@127.0.0.1:5432 NATS=nats://127.0.0.1:4222 bench/scan/run.sh
#
# Prints listings per second of wall time for the whole process (for the
# queue: from the scan's start until its last decision is written, with the
# workers already running), and the CPU time it used. Data:
# bench/text/gen_bench.py (real brand names from npm packages, fetched into
# a cache) and bench/scan/gen.py.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="${OUT:-/tmp/shopshield-scan-bench}"
LISTINGS="${LISTINGS:-200000}"
PG="${PG:-postgres://postgres@127.0.0.1:5432}"
NATS="${NATS:-nats://127.0.0.1:4222}"
mkdir -p "$OUT"
cd "$ROOT"
cargo build -q --release
BIN=./target/release/shopshield
if [ "$(wc -l < "$OUT/data/listings.jsonl" 2>/dev/null || echo 0)" -ne "$LISTINGS" ]; then
  python3 bench/text/gen_bench.py "$OUT" --cache "$OUT/npm" --titles "$LISTINGS" >/dev/null
  python3 bench/scan/gen.py "$OUT/marks.txt" "$OUT/titles.txt" "$OUT/data" --listings "$LISTINGS"
fi

report() { # label start end user sys
  python3 - "$LISTINGS" "$@" <<'PY'
import sys
n, label = int(sys.argv[1]), sys.argv[2]
start, end, user, sys_ = map(float, sys.argv[3:])
wall = end - start
print(f"{label}: {n:,} listings in {wall:.1f} s = {n / wall:,.0f} listings/s "
      f"(CPU {user + sys_:.1f} s: {(user + sys_) / n * 1e6:.0f} us per listing)")
PY
}

# CPU seconds (user+system) a process used so far, from /proc.
cpu_of() {
  awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$1/stat" 2>/dev/null || echo 0
}

# 1. SQLite, one process.
rm -rf "$OUT/store"
$BIN --data "$OUT/store" rights import "$OUT/data/rights.jsonl"
# The import opens one sweep per right; run them now (the catalogue is
# empty), as a platform's rights are registered before its listings. Left
# open, every worker's sweep duty would run 5,000 sweeps during the
# measurement, each looking its mark up in a growing index.
$BIN --data "$OUT/store" sweep >/dev/null 2>&1
start=$(date +%s.%N)
/usr/bin/time -f "%U %S" -o "$OUT/cpu.txt" $BIN --data "$OUT/store" \
  scan "$OUT/data/listings.jsonl" --out "$OUT/decisions.jsonl" 2> "$OUT/scan.err" || true
end=$(date +%s.%N)
tail -n 2 "$OUT/scan.err"
read -r user sys < <(tail -n 1 "$OUT/cpu.txt")
report "scan, SQLite, 5,000 marks" "$start" "$end" "$user" "$sys"

# 2. PostgreSQL and NATS: 1 and 2 workers.
if ! psql "$PG/postgres" -qAtc 'SELECT 1' >/dev/null 2>&1; then
  echo "PostgreSQL not reachable at $PG: queue runs skipped"; exit 0
fi
if ! (exec 3<>"/dev/tcp/$(echo "$NATS" | sed -E 's#nats://([^:/]+):([0-9]+).*#\1/\2#')") 2>/dev/null; then
  echo "NATS not reachable at $NATS: queue runs skipped"; exit 0
fi
WORKER_PIDS=()
cleanup() {
  for p in "${WORKER_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  WORKER_PIDS=()
}
trap cleanup EXIT
for workers in 1 2; do
  db="shopshield_bench_$$_$workers"
  queue="bench-$$-$workers"
  store="$PG/$db"
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
  $BIN --data "$OUT/pg" --store "$store" rights import "$OUT/data/rights.jsonl"
  $BIN --data "$OUT/pg" --store "$store" sweep >/dev/null 2>&1
  for i in $(seq "$workers"); do
    $BIN --data "$OUT/pg" --store "$store" worker --nats "$NATS" --queue "$queue" \
      2> "$OUT/worker-$workers-$i.err" &
    WORKER_PIDS+=($!)
  done
  for i in $(seq "$workers"); do
    until grep -q "worker: screening work" "$OUT/worker-$workers-$i.err"; do sleep 0.2; done
  done
  before=0
  for p in "${WORKER_PIDS[@]}"; do before=$(echo "$before + $(cpu_of "$p")" | bc); done
  start=$(date +%s.%N)
  /usr/bin/time -f "%U %S" -o "$OUT/cpu.txt" $BIN --data "$OUT/pg" \
    scan "$OUT/data/listings.jsonl" --out "$OUT/decisions-pg-$workers.jsonl" \
    --nats "$NATS" --queue "$queue" 2> "$OUT/scan-pg-$workers.err" || true
  end=$(date +%s.%N)
  after=0
  for p in "${WORKER_PIDS[@]}"; do after=$(echo "$after + $(cpu_of "$p")" | bc); done
  tail -n 2 "$OUT/scan-pg-$workers.err"
  read -r user sys < <(tail -n 1 "$OUT/cpu.txt")
  # CPU: the scan's plus what the workers used during the run.
  report "scan --nats, PostgreSQL, $workers worker(s), 5,000 marks" "$start" "$end" \
    "$(echo "$user + $after - $before" | bc)" "$sys"
  cleanup
  sleep 1
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)"
done
