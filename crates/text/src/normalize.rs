//! Text normalisation with an offset map back to the original.
//!
//! [`normalize`] turns listing text into a canonical form in which look-alike
//! spellings of a word collapse onto one string, and remembers for every byte
//! of that form which bytes of the original produced it. Matching runs on the
//! normalised text; evidence spans are mapped back with
//! [`Normalized::original_span`], so they always point at what the seller
//! actually wrote.
//!
//! # Steps, in order
//!
//! 1. **Default-ignorable characters** (zero-width space and joiners, soft
//!    hyphen, bidi controls, variation selectors, BOM, tag characters...) are
//!    removed. The next character is flagged [`Flags::INVISIBLE`].
//! 2. **NFKC** is applied per grapheme-like cluster (a base character and
//!    the combining marks after it): fullwidth `ＮＩＫＥ`, ligatures and
//!    mathematical letters become plain letters ([`Flags::COMPAT`]).
//!    `™ ℠ ® ©` are separators (NFKC would turn `™` into the letters `tm`).
//! 3. **Case folding** (`char::to_lowercase`) plus a few letters that have no
//!    decomposition: `ß→ss æ→ae œ→oe ø→o đ→d ł→l ı→i ð→d þ→th`.
//! 4. **Diacritics** are stripped from Latin, Greek and Cyrillic letters
//!    (`Nïkė → nike`, [`Flags::DIACRITIC`]). Marks in other scripts (Thai
//!    vowels and tones, Japanese voicing marks, Arabic harakat, Devanagari
//!    signs) are kept: they are part of the spelling there.
//! 5. **Confusable skeleton** (Unicode UTS #39, via `unicode-security`) for
//!    every non-ASCII character outside the CJK, kana, Hangul, Thai, Lao,
//!    Khmer, Myanmar, Arabic, Hebrew and Indic blocks, so Cyrillic `Guссi`
//!    reads `gucci` ([`Flags::HOMOGLYPH`]). ASCII is never skeletonised:
//!    UTS #39 maps `1→l` and `0→O`, which would destroy numbers. A word
//!    whose letters come from more than one of Latin, Greek, Cyrillic,
//!    Armenian and Cherokee is flagged [`Flags::MIXED_SCRIPT`].
//! 6. **Words**: letters, digits and combining marks form words; every other
//!    character (spaces, punctuation, symbols) separates them and each run of
//!    separators becomes one space. Apostrophes are removed (`Levi's →
//!    levis`). `. , : /` between two digits stay (`1:1`, `1.5`, `1/2`), so
//!    numbers and ratios survive.
//! 7. **Spelled-out words**: three or more single letters separated only by
//!    separator characters are joined: `N.I.K.E`, `N I K E`, `N-i-k-e`
//!    → `nike` ([`Flags::SEPARATOR`]). At least two of them must be real
//!    letters; the others may be leet characters (`N 1 K E`).
//! 8. **Leetspeak** ([`Flags::LEET`]) maps `0→o 1→i 3→e 4→a 5→s 7→t 8→b
//!    9→g @→a $→s !→i |→l`, but only inside a word that has at least three
//!    letters, and only where it cannot be a number:
//!    * a run of one or two such characters between two letters (`N1ke`,
//!      `Ch@nel`, `G00gle`);
//!    * a single digit or `$` at the start of a word, followed by letters
//!      that are not a unit of measure (`4didas`, `$upreme`; not `3pcs`,
//!      `4pack`).
//!
//!    Words without letters (`15`, `1:1`, `500`) and digits at the end of a
//!    word (`iPhone15`, `PS5`) are never touched. `1` becomes `i`; the matcher
//!    also tries `l` where a mark has one (`App1e`).
//! 9. **Repeated letters**: runs of three or more identical letters shrink to
//!    two (`Niiiike → niike`, [`Flags::REPETITION`]); the matcher treats a
//!    doubled letter where the mark has a single one as a repetition.
//!
//! The result is deterministic and idempotent on its own output
//! (`normalize(normalize(x).text()).text() == normalize(x).text()`, checked by a
//! property test), so keyword lists can be normalised with the same function
//! and matched against it.

use std::ops::Range;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::{decompose_canonical, is_combining_mark};

/// What normalisation did to produce a part of the normalised text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Flags(pub u16);

