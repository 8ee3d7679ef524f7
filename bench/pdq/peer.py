"""The peers' side of the side-by-side benchmark (run by bench/pdq/run.sh).

hash DIR SECONDS   time pdqhash.compute / compute_dihedral (Meta's C++) on the raw RGB in DIR
query DIR RADIUS   time faiss IndexBinaryMultiHash(256, 16, 16) nflip=1 and IndexBinaryFlat
                   range search on db.bin / queries.bin (single thread)
Prints key=value lines.
"""
import os
import sys
import time

import numpy as np


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def load_pixels(d):
    out = []
    with open(os.path.join(d, "manifest.tsv")) as f:
        for line in f:
            name, w, h = line.rstrip("\n").split("\t")
            w, h = int(w), int(h)
            raw = np.fromfile(os.path.join(d, name + ".rgb"), dtype=np.uint8)
            out.append((name, raw.reshape(h, w, 3), w, h))
    return out


def bits_to_hex(bits):
    v = 0
    for b in bits:
        v = (v << 1) | int(b)
    return "%064x" % v


def hash_bench(d, seconds):
    import pdqhash

    images = load_pixels(d)
    mp = sum(w * h for _, _, w, h in images) / 1e6
    same = 0
    ours = {}
    with open(os.path.join(d, "ours.tsv")) as f:
        for line in f:
            name, h, q = line.rstrip("\n").split("\t")
            ours[name] = (h, int(q))
    for name, img, _, _ in images:
        bits, q = pdqhash.compute(img)
        if ours.get(name) == (bits_to_hex(bits), int(q)):
            same += 1
    print(f"side=pdqhash identical_hashes={same}/{len(images)}")
    for label, fn in (("hash", pdqhash.compute), ("dihedral", pdqhash.compute_dihedral)):
        n = 0
        rounds = 0
        start = time.perf_counter()
        while time.perf_counter() - start < seconds or rounds == 0:
            for _, img, _, _ in images:
                fn(img)
                n += 1
            rounds += 1
        secs = time.perf_counter() - start
        print(
            f"side=pdqhash mode={label} images={n} seconds={secs:.3f} "
            f"images_per_s={n / secs:.2f} megapixels_per_s={mp * rounds / secs:.2f}"
        )


def query_bench(d, radius, which):
    import faiss

    faiss.omp_set_num_threads(1)
    db = np.fromfile(os.path.join(d, "db.bin"), dtype=np.uint8).reshape(-1, 32)
    qs = np.fromfile(os.path.join(d, "queries.bin"), dtype=np.uint8).reshape(-1, 32)
    n = db.shape[0]
    for name in which:
        rss0 = rss_bytes()
        t = time.perf_counter()
        if name == "mih":
            index = faiss.IndexBinaryMultiHash(256, 16, 16)
            index.nflip = 1
        else:
            index = faiss.IndexBinaryFlat(256)
        index.add(db)
        build = time.perf_counter() - t
        rss1 = rss_bytes()
        # faiss range search returns distances strictly below the threshold.
        lims, _, _ = index.range_search(qs[:10], radius + 1)
        t = time.perf_counter()
        passes = 0
        while passes < 1 or (time.perf_counter() - t < 2.0 and passes < 20):
            lims, dist, ids = index.range_search(qs, radius + 1)
            passes += 1
        us = (time.perf_counter() - t) * 1e6 / (passes * qs.shape[0])
        print(
            f"side=faiss-{name} n={n} queries={qs.shape[0]} radius={radius} "
            f"us_per_query={us:.2f} results={int(lims[-1])} build_s={build:.2f} "
            f"bytes_per_hash_rss={(rss1 - rss0) / n:.1f}"
        )
        del index


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "hash":
        hash_bench(sys.argv[2], float(sys.argv[3]))
    elif cmd == "query":
        which = sys.argv[4].split(",") if len(sys.argv) > 4 else ["mih", "flat"]
        query_bench(sys.argv[2], int(sys.argv[3]), which)
    else:
        sys.exit("usage: peer.py hash DIR SECONDS | query DIR RADIUS [mih,flat]")
