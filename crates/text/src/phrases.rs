//! Counterfeit cues, nominative-use phrases, negations and filler words,
//! loaded from the per-language files in `data/cues/` (embedded at build
//! time), plus the common-word list in `data/words/`.

use std::ops::Range;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, MatchKind};

use crate::fxhash::FxSet;
use crate::normalize::normalize;

/// The per-language phrase files, by language code.
pub const LANGUAGE_FILES: &[(&str, &str)] = &[
    ("en", include_str!("../data/cues/en.txt")),
    ("es", include_str!("../data/cues/es.txt")),
    ("pt", include_str!("../data/cues/pt.txt")),
    ("fr", include_str!("../data/cues/fr.txt")),
    ("de", include_str!("../data/cues/de.txt")),
    ("it", include_str!("../data/cues/it.txt")),
    ("id", include_str!("../data/cues/id.txt")),
    ("ms", include_str!("../data/cues/ms.txt")),
    ("vi", include_str!("../data/cues/vi.txt")),
    ("th", include_str!("../data/cues/th.txt")),
    ("zh", include_str!("../data/cues/zh.txt")),
    ("ja", include_str!("../data/cues/ja.txt")),
    ("ko", include_str!("../data/cues/ko.txt")),
    ("ru", include_str!("../data/cues/ru.txt")),
    ("ar", include_str!("../data/cues/ar.txt")),
];

const WORDS_EN: &str = include_str!("../data/words/en.txt");
const WORDS_EXTRA: &str = include_str!("../data/words/extra.txt");
const DESCRIPTIVE: &str = include_str!("../data/words/descriptive.txt");

/// The per-language lexicons (frequent words and given names; see
/// `data/lexicon/README.md`), by language code: `n` sorted little-endian
/// `u32` fingerprints ([`lexicon_fingerprint`]) of the normalised words, then
/// `n` bytes, each word's Zipf frequency × 10 (given names at least 20). `xx`
/// holds the romanised given names of the Chinese, Japanese and Thai locales.
pub const LEXICON_FILES: &[(&str, &[u8])] = &[
    ("en", include_bytes!("../data/lexicon/en.bin")),
    ("es", include_bytes!("../data/lexicon/es.bin")),
    ("pt", include_bytes!("../data/lexicon/pt.bin")),
    ("fr", include_bytes!("../data/lexicon/fr.bin")),
    ("de", include_bytes!("../data/lexicon/de.bin")),
    ("it", include_bytes!("../data/lexicon/it.bin")),
    ("id", include_bytes!("../data/lexicon/id.bin")),
    ("ms", include_bytes!("../data/lexicon/ms.bin")),
    ("vi", include_bytes!("../data/lexicon/vi.bin")),
    ("ru", include_bytes!("../data/lexicon/ru.bin")),
    ("ar", include_bytes!("../data/lexicon/ar.bin")),
    ("ko", include_bytes!("../data/lexicon/ko.bin")),
    ("xx", include_bytes!("../data/lexicon/xx.bin")),
];

/// The 32-bit FNV-1a hash of a normalised word, as stored in the lexicons.
/// With about a million words stored, a word outside them collides with one
/// with probability ≈ 0.03 %.
pub fn lexicon_fingerprint(word: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in word.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// Bits of a fingerprint that pick its bucket in [`lexicon_buckets`].
const BUCKET_BITS: u32 = 14;

/// Per lexicon file (in the order of [`LEXICON_FILES`]), where each bucket
/// of fingerprints (their top [`BUCKET_BITS`] bits) starts: a lookup then
/// searches a few dozen entries of the embedded file instead of all of it
/// (64 KiB a file, built on first use).
fn lexicon_buckets() -> &'static [Vec<u32>] {
    static B: OnceLock<Vec<Vec<u32>>> = OnceLock::new();
    B.get_or_init(|| {
        LEXICON_FILES
            .iter()
            .map(|(_, bytes)| {
                let n = bytes.len() / 5;
                let mut start = vec![0u32; (1 << BUCKET_BITS) + 1];
                for c in bytes[..4 * n].chunks_exact(4) {
                    let fp = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
                    start[(fp >> (32 - BUCKET_BITS)) as usize + 1] += 1;
                }
                for i in 1..start.len() {
                    start[i] += start[i - 1];
                }
                start
            })
            .collect()
    })
}