impl Flags {
    /// A non-ASCII character was replaced by its UTS #39 prototype.
    pub const HOMOGLYPH: Flags = Flags(1);
    /// A digit or symbol was read as a letter.
    pub const LEET: Flags = Flags(1 << 1);
    /// Single letters separated by punctuation or spaces were joined.
    pub const SEPARATOR: Flags = Flags(1 << 2);
    /// A run of three or more identical letters was shortened.
    pub const REPETITION: Flags = Flags(1 << 3);
    /// A diacritic was removed.
    pub const DIACRITIC: Flags = Flags(1 << 4);
    /// An invisible (default-ignorable) character was removed before this.
    pub const INVISIBLE: Flags = Flags(1 << 5);
    /// The word mixes letters of several scripts.
    pub const MIXED_SCRIPT: Flags = Flags(1 << 6);
    /// NFKC changed the character (fullwidth, ligature, math letters).
    pub const COMPAT: Flags = Flags(1 << 7);

    pub const NONE: Flags = Flags(0);

    pub fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0 && other.0 != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Human-readable names of the set flags, most telling first.
    pub fn names(self) -> Vec<&'static str> {
        const ORDER: [(Flags, &str); 8] = [
            (Flags::HOMOGLYPH, "homoglyph"),
            (Flags::MIXED_SCRIPT, "mixed script"),
            (Flags::INVISIBLE, "invisible characters"),
            (Flags::LEET, "leet"),
            (Flags::SEPARATOR, "separator"),
            (Flags::REPETITION, "repetition"),
            (Flags::DIACRITIC, "diacritics"),
            (Flags::COMPAT, "compatibility form"),
        ];
        ORDER
            .iter()
            .filter(|(f, _)| self.contains(*f))
            .map(|(_, n)| *n)
            .collect()
    }
}

impl std::ops::BitOr for Flags {
    type Output = Flags;
    fn bitor(self, rhs: Flags) -> Flags {
        Flags(self.0 | rhs.0)
    }
}

impl std::ops::BitOrAssign for Flags {
    fn bitor_assign(&mut self, rhs: Flags) {
        self.0 |= rhs.0;
    }
}

/// Normalised text and the map back to the original.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Normalized {
    text: String,
    /// For every byte of `text`: the original byte range that produced it.
    starts: Vec<u32>,
    ends: Vec<u32>,
    flags: Vec<u16>,
    original_len: usize,
}

impl Normalized {
    /// The normalised text: lower case, skeletonised, de-leeted, words
    /// separated by single spaces, no leading or trailing space.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Length in bytes of the original text.
    pub fn original_len(&self) -> usize {
        self.original_len
    }

    /// Maps a byte range of [`Normalized::text`] to the byte range of the
    /// original text that produced it. The result always lies on character
    /// boundaries of the original. Ranges are clamped to the text and widened
    /// to whole characters; an empty range maps to an empty range.
    pub fn original_span(&self, norm: Range<usize>) -> Range<usize> {
        let n = self.text.len();
        let mut s = norm.start.min(n);
        let mut e = norm.end.min(n).max(s);
        while s > 0 && !self.text.is_char_boundary(s) {
            s -= 1;
        }
        while e < n && !self.text.is_char_boundary(e) {
            e += 1;
        }
        if s == e {
            let p = if s < n {
                self.starts[s] as usize
            } else {
                self.original_len
            };
            return p..p;
        }
        let start = self.starts[s] as usize;
        let end = (self.ends[e - 1] as usize).max(start);
        start..end
    }

    /// The union of the flags of the normalised bytes in `norm`.
    pub fn flags(&self, norm: Range<usize>) -> Flags {
        let n = self.flags.len();
        let s = norm.start.min(n);
        let e = norm.end.min(n).max(s);
        Flags(self.flags[s..e].iter().fold(0, |a, b| a | b))
    }

