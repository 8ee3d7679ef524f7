#!/usr/bin/env python3
"""Generates the labelled text corpus in data/eval/text/ from real brand names.

    python3 bench/text/gen_corpus.py [--cache /tmp/shopshield-brands] [--out data/eval/text]

Deterministic: a fixed seed, sources read in sorted order. Writes
`rights.jsonl` (one registry right per line) and `cases.jsonl` (one
labelled listing per line: {"label", "family", "listing"}), then appends the
hand-written cases from bench/text/handwritten.jsonl.

Families (group/name); positives must not be approved, negatives must be:

  obf/*    obfuscated marks: homoglyph, leet, separator, hyphenation,
           repetition, diacritics, invisible, fullwidth, insertion, omission,
           keyboard, transposition, vowel, missing-space
  cue/*    exact marks with counterfeit cues in 12 languages
  claim/*  brand field claims the mark at an implausible price
  plain/*  exact mark, unauthorised seller (review-worthy)
  nonlatin/* marks in Japanese, Chinese, Korean, Cyrillic... with cues
  neg/*    honest hard negatives: compat (nominative use, many languages),
           generic (brand words used generically in other classes),
           near-word (ordinary words one edit from a mark), authorised,
           region (mark not registered there), plain (no mark at all)
"""

import argparse
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from brands import BRAND_CLASSES, CATEGORY_NICE, all_brands, is_latin, letters  # noqa: E402

SEED = 20261128
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

PRODUCTS = {
    "apparel/shoes": ["running shoes", "sneakers", "trainers", "basketball shoes", "slides",
                      "high top sneakers", "walking shoes", "football boots"],
    "apparel/clothing": ["hoodie", "t-shirt", "track jacket", "sweatpants", "polo shirt",
                         "windbreaker", "joggers", "denim jacket"],
    "apparel/accessories": ["cap", "belt", "beanie", "scarf", "bucket hat", "socks 3 pairs"],
    "bags/handbags": ["handbag", "tote bag", "shoulder bag", "wallet", "crossbody bag",
                      "backpack", "clutch"],
    "jewelry/jewelry": ["necklace", "bracelet", "earrings", "ring", "pendant"],
    "jewelry/watches": ["watch", "chronograph watch", "automatic watch", "smart watch"],
    "beauty/cosmetics": ["lipstick", "foundation", "eyeshadow palette", "mascara", "blush"],
    "beauty/fragrance": ["perfume 100ml", "eau de parfum", "cologne", "body mist"],
    "beauty/skincare": ["face serum", "moisturizer", "sunscreen SPF50", "cleanser"],
    "electronics/phones": ["smartphone 128GB", "phone 256GB", "mobile phone"],
    "electronics/audio": ["wireless earbuds", "headphones", "bluetooth speaker"],
    "electronics/computers": ["laptop", "keyboard", "mouse", "USB drive 64GB", "software license",
                              "webcam"],
    "electronics/video-games": ["controller", "game console", "gaming headset"],
    "sports/equipment": ["football", "yoga mat", "tennis racket", "gym bag", "dumbbells"],
    "toys/toys": ["building blocks", "doll", "action figure", "puzzle 1000 pieces"],
}

ATTRS = ["new", "2024", "white", "black", "size 42", "men", "women", "unisex", "original box",
         "fast shipping", "limited edition", "sale", "XL", "free gift", "red", "blue", "US 9",
         "premium", "classic", "with tags"]

