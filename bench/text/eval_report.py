#!/usr/bin/env python3
"""Turns two `shopshield eval` outputs (before, after) into the per-family
markdown table of EVAL-REPORT.md.

    python3 bench/text/eval_report.py BEFORE.txt AFTER.txt
"""
import re
import sys


def parse(path):
    """{(part, name): {...}} for text families/groups and policy families."""
    out = {}
    part = None
    kind = None
    for line in open(path, encoding="utf-8"):
        if line.startswith("== text detector, HELD-OUT"):
            part, kind = "test", "text"
        elif line.startswith("== text detector, DEV"):
            part, kind = "dev", "text"
        elif line.startswith("== policy packs, HELD-OUT"):
            part, kind = "test", "policy"
        elif line.startswith("== policy packs, DEV"):
            part, kind = "dev", "policy"
        elif line.startswith("first misses") or line.startswith("wrong"):
            kind = None if kind == "text" else kind
        f = line.split()
        if kind == "text" and len(f) == 8 and re.match(r"^\d+$", f[1]):
            out[(part, f[0])] = dict(pos=int(f[1]), neg=int(f[2]), prec=f[3], rec=f[4],
                                     fpr=f[5], rej=f[6], ok=f[7])
        elif kind == "policy" and len(f) == 6 and f[0].startswith("policy/"):
            out[(part, f[0])] = dict(n=int(f[1]), ok=f[2], a=f[3], r=f[4], j=f[5])
        m = re.match(r"targets: obfuscated recall (\S+) .*honest hold-back (\S+) .*reject precision (\S+) .*rejected (\d+)", line)
        if m and kind is not None:
            out[(part, "TARGETS")] = dict(obf=m.group(1), hold=m.group(2), rej=m.group(3), resale=m.group(4))
    return out


def metric(d):
    if "n" in d:
        return f"{d['ok']} ok"
    if d["pos"] and not d["neg"]:
        return f"recall {d['rec']}"
    if d["neg"] and not d["pos"]:
        return f"FPR {d['fpr']}"
    return f"rec {d['rec']} / FPR {d['fpr']}"


def main():
    b, a = parse(sys.argv[1]), parse(sys.argv[2])
    names = sorted({k[1] for k in a if k[1] != "TARGETS"},
                   key=lambda n: (n.startswith("policy/"), n.startswith("["), n == "OVERALL", n))
    print("| family | n (dev/test) | dev before | dev after | held-out before | held-out after |")
    print("| --- | --- | --- | --- | --- | --- |")
    for n in names:
        row = [n]
        cnt = []
        for part in ("dev", "test"):
            d = a.get((part, n))
            cnt.append(str(d["n"] if d and "n" in d else (d["pos"] + d["neg"] if d else 0)))
        row.append("/".join(cnt))
        for part in ("dev", "test"):
            for src in (b, a):
                d = src.get((part, n))
                row.append(metric(d) if d else "–")
        print("| " + " | ".join(row) + " |")
    for part in ("dev", "test"):
        for label, src in (("before", b), ("after", a)):
            t = src.get((part, "TARGETS"))
            if t:
                print(f"\n{part} {label}: obfuscated recall {t['obf']}, honest hold-back {t['hold']}, "
                      f"reject precision {t['rej']}, genuine resale rejected {t['resale']}")


if __name__ == "__main__":
    main()
