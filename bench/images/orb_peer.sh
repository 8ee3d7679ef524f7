#!/usr/bin/env bash
# Feature extraction, ours against OpenCV's ORB, on the same photos in one run.
# Ours: crates/keypoints/examples/extract_peer.rs (what `query_features` does for a listing
# photo). Peer: bench/images/orb_peer.py (OpenCV's ORB with the same settings), installed with
# pip into a venv outside the repo (~/.cache/shopshield/orb-bench-venv, or $ORB_BENCH_VENV).
# Photos: the demo coaster photo enlarged to 1155x866 (1.0 Mpx, the criterion bench's photo),
# plus every photo given on the command line (e.g. the image-eval products from fetch.sh).
# Prints both tables and the ratio of mean CPU times per photo and overall (median over photos).
# Usage: bench/images/orb_peer.sh [--runs N] [PHOTO...]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
RUNS=30
if [ "${1:-}" = "--runs" ]; then RUNS="$2"; shift 2; fi
VENV="${ORB_BENCH_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/shopshield/orb-bench-venv}"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import cv2" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet opencv-python-headless numpy
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
(cd "$ROOT" && cargo build --release --quiet -p shopshield-keypoints --example extract_peer)
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
"$VENV/bin/python" - "$ROOT/data/demo/images/coaster-with-puma-print.jpg" "$WORK/coaster-1mpx.png" <<'PY'
import sys, cv2
img = cv2.imread(sys.argv[1], cv2.IMREAD_COLOR)
cv2.imwrite(sys.argv[2], cv2.resize(img, (1155, 866), interpolation=cv2.INTER_LINEAR))
PY
PHOTOS=("$WORK/coaster-1mpx.png" "$@")
echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $RUNS runs per photo, one thread each"
"$CARGO_TARGET_DIR/release/examples/extract_peer" --runs "$RUNS" "${PHOTOS[@]}" > "$WORK/ours.tsv"
"$VENV/bin/python" "$ROOT/bench/images/orb_peer.py" --runs "$RUNS" "${PHOTOS[@]}" > "$WORK/peer.tsv"
"$VENV/bin/python" - "$WORK/ours.tsv" "$WORK/peer.tsv" <<'PY'
import sys, statistics
def load(p):
    return [l.rstrip("\n").split("\t") for l in open(p) if l.strip()]
ours, peer = load(sys.argv[1]), load(sys.argv[2])
print(f"{'photo':<40} {'px':>11} {'ours kp':>8} {'ours ms':>8} {'ORB kp':>7} {'ORB ms':>7} {'ours/ORB':>9}")
ratios = []
for o, p in zip(ours, peer):
    name = o[0].rsplit("/", 1)[-1][:40]
    r = float(o[4]) / float(p[4])
    ratios.append(r)
    print(f"{name:<40} {o[1] + 'x' + o[2]:>11} {o[3]:>8} {o[4]:>8} {p[3]:>7} {p[4]:>7} {r:>8.2f}x")
om = statistics.median(float(o[4]) for o in ours)
pm = statistics.median(float(p[4]) for p in peer)
print(f"median over {len(ours)} photos: ours {om:.1f} ms, ORB {pm:.1f} ms CPU; ours/ORB {om / pm:.2f}x "
      f"(per-photo ratios {min(ratios):.2f}-{max(ratios):.2f}x)")
PY