# Counterfeit cue phrases per language, written for this corpus.
CUES = {
    "en": ["replica", "1:1 copy", "AAA grade", "mirror quality", "super copy", "dupe",
           "inspired by", "high copy", "knockoff", "fake", "master copy", "1:1 quality"],
    "es": ["réplica", "imitación", "copia exacta", "réplica AAA", "calidad espejo"],
    "pt": ["réplica", "cópia", "primeira linha", "réplica perfeita", "imitação"],
    "fr": ["réplique", "copie", "contrefaçon", "qualité miroir"],
    "de": ["Replik", "Kopie", "Fälschung", "1:1 Kopie", "Nachahmung"],
    "it": ["replica", "copia", "imitazione", "contraffatto"],
    "id": ["KW super", "kw premium", "tiruan", "replika", "non ori"],
    "ms": ["tiruan", "gred AAA", "first copy", "palsu"],
    "vi": ["hàng nhái", "hàng fake", "rep 1:1", "super fake", "like auth"],
    "th": ["ของปลอม", "งานก๊อป", "เลียนแบบ", "ก๊อปปี้"],
    "zh": ["高仿", "复刻", "1比1", "精仿", "A货", "莆田"],
    "ja": ["コピー品", "スーパーコピー", "N級品", "偽物", "レプリカ"],
}

GENERIC_PRODUCT = {
    "en": ["shoes", "bag", "watch", "shirt", "perfume"],
    "es": ["zapatillas", "bolso", "reloj", "camiseta", "perfume"],
    "pt": ["tênis", "bolsa", "relógio", "camiseta", "perfume"],
    "fr": ["baskets", "sac", "montre", "t-shirt", "parfum"],
    "de": ["Schuhe", "Tasche", "Uhr", "Hemd", "Parfüm"],
    "it": ["scarpe", "borsa", "orologio", "maglietta", "profumo"],
    "id": ["sepatu", "tas", "jam tangan", "kaos", "parfum"],
    "ms": ["kasut", "beg", "jam tangan", "baju", "minyak wangi"],
    "vi": ["giày", "túi xách", "đồng hồ", "áo thun", "nước hoa"],
    "th": ["รองเท้า", "กระเป๋า", "นาฬิกา", "เสื้อ", "น้ำหอม"],
    "zh": ["运动鞋", "包包", "手表", "T恤", "香水"],
    "ja": ["スニーカー", "バッグ", "腕時計", "Tシャツ", "香水"],
}

# Nominative phrases per language: (prefix, suffix) around the mark.
COMPAT = {
    "en": [("Silicone case for", "{model}"), ("Screen protector compatible with", "{model}"),
           ("Replacement strap for", "{model}"), ("Charger cable for", "{model}"),
           ("Shockproof cover fits", "{model}"), ("Works with", "{model} - wireless charger"),
           ("Tempered glass for", "{model}, 2 pack"), ("Leather band compatible with", "{model}")],
    "es": [("Funda de silicona para", "{model}"), ("Protector de pantalla compatible con", "{model}")],
    "pt": [("Capa de silicone para", "{model}"), ("Película compatível com", "{model}")],
    "fr": [("Coque pour", "{model}"), ("Chargeur compatible avec", "{model}")],
    "de": [("Hülle für", "{model}"), ("Ladekabel kompatibel mit", "{model}")],
    "it": [("Custodia per", "{model}"), ("Cavo compatibile con", "{model}")],
    "id": [("Casing untuk", "{model}"), ("Kabel charger cocok untuk", "{model}")],
    "vi": [("Ốp lưng cho", "{model}"), ("Cáp sạc dành cho", "{model}")],
    "th": [("เคสสำหรับ", "{model}")],
    "zh": [("适用于", "{model}手机壳")],
    "ja": [("", "{model}用 ケース"), ("", "{model} 対応 充電ケーブル")],
}

HOMO = {"a": "а", "c": "с", "e": "е", "o": "о", "p": "р", "x": "х", "y": "у", "i": "і",
        "j": "ј", "s": "ѕ", "A": "А", "B": "В", "C": "С", "E": "Е", "H": "Н", "K": "К",
        "M": "М", "O": "О", "P": "Р", "T": "Т", "X": "Х", "N": "Ν", "Z": "Ζ", "I": "І",
        "v": "ν", "u": "υ"}