    /// Per-byte flags of the normalised text.
    pub fn byte_flags(&self) -> &[u16] {
        &self.flags
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Letter,
    Digit,
    /// A symbol that may stand for a letter (`@ $ ! |`).
    Symbol,
    Sep,
    /// Removed.
    Drop,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Script {
    None,
    Latin,
    Greek,
    Cyrillic,
    Armenian,
    Cherokee,
}

#[derive(Debug, Clone, Copy)]
struct Unit {
    ch: char,
    start: u32,
    end: u32,
    flags: u16,
    kind: Kind,
    script: Script,
}

/// Normalises `input`; see the module documentation for the steps.
pub fn normalize(input: &str) -> Normalized {
    let units = to_units(input);
    let units = words(units);
    emit(input.len(), &units)
}

fn is_ignorable(c: char) -> bool {
    let u = c as u32;
    matches!(
        u,
        0x00AD
            | 0x034F
            | 0x061C
            | 0x115F..=0x1160
            | 0x17B4..=0x17B5
            | 0x180B..=0x180F
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x206F
            | 0x3164
            | 0xFE00..=0xFE0F
            | 0xFEFF
            | 0xFFA0
            | 0xFFF0..=0xFFF8
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0000..=0xE0FFF
    )
}

/// Scripts whose letters look like Latin ones; mixing them inside one word is
/// a spoofing signal.
fn script_of(c: char) -> Script {
    let u = c as u32;
    if c.is_ascii_alphabetic() {
        return Script::Latin;
    }
    match u {
        0x00C0..=0x024F
        | 0x0250..=0x02AF
        | 0x1E00..=0x1EFF
        | 0x2C60..=0x2C7F
        | 0xA720..=0xA7FF
        | 0xAB30..=0xAB6F
        | 0xFF21..=0xFF3A
        | 0xFF41..=0xFF5A => Script::Latin,
        0x0370..=0x03FF | 0x1F00..=0x1FFF => Script::Greek,
        0x0400..=0x052F | 0x1C80..=0x1C8F | 0x2DE0..=0x2DFF | 0xA640..=0xA69F => Script::Cyrillic,
        0x0531..=0x058F => Script::Armenian,
        0x13A0..=0x13FF | 0xAB70..=0xABBF => Script::Cherokee,
        _ => Script::None,
    }
}

/// Latin, Greek and Cyrillic letters (whose diacritics we strip).
fn is_lgc(c: char) -> bool {
    !matches!(
        script_of(c),
        Script::None | Script::Armenian | Script::Cherokee
    ) || {
        let u = c as u32;
        (0x0300..=0x036F).contains(&u)
    }
}

/// Blocks of scripts used for real text in our markets whose characters must
/// not be replaced by UTS #39 prototypes.
fn keep_script(c: char) -> bool {
    let u = c as u32;
    matches!(
        u,
        0x0590..=0x05FF
            | 0x0600..=0x06FF
            | 0x0750..=0x077F
            | 0x08A0..=0x08FF
            | 0x0900..=0x0DFF
            | 0x0E00..=0x0EFF
            | 0x1000..=0x109F
            | 0x1100..=0x11FF
            | 0x1780..=0x17FF
            | 0x2E80..=0x2FFF
            | 0x3040..=0x30FF
            | 0x3100..=0x9FFF
            | 0xA960..=0xA97F
            | 0xAC00..=0xD7FF
            | 0xF900..=0xFAFF
            | 0xFB50..=0xFDFF
            | 0xFE70..=0xFEFF
            | 0x20000..=0x3FFFF
    )
}

/// Characters of scripts written without spaces between words (Chinese,
/// Japanese, Thai, Lao, Khmer, Myanmar): a match there needs no word
/// boundary.
pub fn is_unspaced(c: char) -> bool {
    let u = c as u32;
    matches!(
        u,
        0x0E00..=0x0EFF
            | 0x1000..=0x109F
            | 0x1780..=0x17FF
            | 0x2E80..=0x2FFF
            | 0x3040..=0x30FF
            | 0x3100..=0x9FFF
            | 0xF900..=0xFAFF
            | 0x20000..=0x3FFFF
    )
}

fn special_fold(c: char) -> Option<&'static str> {
    Some(match c {
        'ß' | 'ẞ' => "ss",
        'æ' => "ae",
        'œ' => "oe",
        'ø' => "o",
        'đ' => "d",
        'ł' => "l",
        'ı' => "i",
        'ð' => "d",
        'þ' => "th",
        'ħ' => "h",
        'ŧ' => "t",
        _ => return None,
    })
}

fn classify(c: char) -> Kind {
    if c.is_alphabetic() || is_combining_mark(c) {
        Kind::Letter
    } else if c.is_numeric() {
        Kind::Digit
    } else if matches!(c, '@' | '$' | '!' | '|') {
        Kind::Symbol
    } else if matches!(
        c,
        '\'' | '\u{2019}' | '\u{02BC}' | '\u{2018}' | '`' | '\u{00B4}'
    ) {
        Kind::Drop
    } else {
        Kind::Sep
    }
}

fn push_unit(
    units: &mut Vec<Unit>,
    ch: char,
    start: usize,
    end: usize,
    flags: u16,
    script: Script,
) {
    let kind = classify(ch);
    if kind == Kind::Drop {
        return;
    }
    units.push(Unit {
        ch,
        start: start as u32,
        end: end as u32,
        flags,
        kind,
        script,
    });
}

/// Steps 1–5: one unit per output character, with its original span.
fn to_units(input: &str) -> Vec<Unit> {
    let mut units: Vec<Unit> = Vec::with_capacity(input.len());
    let mut pending: u16 = 0;
    let bytes = input.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b < 0x80 && bytes.get(i + 1).is_none_or(|&n| n < 0x80) {
            let c = b as char;
            let lc = c.to_ascii_lowercase();
            let script = if c.is_ascii_alphabetic() {
                Script::Latin
            } else {
                Script::None
            };
            push_unit(&mut units, lc, i, i + 1, pending, script);
            pending = 0;
            i += 1;
            continue;
        }
        // A non-ASCII cluster: a base and the combining marks after it.
        let rest = &input[i..];
        let mut chars = rest.char_indices();
        let Some((_, first)) = chars.next() else {
            break;
        };
        let mut end = i + first.len_utf8();
        if is_ignorable(first) {
            pending |= Flags::INVISIBLE.0;
            // The letter before it is marked too (`Golf\u{200B} Galaxy`).
            if let Some(last) = units.last_mut()
                && last.kind == Kind::Letter
            {
                last.flags |= Flags::INVISIBLE.0;
            }
            i = end;
            continue;
        }
        for (off, c) in chars {
            if is_combining_mark(c) || matches!(c, '\u{FF9E}' | '\u{FF9F}') {
                end = i + off + c.len_utf8();
            } else {
                break;
            }
        }
        if is_combining_mark(first)
            && let Some(last) = units.last_mut()
            && last.kind == Kind::Letter
            && is_lgc_or_ascii(last.ch)
        {
            // A stray mark (e.g. after an invisible character) on a Latin,
            // Greek or Cyrillic letter: a diacritic, dropped.
            last.flags |= Flags::DIACRITIC.0 | pending;
            last.end = end as u32;
            pending = 0;
            i = end;
            continue;
        }
        if is_combining_mark(first) || matches!(first, '\u{FF9E}' | '\u{FF9F}') {
            // A stray mark on anything else (after punctuation that is dropped, "コ`゙"):
            // a mark on nothing, dropped. Kept, it would join the letter before it on a
            // second pass ("ゴ"), so normalising would not be idempotent.
            i = end;
            continue;
        }
        let cluster = &input[i..end];
        if matches!(first, '™' | '℠' | '®' | '©') {
            push_unit(&mut units, ' ', i, end, pending, Script::None);
            pending = 0;
            i = end;
            continue;
        }
        let orig_script = script_of(first);
        let nfkc: String = cluster.nfkc().collect();
        let mut base_flags = pending;
        pending = 0;
        if nfkc.chars().ne(cluster.nfc()) {
            base_flags |= Flags::COMPAT.0;
        }
        let mut prev_lgc = units
            .last()
            .is_some_and(|u| u.kind == Kind::Letter && is_lgc_or_ascii(u.ch));
        for c2 in nfkc.chars() {
            if is_combining_mark(c2) && !units.last().is_some_and(|u| u.kind == Kind::Letter) {
                // A mark on a space or symbol (" \u{301}"): a mark on nothing, dropped.
                continue;
            }
            for lc in c2.to_lowercase() {
                fold_one(
                    lc,
                    i,
                    end,
                    base_flags,
                    orig_script,
                    &mut prev_lgc,
                    &mut units,
                );
                prev_lgc = units
                    .last()
                    .is_some_and(|u| u.kind == Kind::Letter && is_lgc_or_ascii(u.ch));
            }
        }
        i = end;
    }
    units
}

