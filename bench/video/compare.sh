#!/usr/bin/env bash
# Peer comparison of our vPDQ video hashes with Meta's vpdq (the PyPI package `vpdq`, Meta's
# C++ behind a Python binding), on the same files at the same rate, in one run: per file the
# frame counts, whether frame numbers and timestamps agree, the mean and maximum Hamming
# distance between corresponding frames, the share within distance 31, and each side's time
# with the ratio.
#
# Usage: bench/video/compare.sh [--samples DIR] [--every-frame] [FILE...]
#   With no FILE, videos are generated with ffmpeg (H.264 HD at 29.97 fps tagged BT.709,
#   VP9 and VP8 WebM, a portrait clip with rotation metadata, full-range and 10-bit H.264).
#   --samples DIR   also hash every .mp4 in DIR (e.g. Meta's tmk/sample-videos)
#   --every-frame   also compare at seconds_per_hash = 0 (every frame)
#
# Meta's vpdq is built from source by pip into a venv outside the repo
# (~/.cache/shopshield/vpdq-bench-venv, or $VPDQ_BENCH_VENV). It needs Debian's
# libavformat-dev libavcodec-dev libswscale-dev libavutil-dev libavdevice-dev
# libavfilter-dev pkg-config, a C++ compiler, and ffmpeg.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SAMPLES=""
EVERY=0
FILES=()
while [ $# -gt 0 ]; do
  case "$1" in
    --samples) SAMPLES="$2"; shift ;;
    --every-frame) EVERY=1 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) FILES+=("$1") ;;
  esac
  shift
done

for tool in ffmpeg pkg-config; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "$tool is missing: apt-get install -y --no-install-recommends ffmpeg pkg-config" \
      "libavformat-dev libavcodec-dev libswscale-dev libavutil-dev libavdevice-dev libavfilter-dev" >&2
    exit 1
  fi
done
VENV="${VPDQ_BENCH_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/shopshield/vpdq-bench-venv}"
if ! "$VENV/bin/python" -c "import vpdq" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet vpdq
fi
PY="$VENV/bin/python"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
(cd "$ROOT" && cargo build --release --quiet -p shopshield-media --example vpdq_hash)
BIN="$CARGO_TARGET_DIR/release/examples/vpdq_hash"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

gen() {
  ffmpeg -hide_banner -loglevel error -y "$@"
}
if [ ${#FILES[@]} -eq 0 ]; then
  echo "== generating test videos in $WORK"
  gen -f lavfi -i "testsrc2=s=1280x720:r=30000/1001:d=20" -c:v libx264 -preset veryfast \
    -pix_fmt yuv420p -colorspace bt709 -color_primaries bt709 -color_trc bt709 \
    "$WORK/hd720-h264-2997fps-bt709.mp4"
  gen -f lavfi -i "mandelbrot=s=640x360:r=25" -t 10 -c:v libvpx-vp9 -deadline realtime \
    -cpu-used 8 -threads 1 -b:v 1M "$WORK/mandelbrot-vp9.webm"
  gen -f lavfi -i "testsrc=s=480x360:r=30:d=10" -c:v libvpx -deadline realtime -cpu-used 8 \
    -threads 1 -b:v 1M "$WORK/testsrc-vp8.webm"
  gen -f lavfi -i "testsrc2=s=720x1280:r=30:d=10" -c:v libx264 -preset veryfast \
    -pix_fmt yuv420p -metadata:s:v rotate=90 "$WORK/portrait-rotated-h264.mp4"
  gen -f lavfi -i "mandelbrot=s=640x480:r=24" -t 8 -c:v libx264 -preset veryfast \
    -pix_fmt yuvj420p "$WORK/fullrange-h264.mp4"
  gen -f lavfi -i "testsrc2=s=640x480:r=25:d=8" -c:v libx264 -preset veryfast \
    -pix_fmt yuv420p10le "$WORK/10bit-h264.mp4"
  FILES=("$WORK"/*.mp4 "$WORK"/*.webm)
fi
if [ -n "$SAMPLES" ]; then
  for f in "$SAMPLES"/*.mp4; do
    [ -s "$f" ] && FILES+=("$f")
  done
fi

echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); ffmpeg $(ffmpeg -version | head -1 | cut -d' ' -f3); vpdq $("$PY" -c 'import importlib.metadata as m; print(m.version("vpdq"))')"
echo "== one frame per second"
"$PY" "$ROOT/bench/video/compare.py" "$BIN" 1 "${FILES[@]}"
if [ "$EVERY" = 1 ]; then
  echo "== every frame"
  "$PY" "$ROOT/bench/video/compare.py" "$BIN" 0 "${FILES[@]}"
fi
