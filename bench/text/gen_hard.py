#!/usr/bin/env python3
"""Generates the hard families of the text corpus (issue #14, round 2) into
data/eval/text/hard/, and the policy-collision corpus into data/eval/policy/.

    python3 bench/text/gen_hard.py --npm /tmp/npmlex/node_modules

Built before any detector change and from packages the detector does not use
(the detector's lexicons come from PyPI wordfreq and Faker):

  * given names: npm @faker-js/faker 10.6.0 (MIT), per locale;
  * ordinary words: npm an-array-of-english-words 2.0.0 (MIT) for English;
    Debian wspanish, wfrench, wngerman, witalian, wbrazilian, wportuguese
    word lists; Debian hunspell-id and hunspell-vi dictionaries (id, ms, vi);
  * product words: @faker-js/faker commerce vocabulary and the templates of
    gen_corpus.py;
  * marks: the rights of data/eval/text/rights.jsonl plus the extra rights
    listed below (real marks; holders, sellers and floors invented).

Every case carries "split": "dev" or "test", drawn from a hash of the thing
the case is about (the look-alike word, the right, the keyword), so no word or
mark of the held-out part appears in the dev part of the same family.

Deterministic: fixed seed, sorted inputs.
"""

import argparse
import hashlib
import json
import os
import random
import re
import sys
import unicodedata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from brands import BRAND_CLASSES, is_latin  # noqa: E402
from gen_corpus import CUES, GENERIC_PRODUCT, PRODUCTS  # noqa: E402

SEED = 20261130
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

LANGS = ["en", "es", "pt", "fr", "de", "it", "id", "ms", "vi", "th", "zh", "ja", "ko", "ru", "ar"]
LANG_MARKET = {"en": "US", "es": "ES", "pt": "BR", "fr": "FR", "de": "DE", "it": "IT",
               "id": "ID", "ms": "MY", "vi": "VN", "th": "TH", "zh": "SG", "ja": "JP",
               "ko": "US", "ru": "US", "ar": "US"}