fn fold_one(
    lc: char,
    start: usize,
    end: usize,
    base_flags: u16,
    orig_script: Script,
    prev_lgc: &mut bool,
    units: &mut Vec<Unit>,
) {
    if lc.is_ascii() {
        *prev_lgc = lc.is_ascii_alphabetic();
        push_unit(units, lc, start, end, base_flags, orig_script);
        return;
    }
    if let Some(s) = special_fold(lc) {
        for c in s.chars() {
            push_unit(
                units,
                c,
                start,
                end,
                base_flags | Flags::DIACRITIC.0,
                orig_script,
            );
        }
        *prev_lgc = true;
        return;
    }
    if is_combining_mark(lc) {
        if *prev_lgc {
            if let Some(u) = units.last_mut() {
                u.flags |= Flags::DIACRITIC.0;
                u.end = u.end.max(end as u32);
            }
            return;
        }
        push_unit(units, lc, start, end, base_flags, orig_script);
        return;
    }
    let mut flags = base_flags;
    let mut buf = [char::default(); 4];
    let mut n = 0;
    if is_lgc(lc) {
        let mut stripped = false;
        decompose_canonical(lc, |d| {
            if is_combining_mark(d) {
                stripped = true;
            } else if n < buf.len() {
                buf[n] = d;
                n += 1;
            }
        });
        if stripped {
            flags |= Flags::DIACRITIC.0;
        }
        *prev_lgc = true;
    } else {
        buf[0] = lc;
        n = 1;
        *prev_lgc = false;
    }
    for &c in &buf[..n] {
        if c.is_ascii() || keep_script(c) {
            push_unit(units, c, start, end, flags, orig_script);
            continue;
        }
        let mut tmp = [0u8; 4];
        let s = c.encode_utf8(&mut tmp);
        let mut changed = false;
        let mut out = [char::default(); 8];
        let mut m = 0;
        for p in unicode_security::skeleton(s) {
            if m < out.len() {
                out[m] = p;
                m += 1;
            }
        }
        // Some capitals have Latin prototypes their small letters lack
        // (`В`→`B`, but `в` has none). Try the capital too, always starting
        // from the small letter so the result does not depend on case.
        if !out[..m].iter().all(char::is_ascii) {
            let mut up = c.to_uppercase();
            if let (Some(u), None) = (up.next(), up.next())
                && u != c
            {
                let mut tmp2 = [0u8; 4];
                let mut out2 = [char::default(); 8];
                let mut m2 = 0;
                for p in unicode_security::skeleton(u.encode_utf8(&mut tmp2)) {
                    if m2 < out2.len() {
                        out2[m2] = p;
                        m2 += 1;
                    }
                }
                if m2 > 0 && out2[..m2].iter().all(|p| p.is_ascii_alphanumeric()) {
                    out = out2;
                    m = m2;
                }
            }
        }
        if m != 1 || out[0] != c {
            changed = true;
        }
        for &p in &out[..m] {
            if is_combining_mark(p) && p != c {
                continue;
            }
            for q in p.to_lowercase() {
                let q = settle(q);
                let f = if changed && q.is_ascii() {
                    flags | Flags::HOMOGLYPH.0
                } else {
                    flags
                };
                push_unit(units, q, start, end, f, orig_script);
            }
        }
    }
}