/// The Zipf frequency × 10 of `word` (normalised, no spaces) in the lexicon
/// of one language (`code`, as in [`LEXICON_FILES`]), looked up in the
/// embedded file itself (no allocation after the first call).
pub fn lexicon_zipf_in(code: &str, word: &str) -> Option<u8> {
    let f = LEXICON_FILES.iter().position(|(c, _)| *c == code)?;
    let bytes = LEXICON_FILES[f].1;
    let n = bytes.len() / 5;
    let fp = lexicon_fingerprint(word);
    let bucket = (fp >> (32 - BUCKET_BITS)) as usize;
    let start = &lexicon_buckets()[f];
    let (mut lo, mut hi) = (start[bucket] as usize, start[bucket + 1] as usize);
    let at = |i: usize| {
        let b = &bytes[4 * i..4 * i + 4];
        u32::from_le_bytes([b[0], b[1], b[2], b[3]])
    };
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match at(mid).cmp(&fp) {
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
            std::cmp::Ordering::Equal => return bytes.get(4 * n + mid).copied(),
        }
    }
    None
}

/// The common-word and given-name lexicons of every supported language
/// written with spaces between words (`data/lexicon/`), merged.
#[derive(Debug)]
pub struct Lexicon {
    fps: Vec<u32>,
    /// Zipf frequency × 10 of the word at the same position of `fps`.
    zipf: Vec<u8>,
}

/// Zipf frequency × 10 from which a word is ordinary whatever mark it sits
/// near (2.0: about once in a million words of running text).
pub const ORDINARY_ZIPF: u8 = 20;

impl Lexicon {
    /// True if `word` (normalised, no spaces) is a common word or given name
    /// of a supported language (Zipf frequency ≥ 2.0, see [`ORDINARY_ZIPF`]),
    /// or in the common-word list of [`dictionary`]. Such a token is not a
    /// look-alike of a mark by edit distance alone.
    pub fn contains(&self, word: &str) -> bool {
        self.zipf(word).is_some_and(|z| z >= ORDINARY_ZIPF) || dictionary().contains(word)
    }

    /// The highest Zipf frequency × 10 of `word` (normalised, no spaces) in
    /// any supported language, if it is a word of one at all (rare words
    /// down to Zipf 1.0 are stored).
    pub fn zipf(&self, word: &str) -> Option<u8> {
        self.fps
            .binary_search(&lexicon_fingerprint(word))
            .ok()
            .and_then(|i| self.zipf.get(i).copied())
    }

    /// Number of distinct fingerprints.
    pub fn len(&self) -> usize {
        self.fps.len()
    }

