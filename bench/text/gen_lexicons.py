#!/usr/bin/env python3
"""Builds the detector's per-language lexicons in crates/text/data/lexicon/.

    python3 -m venv /tmp/lexvenv && /tmp/lexvenv/bin/pip install wordfreq==3.1.1 faker==40.54.0
    /tmp/lexvenv/bin/python bench/text/gen_lexicons.py

For each language whose script separates words with spaces (fuzzy matching
only ever runs on such words), the lexicon holds

  * the language's words (PyPI `wordfreq` 3.1.1) with their Zipf
    frequencies: for the Latin-script languages every word of Zipf frequency
    >= MIN_ZIPF in the `large` word list (the `best` list where there is no
    `large` one); for Russian, Arabic and Korean the TOP_WORDS most frequent
    words;
  * the given names of the language's locales (PyPI `Faker` 40.54.0,
    `first_names` and, where the locale has them, romanised first names),

keeping words of 4 to 24 letters and no digits. The words are normalised
with the crate's own normaliser and stored as sorted 32-bit fingerprints
followed by one byte each, the Zipf frequency x 10 (given names at least
2.0) (`cargo run -p shopshield-text --example normalize_lines --
--fingerprint`), 5 bytes a word. Chinese, Japanese and Thai are written without spaces between
words and get no word lexicon, because fuzzy matching never applies to them;
the romanised given names of their locales go into `xx.bin`.

This list is for the detector. The evaluation corpus is built from other
packages (npm @faker-js/faker, Debian word lists; see data/eval/text/README.md).
"""

import math
import os
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "crates/text/data/lexicon")
TOP_WORDS = 30000
MIN_ZIPF = 1.0
# Words at or above this Zipf frequency are ordinary words whatever mark
# they sit near; rarer ones only near a mark not far more frequent than
# they are (crates/text/src/matcher.rs, `RARE_WORD_GAP`).
ORDINARY_ZIPF = 2.0
LATIN = {"en", "es", "pt", "fr", "de", "it", "id", "ms", "vi"}

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


def fingerprint(lines, out):
    p = subprocess.run(
        ["cargo", "run", "-q", "--release", "-p", "shopshield-text", "--example", "normalize_lines",
         "--", "--fingerprint", out],
        input="\n".join(lines) + "\n", capture_output=True, text=True, cwd=ROOT, check=True)
    return p.stderr.strip()


def keep(w):
    n = len(w)
    return 4 <= n <= 24 and all(c.isalpha() for c in w)


def main():
    import wordfreq
    os.makedirs(OUT, exist_ok=True)
    stats = []
    for lang, locales in LANGS.items():
        raw = {}
        if lang in LATIN:
            wl = "large" if lang in wordfreq.available_languages(wordlist="large") else "best"
            for w in wordfreq.get_frequency_dict(lang, wl):
                if keep(w):
                    z = wordfreq.zipf_frequency(w, lang, wl)
                    if z >= MIN_ZIPF:
                        raw[w] = z
        elif lang != "xx":
            # Frequencies read from the list itself (looking a Korean word
            # up would need the MeCab tokeniser).
            freqs = wordfreq.get_frequency_dict(lang, "best")
            for w in wordfreq.top_n_list(lang, TOP_WORDS):
                if keep(w) and freqs.get(w, 0.0) > 0.0:
                    raw[w] = round(math.log10(freqs[w]) + 9.0, 2)
        n_words = len(raw)
        nm = set()
        for loc in locales:
            for full in names(loc):
                for part in full.replace("-", " ").split():
                    if keep(part):
                        nm.add(part)
        # A given name is an ordinary word of the language, however rare.
        for w in nm:
            raw[w] = max(raw.get(w, 0.0), ORDINARY_ZIPF)
        lines = ["%s\t%.1f" % (w, raw[w]) for w in sorted(raw)]
        msg = fingerprint(lines, os.path.join(OUT, f"{lang}.bin"))
        stats.append((lang, n_words, len(nm), msg))
    for s in stats:
        print("%s: %d words, %d names; %s" % s, file=sys.stderr)


if __name__ == "__main__":
    main()