LEET = {"a": ["4", "@"], "e": ["3"], "i": ["1", "!"], "o": ["0"], "s": ["5", "$"], "t": ["7"],
        "l": ["1"], "b": ["8"], "g": ["9"]}
DIAC = {"a": "áàâäã", "e": "éèêë", "i": "íìîï", "o": "óòôöõ", "u": "úùûü", "n": "ñ", "c": "ç",
        "y": "ÿ"}
KEYB = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]
INVIS = ["\u200b", "\u200c", "\u200d", "\u00ad", "\u2060", "\ufeff"]

MARKETS = ["US", "GB", "DE", "FR", "ES", "IT", "BR", "MX", "ID", "MY", "VN", "TH", "JP", "SG",
           "PH", "AU", "CA"]
LANG_MARKET = {"en": "US", "es": "ES", "pt": "BR", "fr": "FR", "de": "DE", "it": "IT",
               "id": "ID", "ms": "MY", "vi": "VN", "th": "TH", "zh": "SG", "ja": "JP"}
FLOOR = {"apparel/shoes": (60, 180), "apparel/clothing": (30, 120), "apparel/accessories": (20, 90),
         "bags/handbags": (150, 1500), "jewelry/jewelry": (80, 900), "jewelry/watches": (150, 5000),
         "beauty/cosmetics": (15, 60), "beauty/fragrance": (40, 180), "beauty/skincare": (20, 90),
         "electronics/phones": (200, 1000), "electronics/audio": (50, 350),
         "electronics/computers": (30, 1500), "electronics/video-games": (40, 500),
         "sports/equipment": (20, 150), "toys/toys": (15, 120)}


def load_words():
    path = os.path.join(ROOT, "crates/text/data/words/en.txt")
    return set(w.strip() for w in open(path, encoding="utf-8"))


def keyboard_neighbour(c, rnd):
    for r, row in enumerate(KEYB):
        k = row.find(c)
        if k >= 0:
            opts = [row[j] for j in (k - 1, k + 1) if 0 <= j < len(row)]
            for rr in (r - 1, r + 1):
                if 0 <= rr < len(KEYB):
                    opts += [KEYB[rr][j] for j in (k - 1, k) if 0 <= j < len(KEYB[rr])]
            return rnd.choice(opts)
    return None


def alpha_positions(s, inner=False):
    idx = [i for i, c in enumerate(s) if c.isalpha() and c.isascii()]
    if inner and len(idx) > 2:
        idx = idx[1:-1]
    return idx