    /// True if no lexicon is embedded.
    pub fn is_empty(&self) -> bool {
        self.fps.is_empty()
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PhraseKind {
    Cue(f64),
    Before,
    After,
    Neg,
    Fill,
    /// Resale wording ("pre-owned", "used", "authentic", "二手").
    Resale,
}

#[derive(Debug, Clone)]
pub struct Phrase {
    pub kind: PhraseKind,
    pub norm: String,
}

/// All phrases, matched in one pass.
#[derive(Debug)]
pub struct Phrases {
    ac: Option<AhoCorasick>,
    /// Phrase ids by normalised text.
    groups: Vec<Vec<usize>>,
    pub items: Vec<Phrase>,
    fill: FxSet<String>,
}

/// A phrase found in normalised text.
#[derive(Debug, Clone)]
pub struct PhraseHit {
    pub kind: PhraseKind,
    pub range: Range<usize>,
}

impl Phrases {
    fn parse() -> Phrases {
        let mut items = Vec::new();
        for (_, file) in LANGUAGE_FILES {
            for line in file.lines() {
                let line = line.trim_end_matches('\r');
                if line.trim().is_empty() || line.trim_start().starts_with('#') {
                    continue;
                }
                let mut parts = line.split('\t');
                let (Some(kind), Some(phrase)) = (parts.next(), parts.next()) else {
                    continue;
                };
                let weight = parts
                    .next()
                    .and_then(|w| w.trim().parse::<f64>().ok())
                    .unwrap_or(1.0)
                    .clamp(0.0, 1.0);
                let kind = match kind.trim() {
                    "cue" => PhraseKind::Cue(weight),
                    "before" => PhraseKind::Before,
                    "after" => PhraseKind::After,
                    "neg" => PhraseKind::Neg,
                    "fill" => PhraseKind::Fill,
                    "resale" => PhraseKind::Resale,
                    _ => continue,
                };
                let norm = normalize(phrase).text().to_string();
                if norm.is_empty() {
                    continue;
                }
                items.push(Phrase { kind, norm });
            }
        }
        let fill = items
            .iter()
            .filter(|p| p.kind == PhraseKind::Fill)
            .map(|p| p.norm.clone())
            .collect();
        let mut uniq: Vec<String> = items.iter().map(|p| p.norm.clone()).collect();
        uniq.sort();
        uniq.dedup();
        let mut groups = vec![Vec::new(); uniq.len()];
        for (i, p) in items.iter().enumerate() {
            if let Ok(g) = uniq.binary_search(&p.norm) {
                groups[g].push(i);
            }
        }
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&uniq)
            .ok();
        Phrases {
            ac,
            groups,
            items,
            fill,
        }
    }

    /// The built-in phrase set.
    pub fn builtin() -> &'static Phrases {
        static P: OnceLock<Phrases> = OnceLock::new();
        P.get_or_init(Phrases::parse)
    }

    pub fn is_fill(&self, token: &str) -> bool {
        self.fill.contains(token)
    }

    /// Every phrase occurrence in `t` (normalised text) on word boundaries.
    pub fn find(&self, t: &str) -> Vec<PhraseHit> {
        let mut out = Vec::new();
        let Some(ac) = &self.ac else {
            return out;
        };
        for m in ac.find_overlapping_iter(t) {
            let r = m.start()..m.end();
            if !boundary_ok(t, r.clone(), false) {
                continue;
            }
            for &i in &self.groups[m.pattern().as_usize()] {
                out.push(PhraseHit {
                    kind: self.items[i].kind,
                    range: r.clone(),
                });
            }
        }
        out
    }
}

/// Common lower-case words (SCOWL), for keeping ordinary words from matching
/// marks fuzzily and for recognising marks that are ordinary words.
pub fn dictionary() -> &'static FxSet<String> {
    static D: OnceLock<FxSet<String>> = OnceLock::new();
    D.get_or_init(|| {
        let mut d: FxSet<String> = WORDS_EN.lines().map(|w| w.trim().to_string()).collect();
        for line in WORDS_EXTRA.lines() {
            if line.trim_start().starts_with('#') {
                continue;
            }
            // Stored normalised (`größe` → `grosse`), as tokens are.
            d.extend(
                line.split_whitespace()
                    .map(|w| normalize(w).text().to_string()),
            );
        }
        d
    })
}

/// The merged lexicons, loaded once.
pub fn lexicon() -> &'static Lexicon {
    static L: OnceLock<Lexicon> = OnceLock::new();
    L.get_or_init(|| {
        let n: usize = LEXICON_FILES.iter().map(|(_, b)| b.len() / 5).sum();
        let mut all: Vec<(u32, u8)> = Vec::with_capacity(n);
        for (_, bytes) in LEXICON_FILES {
            let k = bytes.len() / 5;
            let (fps, zipf) = bytes.split_at(4 * k);
            all.extend(
                fps.chunks_exact(4)
                    .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .zip(zipf.iter().copied()),
            );
        }
        // One entry per fingerprint, with its highest frequency.
        all.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        all.dedup_by_key(|e| e.0);
        let (fps, zipf) = all.into_iter().unzip();
        Lexicon { fps, zipf }
    })
}

