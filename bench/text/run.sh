#!/usr/bin/env bash
# Side-by-side benchmark: shopshield-text (Rust) against a Python peer
# pipeline (pyahocorasick + rapidfuzz) on the same 100,000 titles and 5,000
# real brand names, single-threaded. Prints both rates and the ratio.
#
#   bench/text/run.sh                 # full run (the Python side takes minutes)
#   PEER_LIMIT=5000 bench/text/run.sh # Python on the first 5,000 titles only
#
# Rates are listings per CPU-second of the screening thread, so a busy shared
# machine distorts them less; wall-clock rates are printed too.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="${OUT:-/tmp/shopshield-text-bench}"
mkdir -p "$OUT"
cd "$ROOT"

if [ ! -x "$OUT/venv/bin/python" ]; then
  python3 -m venv "$OUT/venv"
  "$OUT/venv/bin/pip" install -q pyahocorasick rapidfuzz
fi
python3 bench/text/gen_bench.py "$OUT" --cache "$OUT/npm"

echo "== rust (shopshield-text)"
cargo run -q --release -p shopshield-text --example throughput -- \
  "$OUT/marks.txt" "$OUT/titles.txt" "$OUT/marks_100k.txt" | tee "$OUT/rust.txt"

echo "== python peer (pyahocorasick + rapidfuzz extractOne per token and bigram)"
"$OUT/venv/bin/python" bench/text/peer.py "$OUT/marks.txt" "$OUT/titles.txt" \
  ${PEER_LIMIT:+--limit "$PEER_LIMIT"} | tee "$OUT/python.txt"

rust=$(sed -n 's/^rust_listings_per_sec=\([0-9]*\).*/\1/p' "$OUT/rust.txt")
py=$(sed -n 's/^python_listings_per_sec=\([0-9]*\).*/\1/p' "$OUT/python.txt")
python3 -c "print(f'rust {int($rust):,} listings/s, python {int($py):,} listings/s, ratio {int($rust)/int($py):.1f}x (5,000 marks, one thread)')"
