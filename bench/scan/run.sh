#!/usr/bin/env bash
# Whole-process throughput of `shopshield scan` on the embedded SQLite store:
# JSONL in, every decision committed (fsynced) and written out.
#
#   bench/scan/run.sh                  # 200,000 listings, 5,000 real marks
#   LISTINGS=50000 bench/scan/run.sh
#
# Prints listings per second of wall time for the whole process, and the
# CPU time it used. Data: bench/text/gen_bench.py (real brand names from npm
# packages, fetched into a cache) and bench/scan/gen.py.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="${OUT:-/tmp/shopshield-scan-bench}"
LISTINGS="${LISTINGS:-200000}"
mkdir -p "$OUT"
cd "$ROOT"
cargo build -q --release
python3 bench/text/gen_bench.py "$OUT" --cache "$OUT/npm" --titles "$LISTINGS" >/dev/null
python3 bench/scan/gen.py "$OUT/marks.txt" "$OUT/titles.txt" "$OUT/data" --listings "$LISTINGS"
rm -rf "$OUT/store"
./target/release/shopshield --data "$OUT/store" rights import "$OUT/data/rights.jsonl"
start=$(date +%s.%N)
/usr/bin/time -f "%U %S" -o "$OUT/cpu.txt" ./target/release/shopshield --data "$OUT/store" \
  scan "$OUT/data/listings.jsonl" --out "$OUT/decisions.jsonl" 2> "$OUT/scan.err" || true
end=$(date +%s.%N)
tail -n 2 "$OUT/scan.err"
read -r user sys < "$OUT/cpu.txt"
python3 - "$LISTINGS" "$start" "$end" "$user" "$sys" <<'PY'
import sys
n, start, end, user, sys_ = int(sys.argv[1]), *map(float, sys.argv[2:])
wall = end - start
print(f"scan, SQLite, 5,000 marks: {n:,} listings in {wall:.1f} s = {n / wall:,.0f} listings/s "
      f"(CPU {user + sys_:.1f} s: {(user + sys_) / n * 1e6:.0f} us per listing)")
PY