/// A prototype, once lowercased, can have a prototype of its own (`△` has
/// `Δ`, whose small letter `δ` has `ẟ`): followed to the end, so that a
/// second pass over the output changes nothing.
fn settle(mut q: char) -> char {
    for _ in 0..4 {
        if q.is_ascii() || keep_script(q) {
            break;
        }
        let mut tmp = [0u8; 4];
        let mut sk = unicode_security::skeleton(q.encode_utf8(&mut tmp));
        let (Some(p), None) = (sk.next(), sk.next()) else {
            break;
        };
        let mut low = p.to_lowercase();
        let (Some(next), None) = (low.next(), low.next()) else {
            break;
        };
        if next == q || is_combining_mark(next) {
            break;
        }
        q = next;
    }
    q
}

/// Letters after a leading number that make it a quantity, not a word.
const UNITS: &[&str] = &[
    "pcs", "pc", "pack", "packs", "pk", "set", "sets", "inch", "inches", "lbs", "mah", "khz",
    "mhz", "ghz", "yrs", "years", "ply", "way", "ways", "pin", "pins", "fps", "day", "days", "hrs",
    "hours", "min", "mins", "pair", "pairs", "cups", "colors", "colours", "pieces", "piece", "xxl",
    "xxxl", "ton", "tons", "layer", "layers", "seater", "star", "stars", "door", "doors", "port",
    "ports", "sided", "row", "rows", "tier", "gang", "speed", "step", "bed", "person", "people",
    "man", "men", "kids", "kid", "legged", "wheel", "wheels", "cell", "core", "cores", "band",
    "axis", "pole", "line", "slot", "slots", "hole", "holes", "oz", "ml", "cm", "mm", "kg", "gb",
    "tb", "mb", "xl", "ft", "in", "lb", "th", "st", "nd", "rd", "hz", "mp",
];

fn leet_of(c: char) -> Option<char> {
    Some(match c {
        '0' => 'o',
        '1' => 'i',
        '3' => 'e',
        '4' => 'a',
        '5' => 's',
        '7' => 't',
        '8' => 'b',
        '9' => 'g',
        '@' => 'a',
        '$' => 's',
        '!' => 'i',
        '|' => 'l',
        _ => return None,
    })
}

