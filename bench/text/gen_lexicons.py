#!/usr/bin/env python3
"""Builds the detector's per-language lexicons in crates/text/data/lexicon/.

    python3 -m venv /tmp/lexvenv && /tmp/lexvenv/bin/pip install wordfreq==3.1.1 faker==40.54.0
    /tmp/lexvenv/bin/python bench/text/gen_lexicons.py

For each language whose script separates words with spaces (fuzzy matching
only ever runs on such words), the lexicon holds

  * the most frequent words of the language (PyPI `wordfreq` 3.1.1,
    `top_n_list(lang, TOP_WORDS)`), and
  * the given names of the language's locales (PyPI `Faker` 40.54.0,
    `first_names` and, where the locale has them, romanised first names),

keeping words of 4 to 24 letters and no digits, normalised with the crate's
own normaliser (`cargo run -p shopshield-text --example normalize_lines`) so
a lexicon entry equals the token a listing produces. Chinese, Japanese and
Thai are written without spaces between words; they get no lexicon because
fuzzy matching never applies to them (their romanised given names go into
the `en` file's companion `names-cjk` section of `xx.txt`).

This list is for the detector. The evaluation corpus is built from other
packages (npm @faker-js/faker, Debian word lists; see data/eval/text/README.md).
"""

import os
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "crates/text/data/lexicon")
TOP_WORDS = 30000

# language -> Faker locales whose given names count as ordinary names there
LANGS = {
    "en": ["en_US", "en_GB", "en_IE", "en_NZ", "en_IN"],
    "es": ["es_ES", "es_MX", "es_AR", "es_CO", "es_CL"],
    "pt": ["pt_BR", "pt_PT"],
    "fr": ["fr_FR", "fr_CA", "fr_BE"],
    "de": ["de_DE", "de_AT", "de_CH"],
    "it": ["it_IT"],
    "id": ["id_ID"],
    "ms": [],
    "vi": ["vi_VN"],
    "ru": ["ru_RU"],
    "ar": ["ar_AA", "ar_SA"],
    "ko": ["ko_KR"],
    # Unspaced scripts: only their romanised given names (a Japanese seller
    # named "Haruka" writes it in Latin letters too).
    "xx": ["ja_JP", "zh_CN", "zh_TW", "th_TH"],
}


def names(locale):
    from faker import Faker
    f = Faker(locale)
    out = set()
    for prov in f.providers:
        for attr in ("first_names", "first_names_male", "first_names_female",
                     "first_romanized_names", "first_romanized_names_male",
                     "first_romanized_names_female"):
            v = getattr(prov, attr, None)
            if isinstance(v, dict):
                v = list(v.keys())
            if isinstance(v, (list, tuple)):
                out.update(x for x in v if isinstance(x, str))
    return out


def normalise(lines):
    p = subprocess.run(
        ["cargo", "run", "-q", "--release", "-p", "shopshield-text", "--example", "normalize_lines"],
        input="\n".join(lines) + "\n", capture_output=True, text=True, cwd=ROOT, check=True)
    return p.stdout.split("\n")[: len(lines)]


def keep(w):
    n = len(w)
    return 4 <= n <= 24 and all(c.isalpha() for c in w)


def main():
    import wordfreq
    os.makedirs(OUT, exist_ok=True)
    stats = []
    for lang, locales in LANGS.items():
        raw = set()
        if lang != "xx":
            raw.update(w for w in wordfreq.top_n_list(lang, TOP_WORDS) if keep(w))
        n_words = len(raw)
        nm = set()
        for loc in locales:
            for full in names(loc):
                for part in full.replace("-", " ").split():
                    if keep(part):
                        nm.add(part)
        raw |= nm
        raw = sorted(raw)
        norm = normalise(raw)
        final = sorted({n for n in norm if keep(n.replace(" ", "")) and " " not in n})
        with open(os.path.join(OUT, f"{lang}.txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(final) + "\n")
        stats.append((lang, n_words, len(nm), len(final)))
    for s in stats:
        print("%s: %d words, %d names, %d entries" % s, file=sys.stderr)


if __name__ == "__main__":
    main()
