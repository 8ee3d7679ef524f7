"""Hashes video files with Meta's vpdq (the PyPI package) and with ours (the `vpdq_hash`
example of shopshield-media, run as a subprocess), at the same rate, and compares them frame
by frame.

Usage: compare.py OURS_BIN SECONDS_PER_HASH FILE...

Prints one row per file: frames from each side, whether frame numbers and timestamps agree,
the mean and maximum Hamming distance between frames with the same frame number, the share
of those within distance 31, and the wall time of each side (Meta's: one computeHash call in
this process; ours: the whole subprocess, start-up included) with the ratio Meta / ours.
"""

import os
import subprocess
import sys
import time

import vpdq


def ours(binary, path, rate):
    t0 = time.perf_counter()
    out = subprocess.run(
        [binary, path, str(rate)], capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - t0
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip())
    rows = []
    for line in out.stdout.splitlines():
        n, q, h, ts = line.split(",")
        rows.append((int(n), int(q), int(h, 16), ts))
    return rows, elapsed


def meta(path, rate):
    t0 = time.perf_counter()
    feats = vpdq.computeHash(path, seconds_per_hash=rate)
    elapsed = time.perf_counter() - t0
    rows = [
        (f.frame_number, f.quality, int(f.hex, 16), f"{f.timestamp:.3f}") for f in feats
    ]
    return rows, elapsed


def main():
    binary, rate = sys.argv[1], float(sys.argv[2])
    files = sys.argv[3:]
    header = (
        f"{'file':<34} {'meta':>5} {'ours':>5} {'num':>4} {'ts':>4} {'mean':>6} "
        f"{'max':>4} {'<=31':>7} {'meta_s':>7} {'ours_s':>7} {'ratio':>6}"
    )
    print(header)
    totals = {"frames": 0, "within": 0, "dist": 0, "meta": 0.0, "ours": 0.0}
    for path in files:
        name = os.path.basename(path)
        try:
            m, tm = meta(path, rate)
        except Exception as e:  # noqa: BLE001 - report and go on
            print(f"{name:<34} meta failed: {e}")
            continue
        try:
            o, to = ours(binary, path, rate)
        except Exception as e:  # noqa: BLE001
            print(f"{name:<34} ours failed: {e}")
            continue
        by_num = {r[0]: r for r in o}
        dists = [bin(r[2] ^ by_num[r[0]][2]).count("1") for r in m if r[0] in by_num]
        same_num = [r[0] for r in m] == [r[0] for r in o]
        same_ts = [r[3] for r in m] == [r[3] for r in o]
        within = sum(d <= 31 for d in dists)
        mean = sum(dists) / len(dists) if dists else float("nan")
        mx = max(dists) if dists else -1
        share = within / len(dists) if dists else float("nan")
        print(
            f"{name:<34} {len(m):>5} {len(o):>5} {'yes' if same_num else 'NO':>4} "
            f"{'yes' if same_ts else 'NO':>4} {mean:>6.2f} {mx:>4} {share:>7.1%} "
            f"{tm:>7.3f} {to:>7.3f} {tm / to:>6.2f}"
        )
        totals["frames"] += len(dists)
        totals["within"] += within
        totals["dist"] += sum(dists)
        totals["meta"] += tm
        totals["ours"] += to
    if totals["frames"]:
        print(
            f"{'TOTAL':<34} {totals['frames']:>11} frames compared, mean distance "
            f"{totals['dist'] / totals['frames']:.3f}, "
            f"{totals['within'] / totals['frames']:.1%} within 31; time meta "
            f"{totals['meta']:.2f} s, ours {totals['ours']:.2f} s, ratio "
            f"{totals['meta'] / totals['ours']:.2f}"
        )


if __name__ == "__main__":
    main()