def obfuscate(mark, family, rnd, words):
    """Returns an obfuscated spelling, or None if this family does not apply."""
    m = mark
    pos = alpha_positions(m)
    if not pos:
        return None
    if family == "homoglyph":
        cand = [i for i in pos if m[i] in HOMO]
        if not cand:
            return None
        for i in rnd.sample(cand, min(len(cand), rnd.choice([1, 1, 2]))):
            m = m[:i] + HOMO[m[i]] + m[i + 1:]
        return m
    if family == "leet":
        cand = [i for i in pos if m[i].lower() in LEET]
        if not cand:
            return None
        for i in rnd.sample(cand, min(len(cand), rnd.choice([1, 1, 2]))):
            m = m[:i] + rnd.choice(LEET[m[i].lower()]) + m[i + 1:]
        return m
    if family == "separator":
        w = m.replace(" ", "")
        if not (3 <= len(w) <= 8) or not w.isalpha():
            return None
        sep = rnd.choice([".", " ", "-", "_", "*", ". "])
        w = w.upper() if rnd.random() < 0.6 else w
        return sep.join(w)
    if family == "hyphenation":
        if " " in m or len(m) < 5:
            return None
        k = rnd.randint(2, len(m) - 2)
        return m[:k] + rnd.choice(["-", " ", "."]) + m[k:]
    if family == "repetition":
        i = rnd.choice(pos)
        return m[:i] + m[i] * rnd.choice([2, 3, 4]) + m[i + 1:]
    if family == "diacritics":
        cand = [i for i in pos if m[i].lower() in DIAC]
        if not cand:
            return None
        i = rnd.choice(cand)
        ch = rnd.choice(DIAC[m[i].lower()])
        ch = ch.upper() if m[i].isupper() else ch
        return m[:i] + ch + m[i + 1:]
    if family == "invisible":
        if len(m) < 3:
            return None
        i = rnd.randint(1, len(m) - 1)
        return m[:i] + rnd.choice(INVIS) + m[i:]
    if family == "fullwidth":
        return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in m)
    # Fuzzy families: only marks of 5+ letters.
    compact = m.replace(" ", "")
    if len(compact) < 5 or not compact.isalpha():
        return None
    inner = alpha_positions(m, inner=True)
    if family == "insertion":
        i = rnd.choice(inner)
        c = rnd.choice("aeioulnrst")
        out = m[:i] + c + m[i:]
    elif family == "omission":
        i = rnd.choice(inner)
        if m[i - 1] == m[i]:
            return None  # that is a repetition fix, not an omission
        out = m[:i] + m[i + 1:]
    elif family == "keyboard":
        i = rnd.choice(inner)
        n = keyboard_neighbour(m[i].lower(), rnd)
        if n is None:
            return None
        out = m[:i] + (n.upper() if m[i].isupper() else n) + m[i + 1:]
    elif family == "transposition":
        i = rnd.choice(inner[:-1] if len(inner) > 1 else inner)
        if i + 1 >= len(m) or m[i] == m[i + 1] or not m[i + 1].isalpha():
            return None
        out = m[:i] + m[i + 1] + m[i] + m[i + 2:]
    elif family == "vowel":
        cand = [i for i in inner if m[i].lower() in "aeiou"]
        if not cand:
            return None
        i = rnd.choice(cand)
        v = rnd.choice([x for x in "aeiou" if x != m[i].lower()])
        out = m[:i] + (v.upper() if m[i].isupper() else v) + m[i + 1:]
    elif family == "missing-space":
        if " " in m:
            out = m.replace(" ", "")
        else:
            out = m + rnd.choice(["shoes", "bag", "watch", "official", "store", "original"])
    else:
        raise ValueError(family)
    if out.lower().replace(" ", "") in words:
        return None  # an ordinary word: not a fair positive
    return out


def vocabulary():
    """Words of the generator's own product templates: a mark spelled like
    one ("Bluetooth", "Classic") would make every template listing a
    mention, which says nothing about the detector."""
    v = set()
    for group in list(PRODUCTS.values()) + [ATTRS] + list(GENERIC_PRODUCT.values()):
        for phrase in group:
            v.update(phrase.casefold().split())
    return v


def make_rights(brands, rnd, words, n_target=900):
    seen = set(vocabulary())
    chosen = []
    for b in brands:
        name = b["name"].strip()
        key = name.casefold()
        if key in seen or letters(name) < 3 or len(name) > 40:
            continue
        if not b.get("category") or b["category"] not in BRAND_CLASSES:
            continue
        if b["source"] == "@cspell/dict-companies" and (key in words or not name[0].isupper()):
            continue
        seen.add(key)
        chosen.append(b)
    # Keep every brand with non-Latin aliases, then a seeded sample of the rest.
    with_alias = [b for b in chosen if b["aliases"]]
    rest = [b for b in chosen if not b["aliases"]]
    rnd.shuffle(rest)
    chosen = with_alias + rest[: max(0, n_target - len(with_alias))]
    chosen.sort(key=lambda b: b["name"].casefold())
    rights = []
    for i, b in enumerate(chosen):
        lo, hi = FLOOR[b["category"]]
        slug = "".join(c for c in b["name"].lower() if c.isascii() and c.isalnum())[:30] or "x"
        rights.append({
            "id": f"tm-{i:04d}-{slug}",
            "holder_id": f"holder-{i:04d}",
            "kind": "trademark",
            "mark": b["name"],
            "aliases": b["aliases"][:4],
            "nice_classes": BRAND_CLASSES[b["category"]],
            "regions": b["regions"],
            "authorized_sellers": [f"shop-auth-{i:04d}"],
            "price_floor": {"amount": float(rnd.randint(lo, hi)), "currency": "USD"},
            "enabled": True,
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
            "_category": b["category"],
            "_source": b["source"],
        })
    return rights


