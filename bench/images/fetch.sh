#!/usr/bin/env bash
# Fetches the licensed inputs of the image evaluation into DIR (default: a cache outside the
# repo, ~/.cache/shopshield/image-eval), with each package's ordinary client, and prints DIR.
# What comes from where, and under which licence: bench/images/README.md.
set -euo pipefail
DIR="${1:-${XDG_CACHE_HOME:-$HOME/.cache}/shopshield/image-eval}"
mkdir -p "$DIR"
cd "$DIR"
if [ ! -d simple-icons/package/icons ]; then
  rm -rf simple-icons && mkdir simple-icons
  (cd simple-icons && npm pack simple-icons@16.37.0 --silent >/dev/null && tar xzf simple-icons-*.tgz)
fi
if [ ! -d skimage ]; then
  rm -rf sk && mkdir -p sk skimage
  python3 -m pip download --quiet --no-deps -d sk scikit-image >/dev/null
  (cd sk && python3 - <<'PYEOF'
import glob, zipfile
wanted = ["astronaut.png", "brick.png", "camera.png", "chelsea.png", "coffee.png", "coins.png",
          "grass.png", "gravel.png", "hubble_deep_field.jpg", "ihc.png", "moon.png",
          "motorcycle_left.png", "retina.jpg", "rocket.jpg", "page.png", "text.png",
          "clock_motion.png", "cell.png", "microaneurysms.png"]
whl = glob.glob("*.whl")[0]
with zipfile.ZipFile(whl) as z:
    for name in wanted:
        with open("../skimage/" + name, "wb") as f:
            f.write(z.read("skimage/data/" + name))
    open("../skimage/VERSION", "w").write(whl + "\n")
PYEOF
  )
  rm -rf sk
fi
for pkg in tuxpaint-stamps-default lomiri-wallpapers-16.04 lomiri-wallpapers-20.04; do
  if [ ! -d "$pkg" ]; then
    rm -rf deb && mkdir deb
    (cd deb && apt-get download "$pkg" >/dev/null 2>&1)
    mkdir -p "$pkg" && dpkg-deb -x deb/*.deb "$pkg" && ls deb > "$pkg/VERSION" && rm -rf deb
  fi
done
mkdir -p products scenes
[ -e products/tuxpaint ] || ln -s "$DIR/tuxpaint-stamps-default/usr/share/tuxpaint/stamps" products/tuxpaint
[ -e scenes/lomiri-16.04 ] || ln -s "$DIR/lomiri-wallpapers-16.04/usr/share/backgrounds" scenes/lomiri-16.04
[ -e scenes/lomiri-20.04 ] || ln -s "$DIR/lomiri-wallpapers-20.04/usr/share/backgrounds" scenes/lomiri-20.04
[ -e scenes/skimage ] || ln -s "$DIR/skimage" scenes/skimage
echo "$DIR"