PRODUCT_WORDS = dict(GENERIC_PRODUCT)
PRODUCT_WORDS.update({
    "ko": ["운동화", "가방", "손목시계", "티셔츠", "향수"],
    "ru": ["кроссовки", "сумка", "часы", "футболка", "духи"],
    "ar": ["حذاء رياضي", "حقيبة", "ساعة يد", "قميص", "عطر"],
})
# Resale wording, written for the corpus (the detector's list is separate).
RESALE = {
    "en": ["pre-owned, authentic", "used, authentic", "second-hand, 100% authentic",
           "preloved authentic", "gently used, genuine"],
    "es": ["usado, auténtico", "de segunda mano, original auténtico", "seminuevo auténtico"],
    "pt": ["usado, autêntico", "seminovo original", "de segunda mão, autêntico"],
    "fr": ["d'occasion, authentique", "occasion authentique", "seconde main, authentique"],
    "de": ["gebraucht, echt", "gebraucht, original", "second hand, authentisch"],
    "it": ["usato, autentico", "di seconda mano, originale", "usato autentico"],
    "id": ["bekas, original", "preloved ori", "second, asli 100%"],
    "ms": ["terpakai, original", "preloved authentic", "second hand, tulen"],
    "vi": ["đã qua sử dụng, chính hãng", "hàng si, auth", "secondhand chính hãng"],
    "th": ["มือสอง ของแท้", "มือสอง แท้ 100%"],
    "zh": ["二手 正品", "二手 正品保证", "闲置 正品"],
    "ja": ["中古 正規品", "中古品 本物", "USED 正規品"],
    "ko": ["중고 정품", "중고 정품 보장"],
}
# Genericised marks used as words in their own category (real marks).
DESCRIPTIVE = [
    # mark, nice classes, category, descriptive titles
    ("Bluetooth", [9], "electronics/audio",
     ["Bluetooth speaker waterproof", "Wireless bluetooth headphones", "Bluetooth 5.3 earbuds",
      "Car bluetooth adapter", "Mini bluetooth speaker with radio"]),
    ("Wi-Fi", [9], "electronics/computers",
     ["Wi-Fi router dual band", "USB wifi adapter", "Wifi range extender", "Wi-Fi 6 mesh system"]),
    ("HDMI", [9], "electronics/computers",
     ["HDMI cable 2m", "4K HDMI switch 3 in 1", "USB-C to HDMI adapter", "HDMI splitter"]),
    ("Lycra", [25], "apparel/clothing",
     ["Lycra leggings high waist", "Lycra cycling shorts", "Swim lycra rash guard",
      "Lycra bodysuit"]),
    ("Velcro", [25, 26], "apparel/accessories",
     ["Velcro strap wallet", "Velcro patches for caps", "Velcro closure belt"]),
    ("Thermos", [21], "home/kitchen",
     ["Thermos flask 1L", "Stainless steel thermos bottle", "Food thermos for kids"]),
    ("Jacuzzi", [21], "home/kitchen",
     ["Jacuzzi cover cleaner brush", "Jacuzzi cup holder"]),
    ("Spandex", [25], "apparel/clothing",
     ["Spandex yoga pants", "Spandex tablecloth cover", "Spandex shorts"]),
    ("Ziploc", [21], "home/kitchen",
     ["Ziploc bags reusable", "Ziploc freezer bags 50 pack"]),
    ("Polaroid", [9], "electronics/computers",
     ["Polaroid photo frame", "Polaroid style photo prints"]),
]
# Real marks that contain a shorter registered mark (holders invented).
OVERLAP_EXTRA = [
    ("Calvin Klein", "Calvin Klein Jeans", [25, 18]),
    ("Armani", "Armani Exchange", [25, 18]),
    ("Tommy", "Tommy Hilfiger", [25, 18]),
    ("Polo", "Polo Ralph Lauren", [25, 18]),
    ("Ralph Lauren", "Polo Ralph Lauren Sport", [25, 18]),
    ("Stellar", "Stellar Blade", [9, 28]),
    ("Michael Kors", "Michael Kors Collection", [25, 18]),
    ("Pepe", "Pepe Jeans", [25, 18]),
    ("Lacoste", "Lacoste Live", [25, 18]),
    ("Canon", "Canon EOS", [9]),
    ("Galaxy", "Galaxy Buds", [9]),
    ("Marshall", "Marshall Major", [9]),
]
# Policy collisions: brand-like words that are also prohibited-goods keywords.
COLLISIONS = [
    # word as a brand, categories where it cannot be the good, products (the
    # n-th product is listed in the n-th category, cycling)
    ("Dynamite", ["apparel/accessories", "apparel/clothing", "bags/handbags"],
     ["belt", "leather belt", "denim jacket", "crossbody bag", "wallet"]),
    ("Gin", ["electronics/audio", "electronics/phone-accessories", "bags/handbags"],
     ["headphones", "wireless earbuds", "phone case", "tote bag"]),
    ("Lager", ["bags/handbags", "apparel/accessories", "electronics/audio"],
     ["wallet", "card holder", "cap", "speaker"]),
    ("Vodka", ["apparel/clothing", "electronics/audio", "jewelry/jewelry"],
     ["hoodie", "t-shirt", "earbuds", "necklace"]),
    ("Tequila", ["apparel/shoes", "toys/toys", "beauty/cosmetics"],
     ["sneakers", "plush toy", "lip gloss"]),
    ("Whisky", ["apparel/clothing", "pets/supplies"],
     ["flannel shirt", "dog collar"]),
    ("Rum", ["beauty/fragrance", "apparel/accessories"],
     ["eau de parfum", "scarf"]),
    ("Firecracker", ["apparel/shoes", "sports/equipment"],
     ["running shoes", "yoga mat"]),
    ("Fireworks", ["apparel/clothing", "home/furniture"],
     ["graphic t-shirt", "cushion cover"]),
    ("Bomber", ["apparel/clothing"], ["jacket", "jacket men"]),
    ("Cannabis", ["apparel/clothing"], ["leaf print socks"]),
    ("Pistol", ["home/kitchen", "tools/hardware"], ["shrimp plush", "grip drill"]),
    ("Ecstasy", ["beauty/fragrance"], ["eau de parfum 100ml"]),
    ("Opium", ["beauty/fragrance"], ["eau de parfum 90ml"]),
    ("Cocaine", ["apparel/clothing"], ["t-shirt (band merch)"]),
    ("Viagra", ["apparel/clothing"], ["funny t-shirt"]),
    ("Beer", ["electronics/audio", "home/furniture"], ["bottle opener speaker", "pong table"]),
    ("Wine", ["home/kitchen", "apparel/clothing"], ["glasses set 6", "red dress"]),
    ("Vape", ["apparel/clothing"], ["nation t-shirt"]),
]


