#!/usr/bin/env bash
# Side-by-side benchmark of shopshield-pdq against its peers, in one run:
#   hashing:  images/s on the same decoded pixels vs the Python package `pdqhash` (Meta's C++)
#   queries:  us/query at radius 31 vs faiss-cpu IndexBinaryMultiHash(256,16,16) nflip=1 and
#             IndexBinaryFlat, single thread, on the same deterministic hash sets.
# Usage: bench/pdq/run.sh [--10m] [--seconds N]
# The peers are installed with pip into a venv outside the repo (~/.cache/shopshield/pdq-bench-venv,
# or $PDQ_BENCH_VENV).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SECONDS_PER_SIDE=5
WITH_10M=0
while [ $# -gt 0 ]; do
  case "$1" in
    --10m) WITH_10M=1 ;;
    --seconds) SECONDS_PER_SIDE="$2"; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
VENV="${PDQ_BENCH_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/shopshield/pdq-bench-venv}"
if ! "$VENV/bin/python" -c "import pdqhash, faiss, numpy" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet pdqhash faiss-cpu numpy
fi
PY="$VENV/bin/python"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
(cd "$ROOT" && cargo build --release --quiet -p shopshield-pdq --example peer_bench)
BIN="$CARGO_TARGET_DIR/release/examples/peer_bench"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
LOG="$WORK/log"

echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== hashing: the 29 reference images of Meta's test set, decoded once, same RGB on both sides"
"$BIN" dump-pixels "$WORK/px"
"$BIN" hash "$WORK/px" "$SECONDS_PER_SIDE" | tee -a "$LOG"
"$PY" "$ROOT/bench/pdq/peer.py" hash "$WORK/px" "$SECONDS_PER_SIDE" | tee -a "$LOG"

sizes="1000000"
[ "$WITH_10M" = 1 ] && sizes="1000000 10000000"
for n in $sizes; do
  echo "== queries: $n hashes, 1000 queries (half near-duplicates), radius 31, 1 thread"
  "$BIN" gen "$n" 1000 "$WORK/q$n"
  "$BIN" query "$WORK/q$n" 31 | tee -a "$LOG"
  "$PY" "$ROOT/bench/pdq/peer.py" query "$WORK/q$n" 31 | tee -a "$LOG"
  rm -rf "$WORK/q$n"
done

"$PY" - "$LOG" <<'PYEOF'
import sys
rows = []
for line in open(sys.argv[1]):
    kv = dict(p.split("=", 1) for p in line.split() if "=" in p)
    if "side" in kv:
        rows.append(kv)
def get(side, **match):
    for r in rows:
        if r["side"] == side and all(r.get(k) == v for k, v in match.items()):
            return r
print("\n== summary")
for mode in ("hash", "dihedral"):
    o, p = get("ours", mode=mode), get("pdqhash", mode=mode)
    if o and p:
        a, b = float(o["images_per_s"]), float(p["images_per_s"])
        print(f"hashing ({mode}): ours {a:.1f} images/s, pdqhash {b:.1f} images/s, ratio {a / b:.2f}x")
same = get("pdqhash")
for r in rows:
    if "identical_hashes" in r:
        print(f"identical hashes on the same pixels: {r['identical_hashes']}")
for n in sorted({r["n"] for r in rows if "n" in r}, key=int):
    o = get("ours", n=n)
    m, f = get("faiss-mih", n=n), get("faiss-flat", n=n)
    if not (o and m and f):
        continue
    uo, um, uf = float(o["us_per_query"]), float(m["us_per_query"]), float(f["us_per_query"])
    best = min(um, uf)
    print(f"query n={n}: ours {uo:.1f} us, faiss MIH {um:.1f} us, faiss flat {uf:.1f} us; "
          f"ratio vs faster peer {best / uo:.2f}x; results ours={o['results']} mih={m['results']} "
          f"flat={f['results']}; ours recall vs brute force {o['recall']}; "
          f"bytes/hash ours {o['bytes_per_hash_accounted']} (rss {o['bytes_per_hash_rss']}), "
          f"faiss MIH rss {m['bytes_per_hash_rss']}, flat 32")
PYEOF
