#!/usr/bin/env python3
"""Whole-process benchmark data: rights and listings JSONL (deterministic).

    python3 bench/scan/gen.py MARKS.txt TITLES.txt OUT_DIR [--listings N]

MARKS.txt and TITLES.txt come from bench/text/gen_bench.py (real brand
names; titles that are mostly honest, 15% naming a mark, 5% a look-alike).
Writes OUT_DIR/rights.jsonl (one trademark right per mark, common Nice
classes, every region, a price floor for one in four) and
OUT_DIR/listings.jsonl (one listing per title, across 50,000 shops, 16
regions and 12 categories, with a price and a short description; one in ten
claims a brand).
"""

import argparse
import json
import os
import random

SEED = 11
REGIONS = ["US", "GB", "DE", "FR", "ES", "IT", "MX", "BR", "ID", "MY", "PH", "TH", "VN", "SG",
           "JP", "CA"]
CATEGORIES = ["apparel/clothing", "apparel/shoes", "apparel/accessories", "bags/handbags",
              "jewelry/watches", "beauty/cosmetics", "electronics/phone-accessories",
              "electronics/audio", "toys/toys", "sports/equipment", "home/kitchen",
              "home/furniture"]
CLASSES = [[25], [25, 18], [9], [14], [3], [28], [21], [9, 25]]
DESCRIPTIONS = ["Ships in 2 days. 30-day returns.", "Brand new, never used.",
                "Great gift for friends and family.", "Comes in original packaging.",
                "High quality materials, durable and comfortable.", ""]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("marks")
    ap.add_argument("titles")
    ap.add_argument("out")
    ap.add_argument("--listings", type=int, default=0, help="0: one per title")
    args = ap.parse_args()
    rnd = random.Random(SEED)
    os.makedirs(args.out, exist_ok=True)
    marks = [m.strip() for m in open(args.marks, encoding="utf-8") if m.strip()]
    with open(os.path.join(args.out, "rights.jsonl"), "w", encoding="utf-8") as f:
        for i, m in enumerate(marks):
            r = {"id": f"r-{i}", "holder": f"Holder {i % 1500}", "kind": "trademark", "mark": m,
                 "nice_classes": rnd.choice(CLASSES), "regions": ["*"]}
            if i % 4 == 0:
                r["price_floor"] = {"amount": rnd.choice([20, 40, 60, 120]), "currency": "USD"}
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    titles = [t.rstrip("\n") for t in open(args.titles, encoding="utf-8") if t.strip()]
    n = args.listings or len(titles)
    with open(os.path.join(args.out, "listings.jsonl"), "w", encoding="utf-8") as f:
        for i in range(n):
            title = titles[i % len(titles)]
            listing = {"id": f"l-{i}", "shop_id": f"shop-{i % 50000}",
                       "region": rnd.choice(REGIONS), "category": rnd.choice(CATEGORIES),
                       "title": title[:200],
                       "price": {"amount": round(rnd.uniform(3, 200), 2), "currency": "USD"}}
            d = rnd.choice(DESCRIPTIONS)
            if d:
                listing["description"] = d
            if rnd.random() < 0.1:
                listing["brand"] = rnd.choice(marks)
            f.write(json.dumps(listing, ensure_ascii=False) + "\n")
    print(f"{len(marks)} rights, {n} listings -> {args.out}")


if __name__ == "__main__":
    main()
