#!/usr/bin/env python3
"""The Python peer pipeline for the side-by-side benchmark.

Exact marks with one pyahocorasick automaton (lower-cased, word boundaries
checked), fuzzy marks with rapidfuzz `process.extractOne` (fuzz.ratio,
cutoff 85) for every token and every bigram of each title, against the marks
of 5+ characters. Prints `python_listings_per_sec=N` per CPU-second of the
(single) thread, like the Rust side, plus the wall-clock rate.

    peer.py MARKS.txt TITLES.txt [--limit N]
"""

import sys
import time

import ahocorasick
from rapidfuzz import fuzz, process


def main():
    args = sys.argv[1:]
    limit = None
    if "--limit" in args:
        i = args.index("--limit")
        limit = int(args[i + 1])
        del args[i:i + 2]
    marks = [l.strip() for l in open(args[0], encoding="utf-8") if l.strip()]
    titles = [l.rstrip("\n") for l in open(args[1], encoding="utf-8")]
    if limit:
        titles = titles[:limit]
    lower = [m.lower() for m in marks]
    auto = ahocorasick.Automaton()
    for i, m in enumerate(lower):
        auto.add_word(m, (i, len(m)))
    auto.make_automaton()
    choices = [m for m in lower if len(m.replace(" ", "")) >= 5]

    def screen(title):
        t = title.lower()
        hits = []
        for end, (i, n) in auto.iter(t):
            s = end - n + 1
            if (s == 0 or not t[s - 1].isalnum()) and (end + 1 == len(t) or not t[end + 1].isalnum()):
                hits.append(marks[i])
        toks = t.split()
        queries = toks + [toks[j] + " " + toks[j + 1] for j in range(len(toks) - 1)]
        for q in queries:
            if len(q) < 4:
                continue
            r = process.extractOne(q, choices, scorer=fuzz.ratio, score_cutoff=85)
            if r:
                hits.append(r[0])
        return hits

    for t in titles[:200]:
        screen(t)
    w0, c0 = time.perf_counter(), time.thread_time()
    flagged = 0
    for t in titles:
        flagged += bool(screen(t))
    wall, cpu = time.perf_counter() - w0, time.thread_time() - c0
    print(f"  {len(titles)} listings: wall {wall:.2f}s ({len(titles) / wall:.0f}/s), thread CPU {cpu:.2f}s",
          file=sys.stderr)
    print(f"marks={len(marks)} titles={len(titles)} flagged={flagged}")
    print(f"python_listings_per_sec={len(titles) / cpu:.0f} (per CPU-second, one thread)")


if __name__ == "__main__":
    main()