def region_for(right, rnd):
    regs = right["regions"]
    if regs == ["*"]:
        return rnd.choice(MARKETS)
    return rnd.choice(regs)


class Corpus:
    def __init__(self, rnd):
        self.rnd = rnd
        self.cases = []

    def add(self, label, family, right, title, *, category=None, region=None, brand=None,
            price=None, shop=None, description=None):
        rnd = self.rnd
        listing = {
            "id": f"c-{len(self.cases):05d}",
            "shop_id": shop or f"shop-{rnd.randint(1, 5000):04d}",
            "region": region or (region_for(right, rnd) if right else rnd.choice(MARKETS)),
            "category": category or (right["_category"] if right else "apparel/clothing"),
            "title": title,
        }
        if description:
            listing["description"] = description
        if brand:
            listing["brand"] = brand
        if price is not None:
            listing["price"] = {"amount": round(price, 2), "currency": "USD"}
        self.cases.append({"label": label, "family": family, "listing": listing})


def title_with(mark_text, right, rnd, lang="en"):
    cat = right["_category"]
    if lang == "en":
        prod = rnd.choice(PRODUCTS[cat])
        attrs = rnd.sample(ATTRS, rnd.choice([0, 1, 2]))
        form = rnd.choice(["{m} {p} {a}", "{a} {m} {p}", "{m} {p}", "{p} {m} {a}"])
        return " ".join(form.format(m=mark_text, p=prod, a=" ".join(attrs)).split())
    prod = rnd.choice(GENERIC_PRODUCT[lang])
    if lang in ("zh", "ja", "th"):
        return rnd.choice([f"{mark_text} {prod}", f"{prod} {mark_text}", f"{mark_text}{prod}"])
    return rnd.choice([f"{prod} {mark_text}", f"{mark_text} {prod}"])


def honest_price(right, rnd):
    return right["price_floor"]["amount"] * rnd.uniform(0.9, 2.5)