def h(s):
    return int(hashlib.sha256(s.encode("utf-8")).hexdigest()[:8], 16)


def split_of(key):
    return "test" if h(key) % 2 == 0 else "dev"


def strip(s):
    s = unicodedata.normalize("NFKD", s.casefold())
    return "".join(c for c in s if not unicodedata.combining(c))


def osa(a, b, cap):
    if abs(len(a) - len(b)) > cap:
        return cap + 1
    prev2, prev = None, list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            c = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + c)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[len(b)]


def deletes(w, k):
    out = {w}
    frontier = {w}
    for _ in range(k):
        nxt = set()
        for x in frontier:
            for i in range(len(x)):
                nxt.add(x[:i] + x[i + 1:])
        out |= nxt
        frontier = nxt
    return out


def read_lines(path):
    try:
        with open(path, encoding="utf-8", errors="ignore") as f:
            return [l.strip() for l in f if l.strip()]
    except FileNotFoundError:
        print(f"missing {path}", file=sys.stderr)
        return []


def hunspell(path):
    out = []
    for l in read_lines(path)[1:]:
        out.append(l.split("/")[0].split("\t")[0])
    return out


def word_sources(npm):
    en = json.load(open(os.path.join(npm, "an-array-of-english-words/index.json"))) \
        if os.path.exists(os.path.join(npm, "an-array-of-english-words/index.json")) else []
    if not en:
        p = os.path.join(npm, "an-array-of-english-words")
        for fn in sorted(os.listdir(p)):
            if fn.endswith(".json") and fn != "package.json":
                en = json.load(open(os.path.join(p, fn)))
                break
    idw = hunspell("/usr/share/hunspell/id_ID.dic")
    return {
        "en": en,
        "es": read_lines("/usr/share/dict/spanish"),
        "fr": read_lines("/usr/share/dict/french"),
        "de": read_lines("/usr/share/dict/ngerman"),
        "it": read_lines("/usr/share/dict/italian"),
        "pt": read_lines("/usr/share/dict/brazilian") + read_lines("/usr/share/dict/portuguese"),
        "id": idw,
        "ms": idw,
        "vi": hunspell("/usr/share/hunspell/vi_VN.dic"),
    }