fn is_ascii_letter(u: &Unit) -> bool {
    u.kind == Kind::Letter && u.ch.is_ascii_alphabetic()
}

fn is_wordish(u: &Unit) -> bool {
    matches!(u.kind, Kind::Letter | Kind::Digit | Kind::Symbol)
}

/// Steps 6–9 on the unit list; returns the units of the words, with `Sep`
/// units only as single word separators.
fn words(mut units: Vec<Unit>) -> Vec<Unit> {
    // Apostrophes go; `. , : /` between digits are part of the number.
    units.retain(|u| u.kind != Kind::Drop);
    for k in 1..units.len().saturating_sub(1) {
        if units[k].kind == Kind::Sep
            && matches!(units[k].ch, '.' | ',' | ':' | '/')
            && units[k - 1].kind == Kind::Digit
            && units[k + 1].kind == Kind::Digit
        {
            units[k].kind = Kind::Digit;
        }
    }
    // Tokens: maximal runs of word units.
    let mut tokens: Vec<Range<usize>> = Vec::new();
    let mut k = 0;
    while k < units.len() {
        if is_wordish(&units[k]) {
            let s = k;
            while k < units.len() && is_wordish(&units[k]) {
                k += 1;
            }
            tokens.push(s..k);
        } else {
            k += 1;
        }
    }
    // Mixed scripts.
    for t in &tokens {
        let mut seen = Script::None;
        let mut mixed = false;
        for u in &units[t.clone()] {
            if u.kind != Kind::Letter || u.script == Script::None {
                continue;
            }
            if seen == Script::None {
                seen = u.script;
            } else if seen != u.script {
                mixed = true;
            }
        }
        if mixed {
            for u in &mut units[t.clone()] {
                u.flags |= Flags::MIXED_SCRIPT.0;
            }
        }
    }
    // Spelled-out words: N.I.K.E, N I K E.
    let mut merged: Vec<Range<usize>> = Vec::with_capacity(tokens.len());
    let mut ti = 0;
    while ti < tokens.len() {
        let single = |t: &Range<usize>| {
            t.len() == 1 && {
                let u = &units[t.start];
                is_ascii_letter(u) || leet_of(u.ch).is_some()
            }
        };
        // A run starts and ends with a real letter; leet characters may
        // only stand inside it (`US 9 N I K E` keeps its `9`).
        let letter_tok = |t: &Range<usize>| t.len() == 1 && is_ascii_letter(&units[t.start]);
        let mut tj = ti;
        if letter_tok(&tokens[ti]) {
            // `t-shirt`, `x-ray`: a letter hyphenated to a word is a prefix,
            // not part of a spelled-out word.
            let prefix = |k: usize| {
                k + 1 < tokens.len()
                    && tokens[k + 1].len() > 1
                    && units[tokens[k].end..tokens[k + 1].start]
                        .iter()
                        .any(|u| u.ch == '-')
            };
            while tj + 1 < tokens.len() && single(&tokens[tj + 1]) && !prefix(tj + 1) {
                tj += 1;
            }
            while tj > ti && !letter_tok(&tokens[tj]) {
                tj -= 1;
            }
        }
        let letters = tokens[ti..=tj]
            .iter()
            .filter(|t| is_ascii_letter(&units[t.start]))
            .count();
        if tj >= ti + 2 && letters >= 2 {
            for t in &tokens[ti..=tj] {
                let u = &mut units[t.start];
                u.flags |= Flags::SEPARATOR.0;
                if let (Kind::Digit | Kind::Symbol, Some(l)) = (u.kind, leet_of(u.ch)) {
                    u.ch = l;
                    u.kind = Kind::Letter;
                    u.flags |= Flags::LEET.0;
                }
            }
            // Drop the separators between the letters.
            for w in tokens[ti..=tj].windows(2) {
                for u in &mut units[w[0].end..w[1].start] {
                    u.kind = Kind::Drop;
                }
            }
            merged.push(tokens[ti].start..tokens[tj].end);
            ti = tj + 1;
        } else {
            merged.push(tokens[ti].clone());
            ti += 1;
        }
    }
    // Leetspeak, then repeated letters, per word.
    let mut out: Vec<Unit> = Vec::with_capacity(units.len());
    for t in &merged {
        let word = &mut units[t.clone()];
        leet(word);
        if !word
            .iter()
            .any(|u| !matches!(u.kind, Kind::Drop | Kind::Symbol))
        {
            continue;
        }
        if !out.is_empty() {
            // One separator, spanning the original gap.
            let prev_end = out.last().map_or(0, |u| u.end);
            let next_start = word.first().map_or(prev_end, |u| u.start);
            out.push(Unit {
                ch: ' ',
                start: prev_end,
                end: next_start.max(prev_end),
                flags: 0,
                kind: Kind::Sep,
                script: Script::None,
            });
        }
        // Unmapped symbols inside a word and joined separators go; runs of
        // three or more equal letters shrink to two.
        let keep = |u: &Unit| !matches!(u.kind, Kind::Drop | Kind::Symbol);
        let mut k = 0;
        while k < word.len() {
            let u = word[k];
            if !keep(&u) {
                k += 1;
                continue;
            }
            // The run of equal kept units starting at k.
            let mut j = k + 1;
            let mut run = 1;
            let mut last = k;
            while j < word.len() {
                if !keep(&word[j]) {
                    j += 1;
                    continue;
                }
                if word[j].ch != u.ch {
                    break;
                }
                run += 1;
                last = j;
                j += 1;
            }
            if run >= 3 && u.kind == Kind::Letter && is_lgc_or_ascii(u.ch) {
                let mut a = u;
                a.flags |= Flags::REPETITION.0;
                out.push(a);
                // The second kept unit of the run, stretched over the rest.
                let second = (k + 1..=last).find(|&x| keep(&word[x])).unwrap_or(last);
                let mut b = word[second];
                b.flags |= Flags::REPETITION.0;
                for x in &word[second + 1..=last] {
                    if keep(x) {
                        b.flags |= x.flags;
                    }
                }
                b.end = word[last].end;
                out.push(b);
                k = last + 1;
            } else {
                out.push(u);
                k += 1;
            }
        }
    }
    out
}

