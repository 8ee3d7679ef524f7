#!/usr/bin/env python3
"""Generates the side-by-side benchmark data (deterministic).

    python3 bench/text/gen_bench.py OUT_DIR [--cache DIR] [--titles 100000] [--marks 5000]

Writes
  OUT_DIR/marks.txt       >= 5,000 real brand names (one per line)
  OUT_DIR/marks_100k.txt  the same plus synthetic brand-like names, 100,000 in all
  OUT_DIR/titles.txt      100,000 listing titles: mostly honest, some with
                          marks, some with look-alikes (same for both sides)
"""

import argparse
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from brands import all_brands, is_latin, letters  # noqa: E402

SEED = 7
NOUNS = ["running shoes", "sneakers", "hoodie", "t-shirt", "handbag", "wallet", "watch",
         "necklace", "lipstick", "perfume 100ml", "phone case", "charger cable", "earbuds",
         "laptop sleeve", "backpack", "yoga mat", "water bottle", "desk lamp", "kitchen knife",
         "coffee mug", "bed sheets", "dog leash", "car phone holder", "sunglasses", "cap"]
ATTRS = ["new", "2024", "white", "black", "size 42", "men", "women", "unisex", "original box",
         "fast shipping", "limited edition", "sale", "XL", "free gift", "red", "blue", "US 9",
         "premium", "classic", "with tags", "3 pack", "cotton", "leather", "stainless steel",
         "waterproof", "for iPhone 15", "compatible with Samsung", "1:1", "replica"]
SYL = ["ka", "lo", "mi", "ver", "tor", "zen", "ra", "qui", "dex", "bel", "sta", "nor", "fi",
       "gro", "lux", "pa", "tri", "mon", "sol", "vi", "xa", "bri", "cor", "den", "ella", "ix"]


def obfuscate(m, rnd):
    i = rnd.randrange(len(m))
    c = m[i]
    k = rnd.random()
    if k < 0.25 and c.lower() in "aeios":
        return m[:i] + {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5"}[c.lower()] + m[i + 1:]
    if k < 0.5:
        return m[:i] + c + m[i:]
    if k < 0.75 and len(m) > 5:
        return m[:i] + m[i + 1:]
    return m[:i] + {"a": "а", "e": "е", "o": "о", "c": "с"}.get(c, c) + m[i + 1:]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--cache", default="/tmp/shopshield-brands")
    ap.add_argument("--titles", type=int, default=100_000)
    ap.add_argument("--marks", type=int, default=5000)
    args = ap.parse_args()
    rnd = random.Random(SEED)
    names, seen = [], set()
    for b in all_brands(args.cache):
        n = " ".join(b["name"].split())
        if n.casefold() in seen or letters(n) < 3 or not is_latin(n) or len(n) > 40:
            continue
        seen.add(n.casefold())
        names.append(n)
    rnd.shuffle(names)
    marks = names[: args.marks]
    if len(marks) < args.marks:
        sys.exit(f"only {len(marks)} real names available")
    big = list(names)
    while len(big) < 100_000:
        n = "".join(rnd.choice(SYL) for _ in range(rnd.randint(2, 4))).capitalize()
        if n.casefold() not in seen:
            seen.add(n.casefold())
            big.append(n)
    big = big[:100_000]
    titles = []
    for _ in range(args.titles):
        words = [rnd.choice(NOUNS)] + rnd.sample(ATTRS, rnd.randint(1, 4))
        r = rnd.random()
        if r < 0.15:
            words.insert(rnd.randint(0, len(words)), rnd.choice(marks))
        elif r < 0.20:
            words.insert(rnd.randint(0, len(words)), obfuscate(rnd.choice(marks), rnd))
        rnd.shuffle(words) if rnd.random() < 0.3 else None
        titles.append(" ".join(words))
    os.makedirs(args.out, exist_ok=True)
    for name, rows in (("marks.txt", marks), ("marks_100k.txt", big), ("titles.txt", titles)):
        with open(os.path.join(args.out, name), "w", encoding="utf-8") as f:
            f.write("\n".join(rows) + "\n")
    print(f"{len(marks)} marks, {len(big)} marks (large), {len(titles)} titles -> {args.out}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