/// Category groups (the part of a taxonomy id before `/`, or `*`) and the
/// words that describe goods there (`data/words/descriptive.txt`), stored
/// normalised with spaces removed.
pub fn descriptive() -> &'static Vec<(String, FxSet<String>)> {
    static D: OnceLock<Vec<(String, FxSet<String>)>> = OnceLock::new();
    D.get_or_init(|| {
        let mut out: Vec<(String, FxSet<String>)> = Vec::new();
        for line in DESCRIPTIVE.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((group, words)) = line.split_once('\t') else {
                continue;
            };
            let set = words
                .split_whitespace()
                .map(|w| normalize(w).text().replace(' ', ""))
                .filter(|w| !w.is_empty())
                .collect();
            out.push((group.trim().to_string(), set));
        }
        out
    })
}

/// Letters of scripts written with spaces between words (Latin, Greek,
/// Cyrillic...) and digits: a match must not be glued to more of them.
pub fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || (c.is_alphanumeric() && !crate::normalize::is_unspaced(c))
}

/// Hangul syllables and jamo.
pub fn is_hangul(c: char) -> bool {
    matches!(c as u32, 0x1100..=0x11FF | 0x3130..=0x318F | 0xA960..=0xA97F | 0xAC00..=0xD7AF)
}

/// True if the match `r` in normalised text `t` starts and ends on word
/// boundaries. Matches that start or end with a character of an unspaced
/// script (Chinese, Japanese, Thai...) need no boundary on that side.
/// `strict` (short marks) also refuses a digit glued to a letter (`5hp`).
pub fn boundary_ok(t: &str, r: Range<usize>, strict: bool) -> bool {
    let (Some(first), Some(last)) = (t[r.clone()].chars().next(), t[r.clone()].chars().last())
    else {
        return false;
    };
    let prev = t[..r.start].chars().next_back();
    let next = t[r.end..].chars().next();
    side_ok(first, prev, strict) && side_ok(last, next, strict)
}

fn side_ok(edge: char, neighbour: Option<char>, strict: bool) -> bool {
    let Some(n) = neighbour else {
        return true;
    };
    if !is_word_char(edge) {
        return true;
    }
    if !is_word_char(n) {
        return true;
    }
    // Korean is written with spaces, but a Latin mark glued to Hangul
    // ("Nike운동화") is a change of script, which separates words as well.
    if is_hangul(edge) != is_hangul(n) {
        return true;
    }
    if strict {
        return false;
    }
    // A digit may touch a letter (`iphone15`, `15pro`), not another digit;
    // a letter may not touch a letter.
    edge.is_numeric() != n.is_numeric()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_every_language() {
        let p = Phrases::builtin();
        assert!(p.items.len() > 200);
        let cues: Vec<_> = p
            .find(normalize("Réplica AAA grade 高仿 コピー品 kw super").text())
            .into_iter()
            .filter(|h| matches!(h.kind, PhraseKind::Cue(_)))
            .collect();
        assert!(cues.len() >= 4, "{cues:?}");
        assert!(
            p.find("comfort")
                .iter()
                .all(|h| h.kind != PhraseKind::Before)
        );
        assert!(dictionary().contains("basics"));
    }

    #[test]
    fn boundaries() {
        assert!(!boundary_ok("basics", 1..6, false));
        assert!(boundary_ok("iphone15", 0..6, false));
        assert!(!boundary_ok("13m", 1..3, false));
        assert!(boundary_ok("耐克鞋", 0..6, false));
        assert!(!boundary_ok("5hp motor", 1..3, true));
    }
}
