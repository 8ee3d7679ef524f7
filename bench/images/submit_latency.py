"""Submit latency of image listings over HTTP, one at a time (used by bench/images/scan.sh).

Reads the first N listings of a scan file whose images are file paths, sends each as
`POST /v1/listings` with its image inlined as a `data:` URL (the only images a later logo
sweep can read again) under a new listing id, and prints one line: the mode, how many were
sent, p50/p90/max latency in ms, and the decisions by action.

Usage: submit_latency.py BASE_URL KEY LISTINGS.jsonl N LABEL
"""

import base64
import json
import os
import sys
import time
import urllib.error
import urllib.request


def main() -> int:
    base, key, path, n, label = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
    root = os.path.dirname(os.path.abspath(path))
    times = []
    actions = {}
    with open(path) as f:
        for i, line in enumerate(f):
            if i >= n:
                break
            listing = json.loads(line)
            listing["id"] = f"{listing['id']}-http-{label}"
            images = []
            for img in listing.get("images", []):
                with open(os.path.join(root, img), "rb") as fh:
                    images.append("data:image/jpeg;base64," + base64.b64encode(fh.read()).decode())
            listing["images"] = images
            req = urllib.request.Request(
                f"{base}/v1/listings",
                data=json.dumps(listing).encode(),
                headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
                method="POST",
            )
            t0 = time.perf_counter()
            try:
                with urllib.request.urlopen(req, timeout=120) as resp:
                    body = json.loads(resp.read())
            except urllib.error.HTTPError as e:
                print(f"listing {listing['id']}: HTTP {e.code}: {e.read()[:300]!r}", file=sys.stderr)
                return 1
            times.append((time.perf_counter() - t0) * 1000)
            action = body.get("action") or body.get("decision", {}).get("action", "?")
            actions[action] = actions.get(action, 0) + 1
    times.sort()
    pick = lambda q: times[min(len(times) - 1, int(q * len(times)))]
    print(
        f"logo_search = {label}: {len(times)} listings one at a time, "
        f"p50 {pick(0.5):.0f} ms, p90 {pick(0.9):.0f} ms, max {times[-1]:.0f} ms; decisions {actions}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