def generate(rights, rnd, words):
    c = Corpus(rnd)
    latin = [r for r in rights if is_latin(r["mark"]) and letters(r["mark"]) >= 3]
    obf_families = ["homoglyph", "leet", "separator", "hyphenation", "repetition", "diacritics",
                    "invisible", "fullwidth", "insertion", "omission", "keyboard",
                    "transposition", "vowel", "missing-space"]
    for fam in obf_families:
        made, tries = 0, 0
        while made < 150 and tries < 5000:
            tries += 1
            r = rnd.choice(latin)
            mk = r["mark"]
            o = obfuscate(mk, fam, rnd, words)
            if o is None or o == mk:
                continue
            c.add("positive", f"obf/{fam}", r, title_with(o, r, rnd))
            made += 1
    for lang, cues in CUES.items():
        for _ in range(60):
            r = rnd.choice(latin)
            cue = rnd.choice(cues)
            t = title_with(r["mark"], r, rnd, lang)
            t = rnd.choice([f"{t} {cue}", f"{cue} {t}"])
            c.add("positive", f"cue/{lang}", r, t, region=LANG_MARKET[lang]
                  if r["regions"] == ["*"] else None)
    # Brand-field claims at implausible prices.
    for _ in range(300):
        r = rnd.choice(latin)
        prod = rnd.choice(PRODUCTS[r["_category"]])
        price = r["price_floor"]["amount"] * rnd.uniform(0.03, 0.2)
        c.add("positive", "claim/low-price", r, f"{prod} {rnd.choice(ATTRS)}", brand=r["mark"],
              price=price)
    # Plain unauthorised mentions (review).
    for _ in range(200):
        r = rnd.choice(latin)
        c.add("positive", "plain/mention", r, title_with(r["mark"], r, rnd),
              price=honest_price(r, rnd))
    # Non-Latin marks with cues.
    nl = [(r, a) for r in rights for a in r["aliases"] if not is_latin(a)]
    for _ in range(min(200, len(nl) * 3)):
        r, a = rnd.choice(nl)
        lang = rnd.choice(["zh", "ja", "th", "vi"])
        t = f"{a} {rnd.choice(GENERIC_PRODUCT[lang])} {rnd.choice(CUES[lang])}"
        c.add("positive", "nonlatin/cue", r, t)

    # ---- honest hard negatives ----
    phones = [r for r in latin if r["_category"] in ("electronics/phones", "electronics/computers",
                                                     "electronics/audio", "jewelry/watches")]
    for _ in range(900):
        r = rnd.choice(phones)
        lang = rnd.choice(list(COMPAT))
        pre, post = rnd.choice(COMPAT[lang])
        model = r["mark"] + rnd.choice(["", " 15", " 14 Pro", " S23", " Series 9", " 2", " Pro Max",
                                        " X", " 13 mini", " 12"])
        post = post.format(model=model)
        t = f"{pre} {post}".strip() if pre else post
        cat = ("electronics/phone-accessories" if r["_category"] != "jewelry/watches"
               else "jewelry/watches")
        c.add("negative", f"neg/compat-{lang}", r, t, category=cat, price=rnd.uniform(3, 30))
    generic = [r for r in rights if r["mark"].lower() in words]
    other_cats = {
        25: ["home/kitchen", "food/groceries", "home/furniture", "pets/supplies"],
        18: ["home/kitchen", "food/groceries", "toys/toys"],
        14: ["food/groceries", "home/kitchen", "apparel/clothing"],
        3: ["jewelry/jewelry", "food/groceries", "home/furniture", "toys/toys"],
        9: ["food/groceries", "home/kitchen", "jewelry/jewelry", "apparel/clothing"],
        28: ["food/groceries", "home/kitchen", "beauty/skincare"],
    }
    gen_templates = ["Fresh {w} {x}", "{W}-shaped earrings", "{W} pattern cushion cover",
                     "Handmade {w} necklace", "{W} print kitchen towel set", "Organic {w} snack 500g",
                     "{W} motif ceramic mug", "Vintage {w} decor", "{W} scented candle"]
    for _ in range(600 if generic else 0):
        r = rnd.choice(generic)
        w = r["mark"].lower()
        opts = [cat for cat in sorted({x for k in r["nice_classes"] for x in other_cats.get(k, [])})
                if not set(CATEGORY_NICE[cat]) & set(r["nice_classes"])]
        if not opts:
            continue
        t = rnd.choice(gen_templates).format(w=w, W=w.capitalize(), x=rnd.choice(["pie", "juice", "jam", "salad"]))
        c.add("negative", "neg/generic", r, t, category=rnd.choice(opts))
    # Ordinary words one edit from a mark, in the mark's own category.
    near = []
    for r in latin:
        m = r["mark"].lower()
        if " " in m or not m.isalpha():
            continue
        cands = set()
        for i in range(len(m) + 1):
            for ch in "abcdefghijklmnopqrstuvwxyz":
                cands.add(m[:i] + ch + m[i:])
                if i < len(m):
                    cands.add(m[:i] + ch + m[i + 1:])
            if i < len(m):
                cands.add(m[:i] + m[i + 1:])
        for w in sorted(cands):
            if w != m and w in words and len(w) >= 4:
                near.append((r, w))
    for _ in range(min(900, len(near) * 2)):
        r, w = rnd.choice(near)
        cat = r["_category"]
        prod = rnd.choice(PRODUCTS[cat])
        t = rnd.choice([f"{w.capitalize()} {prod}", f"{prod} {w}", f"{w} {prod} {rnd.choice(ATTRS)}"])
        c.add("negative", "neg/near-word", r, t)
    # Marks that share a word sequence with another right's mark ("Ubuntu" and
    # "Ubuntu MATE") belong to different holders here; an authorised seller
    # of one is not authorised for the other, so leave them out of these
    # negatives.
    def toks(m):
        return " " + " ".join("".join(ch if ch.isalnum() else " " for ch in m.lower()).split()) + " "
    all_t = [toks(r["mark"]) for r in rights]
    solo = [r for r in latin
            if sum(1 for t in all_t if toks(r["mark"]) in t or t in toks(r["mark"])) == 1]
    # Authorised sellers, even with the brand claimed and cheap.
    for _ in range(400):
        r = rnd.choice(solo)
        c.add("negative", "neg/authorised", r, title_with(r["mark"], r, rnd), brand=r["mark"],
              shop=r["authorized_sellers"][0], price=honest_price(r, rnd) * rnd.choice([1, 0.3]))
    # Marks registered only in some regions, listed elsewhere.
    regional = [r for r in solo if r["regions"] != ["*"]]
    for _ in range(400 if regional else 0):
        r = rnd.choice(regional)
        outside = [m for m in MARKETS if m not in r["regions"]]
        c.add("negative", "neg/region", r, title_with(r["mark"], r, rnd), brand=r["mark"],
              region=rnd.choice(outside))
    # Ordinary listings without any mark.
    for _ in range(1200):
        cat = rnd.choice(sorted(PRODUCTS))
        lang = rnd.choice(["en"] * 6 + list(GENERIC_PRODUCT))
        if lang == "en":
            words_ = [rnd.choice(PRODUCTS[cat])] + rnd.sample(ATTRS, rnd.choice([1, 2, 3]))
            rnd.shuffle(words_)
            t = " ".join(words_)
        else:
            t = f"{rnd.choice(GENERIC_PRODUCT[lang])} {rnd.choice(ATTRS)}"
        c.add("negative", "neg/plain", None, t, category=cat,
              price=rnd.uniform(5, 300))
    return c.cases


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", default="/tmp/shopshield-brands")
    ap.add_argument("--out", default=os.path.join(ROOT, "data/eval/text"))
    args = ap.parse_args()
    rnd = random.Random(SEED)
    words = load_words()
    brands = all_brands(args.cache)
    hand_rights = os.path.join(os.path.dirname(os.path.abspath(__file__)), "handwritten_rights.jsonl")
    hand_r = [json.loads(l) for l in open(hand_rights, encoding="utf-8") if l.strip()]
    taken = {h["mark"].casefold() for h in hand_r}
    brands = [b for b in brands if b["name"].strip().casefold() not in taken]
    rights = make_rights(brands, rnd, words)
    cases = generate(rights, rnd, words)
    hand = os.path.join(os.path.dirname(os.path.abspath(__file__)), "handwritten.jsonl")
    if os.path.exists(hand):
        for line in open(hand, encoding="utf-8"):
            line = line.strip()
            if line and not line.startswith("#"):
                cases.append(json.loads(line))
    rights.extend(hand_r)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "rights.jsonl"), "w", encoding="utf-8") as f:
        for r in rights:
            r = {k: v for k, v in r.items() if not k.startswith("_")}
            f.write(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n")
    with open(os.path.join(args.out, "cases.jsonl"), "w", encoding="utf-8") as f:
        for c in cases:
            f.write(json.dumps(c, ensure_ascii=False, sort_keys=True) + "\n")
    print(f"{len(rights)} rights, {len(cases)} cases -> {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