FAKER_LOCALE = {"en": "en", "es": "es", "pt": "pt_BR", "fr": "fr", "de": "de", "it": "it",
                "id": "id_ID", "ms": "id_ID", "vi": "vi", "ru": "ru", "ar": "ar", "ko": "ko",
                "ja": "ja", "zh": "zh_CN", "th": "th"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--npm", default="/tmp/npmlex/node_modules")
    ap.add_argument("--fakerjs", default="/tmp/npmlex/fakerjs.json",
                    help="JSON dump of @faker-js/faker definitions (see README)")
    args = ap.parse_args()
    rnd = random.Random(SEED)
    base = [json.loads(l) for l in open(os.path.join(ROOT, "data/eval/text/rights.jsonl"))]
    fk = json.load(open(args.fakerjs))
    cls2cat = {}
    for cat, cl in BRAND_CLASSES.items():
        cls2cat.setdefault(tuple(cl), []).append(cat)

    def cat_of(r):
        return cls2cat.get(tuple(r["nice_classes"]), [None])[0]

    extra = []

    def mk_right(mark, classes, cat, idx, floor=None):
        slug = "".join(c for c in mark.lower() if c.isascii() and c.isalnum())[:30]
        r = {"id": f"hx-{idx:03d}-{slug}", "holder_id": f"holder-hx-{idx:03d}", "kind": "trademark",
             "mark": mark, "aliases": [], "nice_classes": classes, "regions": ["*"],
             "authorized_sellers": [f"shop-auth-hx-{idx:03d}"],
             "price_floor": {"amount": float(floor or rnd.randint(40, 300)), "currency": "USD"},
             "enabled": True, "created_at": "2026-01-01T00:00:00Z",
             "updated_at": "2026-01-01T00:00:00Z"}
        extra.append(r)
        return r

    taken = {r["mark"].casefold() for r in base}
    idx = 0
    desc_rights = []
    for mark, classes, cat, titles in DESCRIPTIVE:
        if mark.casefold() in taken:
            continue
        desc_rights.append((mk_right(mark, classes, cat, idx), cat, titles))
        idx += 1
    pairs = []
    by_mark = {r["mark"].casefold(): r for r in base}
    for short, long_, classes in OVERLAP_EXTRA:
        cat = cls2cat.get(tuple(classes), ["electronics/video-games"])[0]
        rs = by_mark.get(short.casefold()) or mk_right(short, classes, cat, idx)
        idx += 1
        rl = by_mark.get(long_.casefold()) or mk_right(long_, classes, cat, idx)
        idx += 1
        by_mark[short.casefold()] = rs
        by_mark[long_.casefold()] = rl
        pairs.append((rs, rl, cat))
    # Real pairs already in the registry (single holder each).
    def toks(m):
        return " " + " ".join("".join(ch if ch.isalnum() else " " for ch in m.lower()).split()) + " "
    for a in base:
        for b in base:
            if a is not b and toks(a["mark"]) in toks(b["mark"]) and is_latin(a["mark"]) \
                    and is_latin(b["mark"]) and set(a["nice_classes"]) & set(b["nice_classes"]):
                c = cat_of(b) or cat_of(a)
                if c:
                    pairs.append((a, b, c))
    rights = base + extra
    cases = []

    def add(label, family, split, listing, expect=None):
        listing.setdefault("id", f"h-{len(cases):05d}")
        listing.setdefault("shop_id", f"shop-{rnd.randint(1, 5000):04d}")
        c = {"label": label, "family": family, "split": split, "listing": listing}
        if expect:
            c["expect"] = expect
        cases.append(c)

    def price(amount):
        return {"amount": round(amount, 2), "currency": "USD"}

    # ---------- lexicon collisions: words and given names near a mark ----------
    latin = [r for r in rights if is_latin(r["mark"]) and cat_of(r)]
    marks = {}
    for r in latin:
        m = strip(r["mark"]).replace(" ", "")
        if len(m) >= 5 and m.isalpha() and m.isascii():
            marks.setdefault(m, []).append(r)
    all_marks = {strip(r["mark"]).replace(" ", "") for r in rights}
    index = {}
    for m in marks:
        for d in deletes(m, 2 if len(m) >= 9 else 1):
            index.setdefault(d, set()).add(m)

    def near(words):
        found = []
        seen = set()
        for w0 in sorted(set(words)):
            w = strip(w0)
            if not (4 <= len(w) <= 20) or not w.isalpha() or not w.isascii() or w in all_marks \
                    or w in seen:
                continue
            seen.add(w)
            cands = set()
            for d in deletes(w, 2 if len(w) >= 8 else 1):
                cands |= index.get(d, set())
            for m in sorted(cands):
                budget = 2 if len(m) >= 9 else 1
                if 1 <= osa(w, m, budget) <= budget:
                    found.append((w0, m))
        return found

    words = word_sources(args.npm)
    names = {}
    for lang, loc in FAKER_LOCALE.items():
        ns = set()
        for full in fk.get(loc, {}).get("first", []):
            for part in full.replace("-", " ").split():
                ns.add(part)
        names[lang] = sorted(ns)
    latin_names = sorted(set(names["en"]) | set(names["fr"]) | set(names["de"]) | set(names["it"]))

    def lex_title(w, r, lang):
        cat = cat_of(r)
        word = w[:1].upper() + w[1:]
        if lang == "en":
            p = rnd.choice(PRODUCTS.get(cat, ["t-shirt"]))
            return rnd.choice([f"{word} {p}", f"{p} {word}", f"{word} {p} new"])
        p = rnd.choice(PRODUCT_WORDS[lang])
        if lang in ("zh", "ja", "th"):
            return rnd.choice([f"{word} {p}", f"{p} {word}", f"{word}{p}"])
        return rnd.choice([f"{p} {word}", f"{word} {p}"])

    per_family = 80
    for lang in LANGS:
        for kind in ("word", "name"):
            if kind == "word":
                src = words.get(lang) or (words["en"] if lang in ("zh", "ja", "th", "ko", "ru", "ar")
                                          else [])
                if lang in ("zh", "ja", "th", "ko", "ru", "ar"):
                    # Latin words seen in these markets' listings: English.
                    src = words["en"]
            else:
                src = names[lang]
                if not any(is_latin(n) for n in src):
                    src = latin_names
            pool = near(src)
            if not pool:
                continue
            rnd.shuffle(pool)
            made = 0
            used = set()
            for w, m in pool:
                if made >= per_family:
                    break
                if (w, m) in used:
                    continue
                used.add((w, m))
                r = rnd.choice(marks[m])
                sp = split_of(f"lex|{strip(w)}")
                fl = r["price_floor"]["amount"]
                add("negative", f"lex/{kind}-{lang}", sp,
                    {"region": LANG_MARKET[lang] if r["regions"] == ["*"] else r["regions"][0],
                     "category": cat_of(r), "title": lex_title(w, r, lang),
                     "price": price(fl * rnd.uniform(0.9, 2.2))})
                made += 1
            # The same near words with a cue, or a brand claim and a very low
            # price: the near match must still be raised.
            for w, m in pool[per_family: per_family + 25]:
                r = rnd.choice(marks[m])
                sp = split_of(f"lex|{strip(w)}")
                fl = r["price_floor"]["amount"]
                t = lex_title(w, r, lang)
                lc = lang if lang in CUES else "en"
                if rnd.random() < 0.5:
                    add("positive", f"lexsig/cue-{lang}", sp,
                        {"region": LANG_MARKET[lang] if r["regions"] == ["*"] else r["regions"][0],
                         "category": cat_of(r), "title": f"{t} {rnd.choice(CUES[lc][:4])}",
                         "price": price(fl * rnd.uniform(0.9, 2.2))})
                else:
                    add("positive", f"lexsig/claim-{lang}", sp,
                        {"region": LANG_MARKET[lang] if r["regions"] == ["*"] else r["regions"][0],
                         "category": cat_of(r), "title": t, "brand": r["mark"],
                         "price": price(fl * rnd.uniform(0.05, 0.2))})

    # ---------- resale ----------
    solo = [r for r in latin if r in base and len(r["mark"]) >= 3
            and all(toks(r["mark"]) not in toks(o["mark"]) or o is r for o in rights)]
    for lang, phrases in RESALE.items():
        for i in range(40):
            r = rnd.choice(solo)
            cat = cat_of(r)
            sp = split_of(f"resale|{r['id']}")
            fl = r["price_floor"]["amount"]
            p = rnd.choice(PRODUCTS.get(cat, ["bag"])) if lang == "en" else \
                rnd.choice(PRODUCT_WORDS[lang])
            t = f"{r['mark']} {p} {rnd.choice(phrases)}"
            reg = LANG_MARKET[lang] if r["regions"] == ["*"] else r["regions"][0]
            # Second-hand goods sell below the new price: 30-120 % of the floor.
            add("negative", f"resale/genuine-{lang}", sp,
                {"region": reg, "category": cat, "title": t, "brand": r["mark"],
                 "price": price(fl * rnd.uniform(0.3, 1.2))}, expect="review")
            if i % 2 == 0:
                lc = lang if lang in CUES else "en"
                add("positive", f"resale/cue-{lang}", sp,
                    {"region": reg, "category": cat, "brand": r["mark"],
                     "title": f"{t} {rnd.choice(CUES[lc][:5])}",
                     "price": price(fl * rnd.uniform(0.55, 1.3))}, expect="reject")
            else:
                add("positive", f"resale/lowprice-{lang}", sp,
                    {"region": reg, "category": cat, "title": t, "brand": r["mark"],
                     "price": price(fl * rnd.uniform(0.04, 0.2))}, expect="reject")

    # ---------- Latin marks glued to CJK text ----------
    glue = {
        "zh": ["T恤", "T恤衫", "POLO衫", "运动鞋", "卫衣", "包包", "手表"],
        "ja": ["Tシャツ", "スニーカー", "パーカー", "バッグ", "腕時計"],
        "ko": ["T셔츠", "운동화", "후드티", "가방", "시계"],
    }
    plain = [r for r in solo if " " not in r["mark"] and r["mark"].isalpha()
             and len(r["mark"]) >= 4 and r["mark"].casefold() not in latin_names]
    for lang, prods in glue.items():
        for i in range(60):
            r = rnd.choice(plain)
            sp = split_of(f"cjk|{r['id']}")
            p = rnd.choice(prods)
            t = f"{r['mark']}{p}"
            if i % 3 == 0:
                t += " " + rnd.choice(CUES.get(lang, CUES["zh"])[:4])
            reg = LANG_MARKET[lang] if r["regions"] == ["*"] else r["regions"][0]
            add("positive", f"cjk/glued-{lang}", sp,
                {"region": reg, "category": cat_of(r), "title": t,
                 "price": price(r["price_floor"]["amount"] * rnd.uniform(0.9, 2.0))})

    # ---------- overlapping marks ----------
    for rs, rl, cat in pairs:
        sp = split_of(f"overlap|{rl['id']}")
        fl = rl["price_floor"]["amount"]
        p = rnd.choice(PRODUCTS.get(cat, ["t-shirt"]))
        for _ in range(3):
            add("negative", "overlap/longer-authorised", sp,
                {"region": "US", "category": cat, "title": f"{rl['mark']} {p}",
                 "brand": rl["mark"], "shop_id": rl["authorized_sellers"][0],
                 "price": price(fl * rnd.uniform(0.9, 1.6))})
        add("positive", "overlap/longer-unauthorised", sp,
            {"region": "US", "category": cat, "title": f"{rl['mark']} {p} replica",
             "price": price(fl * rnd.uniform(0.9, 1.6))})
        add("positive", "overlap/shorter-by-longer-shop", sp,
            {"region": "US", "category": cat, "title": f"{rs['mark']} {p}",
             "brand": rs["mark"], "shop_id": rl["authorized_sellers"][0],
             "price": price(rs["price_floor"]["amount"] * rnd.uniform(0.05, 0.2))})

    # ---------- descriptive marks ----------
    for r, cat, titles in desc_rights:
        sp = split_of(f"desc|{r['id']}")
        fl = r["price_floor"]["amount"]
        for t in titles:
            add("negative", "desc/generic-use", sp,
                {"region": rnd.choice(["US", "GB", "SG", "MY"]), "category": cat, "title": t,
                 "price": price(fl * rnd.uniform(0.1, 1.5))})
            add("positive", "desc/with-signal", sp,
                {"region": "US", "category": cat, "title": f"{t} {rnd.choice(CUES['en'][:6])}",
                 "brand": r["mark"], "price": price(fl * rnd.uniform(0.05, 0.2))})

    out = os.path.join(ROOT, "data/eval/text/hard")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "rights.jsonl"), "w", encoding="utf-8") as f:
        for r in extra:
            f.write(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n")
    with open(os.path.join(out, "cases.jsonl"), "w", encoding="utf-8") as f:
        for c in cases:
            f.write(json.dumps(c, ensure_ascii=False, sort_keys=True) + "\n")
    fams = {}
    for c in cases:
        fams.setdefault(c["family"], [0, 0])[c["split"] == "test"] += 1
    for k in sorted(fams):
        print(f"{k:32} dev {fams[k][0]:4} test {fams[k][1]:4}", file=sys.stderr)
    print(f"{len(extra)} extra rights, {len(cases)} cases -> {out}", file=sys.stderr)

    # ---------- policy collisions and CBD ----------
    pcases = []

    def padd(family, split, listing, expect):
        listing.setdefault("id", f"p-{len(pcases):05d}")
        listing.setdefault("shop_id", f"shop-{rnd.randint(1, 5000):04d}")
        pcases.append({"family": family, "split": split, "listing": listing, "expect": expect})

    markets = ["US", "GB", "DE", "FR", "SG", "MY", "ID", "PH", "TH", "VN", "JP", "BR", "MX"]
    for word, cats, prods in COLLISIONS:
        sp = split_of(f"collision|{word}")
        for cat, p in zip(cats * len(prods), prods):
            if True:
                for form in ("{w} {p}", "{p} by {w}"):
                    reg = rnd.choice(markets)
                    padd("policy/brand-collision", sp,
                         {"region": reg, "category": cat, "title": form.format(w=word, p=p),
                          "brand": word}, "approve")
    goods = [
        ("tools/hardware", "Dynamite sticks for mining, 10 pcs", "reject"),
        ("alcohol/beverages", "London dry gin 70cl", "reject"),
        ("alcohol/beverages", "Craft lager beer 24 cans", "reject"),
        ("food/beverages", "Premium vodka 1L bottle", "reject"),
        ("toys/toys", "Firecrackers 100 pack for new year", "reject"),
        ("apparel/accessories", "Real dynamite and detonator kit", "review"),
        ("electronics/audio", "Gin bottle 70cl and whisky set", "review"),
    ]
    for cat, title, exp in goods:
        sp = split_of(f"goods|{title}")
        for reg in ("US", "GB", "MY", "PH"):
            padd("policy/real-goods", sp, {"region": reg, "category": cat, "title": title}, exp)
    cbd_titles = ["CBD oil 1000mg full spectrum", "Cannabidiol gummies 25mg", "CBD balm for sore muscles",
                  "Hemp CBD tincture 30ml", "CBD vape oil"]
    cbd_cats = ["health/supplements", "beauty/skincare", "food/groceries"]
    for reg, exp in [("SG", "reject"), ("ID", "reject"), ("MY", "reject"), ("PH", "reject"),
                     ("VN", "reject")]:
        for t in cbd_titles:
            padd("policy/cbd-prohibited", split_of(f"cbd|{reg}|{t}"),
                 {"region": reg, "category": rnd.choice(cbd_cats), "title": t}, exp)
    pout = os.path.join(ROOT, "data/eval/policy")
    os.makedirs(pout, exist_ok=True)
    with open(os.path.join(pout, "cases.jsonl"), "w", encoding="utf-8") as f:
        for c in pcases:
            f.write(json.dumps(c, ensure_ascii=False, sort_keys=True) + "\n")
    print(f"{len(pcases)} policy cases -> {pout}", file=sys.stderr)


if __name__ == "__main__":
    main()