fn is_lgc_or_ascii(c: char) -> bool {
    c.is_ascii_alphabetic() || is_lgc(c)
}

/// Step 8 on one word.
fn leet(word: &mut [Unit]) {
    // Mapping one run can give the next one the letters it needs; repeat to
    // a fixpoint so that normalising normalised text changes nothing.
    for _ in 0..word.len() {
        if !leet_pass(word) {
            break;
        }
    }
}

fn leet_pass(word: &mut [Unit]) -> bool {
    let mut changed = false;
    let letters = word.iter().filter(|u| is_ascii_letter(u)).count();
    if letters < 3 {
        return false;
    }
    let mut k = 0;
    while k < word.len() {
        if is_ascii_letter(&word[k]) || leet_of(word[k].ch).is_none() || word[k].kind == Kind::Drop
        {
            k += 1;
            continue;
        }
        let s = k;
        while k < word.len() && leet_of(word[k].ch).is_some() && !is_ascii_letter(&word[k]) {
            k += 1;
        }
        let run = s..k;
        let before = s > 0 && is_ascii_letter(&word[s - 1]);
        let after = k < word.len() && is_ascii_letter(&word[k]);
        let map = if before && after {
            run.len() <= 2
        } else if !before && s == 0 && after && run.len() == 1 {
            let c = word[s].ch;
            let rest: String = word[k..]
                .iter()
                .take_while(|u| is_ascii_letter(u))
                .map(|u| u.ch)
                .collect();
            (c.is_ascii_digit() || c == '$') && rest.len() >= 3 && !UNITS.contains(&rest.as_str())
        } else {
            false
        };
        if map {
            for u in &mut word[run] {
                if let Some(l) = leet_of(u.ch) {
                    u.ch = l;
                    u.kind = Kind::Letter;
                    u.flags |= Flags::LEET.0;
                    changed = true;
                }
            }
        }
    }
    changed
}

