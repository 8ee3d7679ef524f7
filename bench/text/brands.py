"""Real brand names from three npm packages, shared by the corpus and bench
generators.

Sources (fetched with `npm pack` into a cache directory, never committed):

* name-suggestion-index (BSD-3-Clause): brands of shops by shop type, with
  regions (`locationSet`) and localised names (`brand:ja`, `name:zh`...).
* simple-icons (CC0-1.0): brand names of software and technology companies,
  with aliases and localised names.
* @cspell/dict-companies (MIT): company names.

Everything here is deterministic: sources are read in sorted order.
"""

import glob
import json
import os
import subprocess
import tarfile
import unicodedata

PACKAGES = {
    "name-suggestion-index": "8.0.20260918",
    "simple-icons": "16.37.0",
    "@cspell/dict-companies": "3.2.14",
}

ISO = set(
    """AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP
KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ
NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ
TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW""".split()
)

# NSI shop type -> taxonomy category.
SHOP_CATEGORY = {
    "shoes": "apparel/shoes",
    "clothes": "apparel/clothing",
    "bag": "bags/handbags",
    "jewelry": "jewelry/jewelry",
    "watches": "jewelry/watches",
    "cosmetics": "beauty/cosmetics",
    "perfumery": "beauty/fragrance",
    "beauty": "beauty/skincare",
    "mobile_phone": "electronics/phones",
    "electronics": "electronics/audio",
    "computer": "electronics/computers",
    "sports": "sports/equipment",
    "toys": "toys/toys",
    "fashion_accessories": "apparel/accessories",
    "video_games": "electronics/video-games",
    "outdoor": "sports/equipment",
    "baby_goods": "toys/toys",
}

CATEGORY_NICE = {
    "apparel/clothing": [25],
    "apparel/shoes": [25],
    "apparel/accessories": [25, 26],
    "bags/handbags": [18],
    "bags/luggage": [18],
    "jewelry/jewelry": [14],
    "jewelry/watches": [14],
    "beauty/cosmetics": [3],
    "beauty/fragrance": [3],
    "beauty/skincare": [3],
    "electronics/phones": [9],
    "electronics/phone-accessories": [9],
    "electronics/audio": [9],
    "electronics/computers": [9],
    "electronics/video-games": [9, 28],
    "toys/toys": [28],
    "sports/equipment": [28],
    "home/kitchen": [21],
    "home/furniture": [20],
    "food/groceries": [29, 30],
    "food/beverages": [32],
    "health/supplements": [5],
    "automotive/parts": [12],
    "tools/hardware": [8],
    "pets/supplies": [18, 31],
}

# Registered classes per brand category (goods a brand typically covers).
BRAND_CLASSES = {
    "apparel/shoes": [25, 28],
    "apparel/clothing": [25, 18],
    "apparel/accessories": [25, 26, 18, 14],
    "bags/handbags": [18, 25],
    "jewelry/jewelry": [14],
    "jewelry/watches": [14],
    "beauty/cosmetics": [3],
    "beauty/fragrance": [3],
    "beauty/skincare": [3],
    "electronics/phones": [9],
    "electronics/audio": [9],
    "electronics/computers": [9],
    "electronics/video-games": [9, 28],
    "sports/equipment": [28, 25],
    "toys/toys": [28],
}

NON_LATIN_KEYS = ("brand:ja", "name:ja", "brand:zh", "name:zh", "brand:ko", "name:ko",
                  "brand:ru", "name:ru", "brand:th", "name:th", "brand:ar", "name:ar",
                  "brand:zh-Hans", "name:zh-Hans", "brand:zh-Hant", "name:zh-Hant")


def fetch(cache):
    """npm-pack the three packages into `cache` (once) and unpack them."""
    os.makedirs(cache, exist_ok=True)
    for name, version in PACKAGES.items():
        base = name.replace("@", "").replace("/", "-") + "-" + version
        target = os.path.join(cache, base)
        if os.path.isdir(target):
            continue
        tgz = os.path.join(cache, base + ".tgz")
        if not os.path.exists(tgz):
            subprocess.run(["npm", "pack", f"{name}@{version}", "--silent"], cwd=cache,
                           check=True, stdout=subprocess.DEVNULL)
        os.makedirs(target, exist_ok=True)
        with tarfile.open(tgz) as t:
            t.extractall(target, filter="data")
    return cache


def letters(s):
    return sum(1 for c in s if c.isalpha())


def is_latin(s):
    for c in s:
        if c.isalpha():
            try:
                if "LATIN" not in unicodedata.name(c):
                    return False
            except ValueError:
                return False
    return True


def regions_of(location_set):
    inc = (location_set or {}).get("include", [])
    out = set()
    for code in inc:
        if code == "001":
            return ["*"]
        c = str(code).upper()
        if c == "UK":
            c = "GB"
        if c in ISO:
            out.add(c)
    return sorted(out) if out else ["*"]


def nsi_brands(cache):
    path = glob.glob(os.path.join(cache, "name-suggestion-index-*/package/dist/json/nsi.json"))[0]
    nsi = json.load(open(path, encoding="utf-8"))["nsi"]
    out = []
    for key in sorted(nsi):
        if not key.startswith("brands/shop/"):
            continue
        shop = key.split("/")[2]
        cat = SHOP_CATEGORY.get(shop)
        for item in nsi[key]["items"]:
            tags = item.get("tags", {})
            brand = tags.get("brand")
            if not brand:
                continue
            aliases = sorted({tags[k] for k in NON_LATIN_KEYS if k in tags and tags[k] != brand})
            out.append({
                "name": brand,
                "aliases": aliases,
                "category": cat,
                "regions": regions_of(item.get("locationSet")),
                "source": "name-suggestion-index",
                "shop": shop,
            })
    return out


def simple_icons(cache):
    path = glob.glob(os.path.join(cache, "simple-icons-*/package/data/simple-icons.json"))[0]
    out = []
    for icon in json.load(open(path, encoding="utf-8")):
        al = icon.get("aliases", {})
        loc = sorted(set((al.get("loc") or {}).values()))
        out.append({
            "name": icon["title"],
            "aliases": [a for a in loc if not is_latin(a)],
            "category": "electronics/computers",
            "regions": ["*"],
            "source": "simple-icons",
        })
    return out


def cspell_companies(cache):
    path = glob.glob(os.path.join(cache, "cspell-dict-companies-*/package/dict/companies.txt"))[0]
    out = []
    for line in open(path, encoding="utf-8"):
        w = line.strip()
        if not w or w.startswith("#"):
            continue
        out.append({"name": w, "aliases": [], "category": "electronics/computers",
                    "regions": ["*"], "source": "@cspell/dict-companies"})
    return out


def all_brands(cache):
    fetch(cache)
    return nsi_brands(cache) + simple_icons(cache) + cspell_companies(cache)
