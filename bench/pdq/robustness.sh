#!/usr/bin/env bash
# Robustness evaluation of shopshield-pdq matching (see docs/pdq.md):
#   logos:  simple-icons SVGs (npm package `simple-icons`, CC0), rendered with resvg;
#   photos: the distinct photos of Meta's PDQ test set (crates/pdq/tests/data) and the sample
#           photos shipped inside the scikit-image wheel (fetched with `pip download`).
# Measures recall after JPEG q50, resize x0.5, brightness +15%, 5% crop, white border,
# rotation, flip, and false matches between distinct images, for a ladder of strategies;
# then the logo-inside-a-photo search: the PDQ tile pyramid, then local features
# (crates/keypoints: labels and prints at 50/33/20% of the photo, unregistered logos as
# distractors).
# Usage: bench/pdq/robustness.sh [LOGO_LIMIT (default 300)] [JSON_OUT]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
LIMIT="${1:-300}"
JSON="${2:-}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
(cd "$WORK" && npm pack simple-icons --silent >/dev/null && tar xzf simple-icons-*.tgz)
mkdir -p "$WORK/photos"
IMG="$ROOT/crates/pdq/tests/data/images"
cp "$IMG"/bridge-mods__aaa-orig.jpg "$IMG"/labelme-subset__*.jpg \
   "$IMG"/reg-test-input__pen-and-coaster.png "$WORK/photos/"
if python3 -m pip download --quiet --no-deps -d "$WORK/sk" scikit-image >/dev/null 2>&1; then
  (cd "$WORK/sk" && python3 - <<'PYEOF'
import glob, zipfile
wanted = ["astronaut.png", "brick.png", "camera.png", "chelsea.png", "coffee.png", "coins.png",
          "grass.png", "gravel.png", "hubble_deep_field.jpg", "ihc.png", "moon.png",
          "motorcycle_left.png", "retina.jpg", "rocket.jpg", "page.png", "text.png",
          "clock_motion.png", "cell.png", "microaneurysms.png"]
whl = glob.glob("*.whl")[0]
with zipfile.ZipFile(whl) as z:
    for name in wanted:
        with open("../photos/skimage-" + name, "wb") as f:
            f.write(z.read("skimage/data/" + name))
PYEOF
  )
else
  echo "note: scikit-image sample photos unavailable; using Meta's test photos only" >&2
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
ARGS=(--icons "$WORK/package/icons" --limit "$LIMIT" --photos "$WORK/photos")
[ -n "$JSON" ] && ARGS+=(--json "$JSON")
(cd "$ROOT" && cargo run --release --quiet -p shopshield-pdq --example robustness -- "${ARGS[@]}")
KARGS=(--icons "$WORK/package/icons" --limit "$LIMIT" --photos "$WORK/photos")
[ -n "$JSON" ] && KARGS+=(--json "${JSON%.json}-keypoints.json")
(cd "$ROOT" && cargo run --release --quiet -p shopshield-keypoints --example logo_in_photo -- "${KARGS[@]}")