fn emit(original_len: usize, units: &[Unit]) -> Normalized {
    let mut text = String::with_capacity(units.len());
    let mut starts = Vec::with_capacity(units.len());
    let mut ends = Vec::with_capacity(units.len());
    let mut flags = Vec::with_capacity(units.len());
    for u in units {
        let before = text.len();
        text.push(u.ch);
        for _ in before..text.len() {
            starts.push(u.start);
            ends.push(u.end);
            flags.push(u.flags);
        }
    }
    Normalized {
        text,
        starts,
        ends,
        flags,
        original_len,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> String {
        normalize(s).text().to_string()
    }

    fn span_text<'a>(orig: &'a str, nz: &Normalized, needle: &str) -> &'a str {
        let p = nz.text().find(needle).expect("needle in normalised text");
        let r = nz.original_span(p..p + needle.len());
        &orig[r]
    }

    #[test]
    fn basics() {
        assert_eq!(n("  Hello,   World!! "), "hello world");
        assert_eq!(n(""), "");
        assert_eq!(n("knife sharpener"), "knife sharpener");
        assert_eq!(n("E-Cigarette"), "e cigarette");
        assert_eq!(n("Levi's 501"), "levis 501");
    }

    #[test]
    fn homoglyphs_and_mixed_script() {
        let s = "Gu\u{0441}\u{0441}i bag";
        let z = normalize(s);
        assert_eq!(z.text(), "gucci bag");
        let f = z.flags(0..5);
        assert!(f.contains(Flags::HOMOGLYPH));
        assert!(f.contains(Flags::MIXED_SCRIPT));
        assert_eq!(span_text(s, &z, "gucci"), "Gu\u{0441}\u{0441}i");
    }

    #[test]
    fn nfkc_case_diacritics_invisible() {
        assert_eq!(n("ＮＩＫＥ"), "nike");
        assert_eq!(n("Nïkė"), "nike");
        assert_eq!(n("Straße"), "strasse");
        let s = "Ni\u{200B}ke shoes";
        let z = normalize(s);
        assert_eq!(z.text(), "nike shoes");
        assert!(z.flags(0..4).contains(Flags::INVISIBLE));
        assert_eq!(span_text(s, &z, "nike"), "Ni\u{200B}ke");
        assert_eq!(n("Nike™ Air"), "nike air");
        assert_eq!(n("Ne\u{0301}e"), "nee");
    }

    #[test]
    fn leet_only_inside_words() {
        assert_eq!(n("N1ke"), "nike");
        assert_eq!(n("4didas"), "adidas");
        assert_eq!(n("Ch@nel"), "chanel");
        assert_eq!(n("$upreme"), "supreme");
        assert_eq!(n("G00gle"), "google");
        assert_eq!(n("iPhone 15 Pro"), "iphone 15 pro");
        assert_eq!(n("iPhone15"), "iphone15");
        assert_eq!(n("1:1 copy"), "1:1 copy");
        assert_eq!(n("size 1 1/2"), "size 1 1/2");
        assert_eq!(n("500ml 3pcs 4pack"), "500ml 3pcs 4pack");
        assert_eq!(n("$50 off!"), "50 off");
        assert_eq!(n("PS5 4K"), "ps5 4k");
        assert!(normalize("N1ke").flags(0..4).contains(Flags::LEET));
    }

    #[test]
    fn separators_and_repeats() {
        assert_eq!(n("N.I.K.E shoes"), "nike shoes");
        assert_eq!(n("N I K E"), "nike");
        assert_eq!(n("N-i-k-e"), "nike");
        assert_eq!(n("N 1 K E"), "nike");
        assert_eq!(n("a b"), "a b");
        assert_eq!(n("Niiiike"), "niike");
        assert_eq!(n("Gucci"), "gucci");
        let s = "N.I.K.E";
        let z = normalize(s);
        assert_eq!(z.original_span(0..4), 0..7);
        assert!(z.flags(0..4).contains(Flags::SEPARATOR));
        let s = "Niiiiike!";
        let z = normalize(s);
        assert_eq!(&s[z.original_span(0..z.text().len())], "Niiiiike");
    }

    #[test]
    fn other_scripts_survive() {
        assert_eq!(n("コピー品"), "コピー品");
        assert_eq!(n("ｺﾋﾟｰ品"), "コピー品");
        assert_eq!(n("高仿 1:1"), "高仿 1:1");
        assert_eq!(n("ของแท้ ราคาถูก"), "ของแท้ ราคาถูก");
        assert_eq!(n("نايك"), "نايك");
        assert_eq!(n("Найк"), normalize("Найк").text());
    }

    #[test]
    fn a_prototype_with_a_prototype_of_its_own_is_followed() {
        // `△` → `Δ` → `δ`, and `δ` → `ẟ`: one pass goes all the way, so a
        // second changes nothing (found by the idempotence property).
        for s in ["△", "δ", "Δ", "x△y"] {
            let once = normalize(s);
            assert_eq!(normalize(once.text()).text(), once.text(), "{s}");
        }
    }

    #[test]
    fn spans_map_back() {
        let s = "Silicone case für iPhone 15";
        let z = normalize(s);
        assert_eq!(span_text(s, &z, "fur"), "für");
        assert_eq!(span_text(s, &z, "iphone 15"), "iPhone 15");
        assert_eq!(z.original_span(0..0), 0..0);
        assert_eq!(z.original_span(1000..2000), s.len()..s.len());
    }
}
