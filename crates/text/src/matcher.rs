//! The mark matcher: finds registered word marks (and look-alikes of them)
//! in listings and turns what it finds into scored violations.
//!
//! Per field, the text is normalised ([`crate::normalize`]) and searched by
//!
//! * **exact** matching: one Aho–Corasick automaton over the normalised form
//!   of every mark and alias, with word-boundary checks for spaced scripts
//!   (none for Chinese, Japanese, Thai...). The normaliser has already undone
//!   homoglyphs, leetspeak, separators, invisible characters and diacritics,
//!   so those spellings match here and the method comes from what the
//!   normaliser did;
//! * **token windows**: each word, and each run of two or three words, with
//!   the spaces taken out, is looked up among the marks with their spaces
//!   taken out (`Ni ke`, `Adi-das`, `LouisVuitton`), among marks with
//!   repeated letters squashed (`Niike`), and with a leet `1` read as `l`;
//! * **fuzzy** matching, through a symmetric deletion index
//!   ([`crate::fuzzy`]): never a loop over the marks. The edit budget grows
//!   with the mark's length; marks shorter than 5 characters never match
//!   fuzzily, and ordinary words (the SCOWL list) never match fuzzily
//!   ("basics" is not "Asics");
//! * **glued words**: an exact match inside a longer word counts when the
//!   rest of the word is itself a word or a mark (`nikeshoes`) and the whole
//!   is not an ordinary word ("pineapple", "basics").
//!
//! Each mention is then scoped (region, Nice classes, authorised sellers),
//! checked for nominative use, and scored with cues, brand claim and price
//! (see [`crate::config::Weights`]).

use std::collections::BTreeMap;
use std::ops::Range;

use aho_corasick::{AhoCorasick, MatchKind};
use shopshield_model::{
    Action, Evidence, Listing, NiceClass, Region, RegionSet, Right, RightKind, Violation,
    ViolationType,
};
use unicode_normalization::UnicodeNormalization;

use crate::config::TextConfig;
use crate::fuzzy::{DeletionIndex, MAX_LEN, osa_distance};
use crate::fxhash::{FxMap, FxSet};
use crate::inflect;
use crate::normalize::{Flags, Normalized, normalize};
use crate::phrases::{
    PhraseHit, PhraseKind, Phrases, boundary_ok, descriptive, dictionary, is_hangul, is_word_char,
    lexicon,
};

/// Why a matcher could not be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BuildError {
    #[error("threshold {name} = {value} must lie in 0..=1, with review ≤ reject")]
    Threshold { name: &'static str, value: f64 },
    #[error("weight {name} = {value} must lie in 0..=1")]
    Weight { name: &'static str, value: f64 },
    #[error("the exact-match automaton could not be built: {0}")]
    Automaton(String),
}

/// The listing field a mention was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    Title,
    Description,
    Brand,
}

impl Field {
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Title => "title",
            Field::Description => "description",
            Field::Brand => "brand",
        }
    }
}

#[derive(Debug, Clone)]
struct RightInfo {
    id: String,
    regions: Vec<Region>,
    classes: Vec<NiceClass>,
    authorized: FxSet<String>,
    floor_usd: Option<f64>,
    /// NFC + lower case of each name, for telling "as registered" apart.
    folds: Vec<String>,
}

#[derive(Debug, Clone)]
struct Pattern {
    right: u32,
    /// The name as registered.
    name: String,
    norm: String,
    chars: Vec<char>,
    /// Spaced script (Latin, Cyrillic...): eligible for windows and fuzzy.
    spaced: bool,
    /// Three characters or fewer: strict boundaries.
    short: bool,
    /// An ordinary word (the mark "Apple").
    generic: bool,
    /// The mark's own Zipf frequency × 10 as a word (0 if it is none): a
    /// rare word near a far more frequent mark is likely its misspelling.
    zipf: u8,
    /// Category groups (`electronics`, `apparel`... or `*`) where the mark
    /// is a word that describes the goods ("Bluetooth" on a speaker).
    descriptive_in: Vec<String>,
}

/// One mention of a mark in one field.
#[derive(Debug, Clone)]
struct Hit {
    pat: u32,
    norm: Range<usize>,
    method: String,
    weight: f64,
    /// Spoofing (homoglyph, invisible characters): never nominative.
    spoof: bool,
    /// A mark that is an ordinary word, written plainly.
    generic: bool,
    /// Found by edit distance alone in a token that is itself a word or
    /// given name: [`LEX_NONE`], [`LEX_WORD`] or [`LEX_COMMON`].
    lexical: u8,
}

/// Not a word of the lexicons: an edit-distance hit counts on its own.
const LEX_NONE: u8 = 0;
/// A word or given name of a supported language, a regular inflection of an
/// ordinary one (`crate::inflect`), or a word written with its own
/// diacritics: counts next to a brand claim, a counterfeit cue or a price
/// under the floor.
const LEX_WORD: u8 = 1;
/// How much more frequent (Zipf × 10) than a rare word (Zipf 1.0–2.0) a mark
/// may be for that word still to count as an ordinary word near it.
const RARE_WORD_GAP: u8 = 15;
/// An English common word or common marketplace word: counts next to a brand
/// claim or a counterfeit cue.
const LEX_COMMON: u8 = 2;

/// Which kinds of word tokens deserve a fuzzy look in a listing: only those
/// that something in the listing could raise.
#[derive(Debug, Clone, Copy)]
struct LexicalOk {
    word: bool,
    common: bool,
}

/// Finds marks in listings. Build once per rights-registry version; screening
/// is read-only and may run on many threads at once.
#[derive(Debug)]
pub struct MarkMatcher {
    config: TextConfig,
    rights: Vec<RightInfo>,
    pats: Vec<Pattern>,
    ac: Option<AhoCorasick>,
    ac_groups: Vec<Vec<u32>>,
    /// Spaced marks with spaces removed → patterns.
    compact: FxMap<String, Vec<u32>>,
    /// Compact marks with runs of letters squashed → patterns.
    squash: FxMap<String, Vec<u32>>,
    /// Fuzzy keys (compact marks) and the patterns behind each.
    fuzzy_keys: Vec<(Vec<char>, Vec<u32>)>,
    index: DeletionIndex,
    /// First and last words of marks of 2 to 4 words, with a bit set for
    /// each word count: anchors for fuzzy matching of several words.
    first_words: FxMap<String, u8>,
    last_words: FxMap<String, u8>,
    /// Longest normalised spelling (with spaces), plus room for a few
    /// inserted characters and separators.
    max_window_bytes: usize,
    phrases: &'static Phrases,
}

fn fold(s: &str) -> String {
    if s.is_ascii() {
        let mut out = String::with_capacity(s.len());
        for w in s.split_ascii_whitespace() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.extend(w.chars().map(|c| c.to_ascii_lowercase()));
        }
        return out;
    }
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.nfc().flat_map(char::to_lowercase) {
        if c.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.push(c);
    }
    out
}

fn squash(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut last = None;
    for c in s.chars() {
        if Some(c) != last {
            out.push(c);
        }
        last = Some(c);
    }
    out
}

/// A word break between two adjacent characters of one space-separated
/// word: Latin letters or digits next to Chinese, Japanese, Thai or Korean.
fn script_break(a: char, b: char) -> bool {
    let cjk = |c: char| crate::normalize::is_unspaced(c) || is_hangul(c);
    (a.is_ascii_alphanumeric() && cjk(b)) || (cjk(a) && b.is_ascii_alphanumeric())
}

/// Runs of equal characters: (char, count).
fn runs(s: &[char]) -> Vec<(char, usize)> {
    let mut v: Vec<(char, usize)> = Vec::new();
    for &c in s {
        match v.last_mut() {
            Some((l, n)) if *l == c => *n += 1,
            _ => v.push((c, 1)),
        }
    }
    v
}

fn is_spaced_text(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c == ' ' || is_word_char(c))
}

const VOWELS: &str = "aeiouy";
const LEET_BYTES: &[u8] = b"01345789@$!|";

/// Reads every leet character of `s` as a letter (`1` as `one`), keeps
/// letters and digits, drops everything else, lower case.
fn decode_leet(s: &str, one: char) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let m = match c {
            '0' => 'o',
            '1' => one,
            '3' => 'e',
            '4' | '@' => 'a',
            '5' | '$' => 's',
            '7' => 't',
            '8' => 'b',
            '9' => 'g',
            '!' => 'i',
            '|' => 'l',
            c if c.is_alphanumeric() => c,
            _ => continue,
        };
        out.extend(m.to_lowercase());
    }
    out
}
const KEYBOARD: [&str; 3] = ["qwertyuiop", "asdfghjkl", "zxcvbnm"];

fn key_pos(c: char) -> Option<(i32, i32)> {
    KEYBOARD
        .iter()
        .enumerate()
        .find_map(|(r, row)| row.find(c).map(|col| (r as i32, col as i32)))
}

fn keyboard_neighbours(a: char, b: char) -> bool {
    match (key_pos(a), key_pos(b)) {
        (Some((r1, c1)), Some((r2, c2))) => {
            (r1 - r2).abs() <= 1 && (c1 - c2).abs() <= 1 && (r1, c1) != (r2, c2)
                || (r1 - r2).abs() == 1 && (c1 - c2) == 1 - 2 * (r1 - r2).signum().max(0)
        }
        _ => false,
    }
}

/// Describes a one-edit difference between the written word `w` and the
/// mark `m`.
fn describe_edit(w: &[char], m: &[char], d: usize) -> String {
    if d != 1 {
        return format!("edit distance {d}");
    }
    let kind = if w.len() == m.len() {
        match (0..w.len()).find(|&i| w[i] != m[i]) {
            Some(i) if i + 1 < w.len() && w[i] == m[i + 1] && w[i + 1] == m[i] => {
                "transposition".to_string()
            }
            Some(i) => {
                let (a, b) = (w[i], m[i]);
                if VOWELS.contains(a) && VOWELS.contains(b) {
                    "vowel swap".to_string()
                } else if keyboard_neighbours(a, b) {
                    "keyboard neighbour".to_string()
                } else {
                    "replacement".to_string()
                }
            }
            None => "replacement".to_string(),
        }
    } else if w.len() > m.len() {
        let i = (0..m.len()).find(|&i| w[i] != m[i]).unwrap_or(m.len());
        let ins = w[i];
        if (i > 0 && w[i - 1] == ins) || w.get(i + 1) == Some(&ins) {
            "repetition".to_string()
        } else {
            "insertion".to_string()
        }
    } else {
        "omission".to_string()
    };
    format!("edit distance 1 ({kind})")
}

/// A listing's title, description and brand, normalised once and shared by
/// every stage that matches on normalised text.
#[derive(Debug, Clone, Default)]
pub struct NormalizedFields {
    pub title: Option<Normalized>,
    pub description: Option<Normalized>,
    pub brand: Option<Normalized>,
}

impl NormalizedFields {
    pub fn new(listing: &Listing) -> NormalizedFields {
        let f = |s: Option<&str>| s.filter(|s| !s.is_empty()).map(normalize);
        NormalizedFields {
            title: f(Some(listing.title.as_str())),
            description: f(listing.description.as_deref()),
            brand: f(listing.brand.as_deref()),
        }
    }

    fn get(&self, field: Field) -> Option<&Normalized> {
        match field {
            Field::Title => self.title.as_ref(),
            Field::Description => self.description.as_ref(),
            Field::Brand => self.brand.as_ref(),
        }
    }
}

impl MarkMatcher {
    /// Builds the matcher from the registry's rights. Only enabled rights are
    /// used: trademarks, and logos that carry a word mark. The result does not
    /// depend on the order of `rights`.
    pub fn build(rights: &[Right], config: &TextConfig) -> Result<MarkMatcher, BuildError> {
        check_config(config)?;
        let mut selected: Vec<&Right> = rights
            .iter()
            .filter(|r| {
                r.enabled
                    && match r.kind {
                        RightKind::Trademark => true,
                        RightKind::Logo => r.mark.is_some() || !r.aliases.is_empty(),
                        RightKind::CopyrightImage | RightKind::CopyrightVideo => false,
                    }
            })
            .collect();
        selected.sort_by(|a, b| {
            a.id.cmp(&b.id)
                .then_with(|| a.mark.cmp(&b.mark))
                .then_with(|| a.aliases.cmp(&b.aliases))
        });
        let dict = dictionary();
        let mut infos = Vec::with_capacity(selected.len());
        let mut pats: Vec<Pattern> = Vec::new();
        for r in selected {
            let ri = infos.len() as u32;
            // The mark first, then the aliases, as registered.
            let mut names: Vec<&str> = Vec::new();
            for n in r.names() {
                if !names.contains(&n) {
                    names.push(n);
                }
            }
            let mut seen = FxSet::default();
            for name in &names {
                let z = normalize(name);
                let norm = z.text().to_string();
                if norm.is_empty() || norm.len() > 400 || !seen.insert(norm.clone()) {
                    continue;
                }
                let spaced = is_spaced_text(&norm);
                let compact: String = norm.chars().filter(|c| *c != ' ').collect();
                let chars: Vec<char> = compact.chars().collect();
                let descriptive_in = descriptive()
                    .iter()
                    .filter(|(_, words)| words.contains(compact.as_str()))
                    .map(|(g, _)| g.clone())
                    .collect();
                pats.push(Pattern {
                    right: ri,
                    name: name.to_string(),
                    zipf: lexicon().zipf(&compact).unwrap_or(0),
                    descriptive_in,
                    short: chars.len() <= 3,
                    generic: dict.contains(compact.as_str())
                        || norm.split(' ').all(|w| dict.contains(w)),
                    spaced,
                    chars,
                    norm,
                });
            }
            let mut classes = r.nice_classes.clone();
            classes.sort_unstable();
            classes.dedup();
            infos.push(RightInfo {
                id: r.id.clone(),
                regions: r.regions.clone(),
                classes,
                authorized: r.authorized_sellers.iter().cloned().collect(),
                floor_usd: r.price_floor.as_ref().and_then(|m| config.fx.to_usd(m)),
                folds: names.iter().map(|n| fold(n)).collect(),
            });
        }
        // Exact automaton over unique normalised names, in first-seen order
        // (deterministic: patterns come in right-id order).
        let mut uniq: Vec<&str> = Vec::new();
        let mut uniq_ix: FxMap<&str, u32> = FxMap::default();
        let mut ac_groups: Vec<Vec<u32>> = Vec::new();
        let mut compact: FxMap<String, Vec<u32>> = FxMap::default();
        let mut squashed: FxMap<String, Vec<u32>> = FxMap::default();
        let mut fuzzy_ix: FxMap<&[char], u32> = FxMap::default();
        let mut fuzzy_keys: Vec<(Vec<char>, Vec<u32>)> = Vec::new();
        let mut first_words: FxMap<String, u8> = FxMap::default();
        let mut last_words: FxMap<String, u8> = FxMap::default();
        for (i, p) in pats.iter().enumerate() {
            let g = *uniq_ix.entry(p.norm.as_str()).or_insert_with(|| {
                uniq.push(p.norm.as_str());
                ac_groups.push(Vec::new());
                (uniq.len() - 1) as u32
            });
            ac_groups[g as usize].push(i as u32);
            if !p.spaced {
                continue;
            }
            let mut words = p.norm.split(' ');
            let n_words = p.norm.matches(' ').count() + 1;
            if (2..=4).contains(&n_words) {
                let bit = 1u8 << n_words;
                if let Some(w0) = words.next() {
                    *first_words.entry(w0.to_string()).or_default() |= bit;
                }
                if let Some(wl) = p.norm.rsplit(' ').next() {
                    *last_words.entry(wl.to_string()).or_default() |= bit;
                }
            }
            let c: String = p.chars.iter().collect();
            let sq = squash(&c);
            if sq != c {
                squashed.entry(sq).or_default().push(i as u32);
            } else {
                squashed.entry(c.clone()).or_default().push(i as u32);
            }
            compact.entry(c).or_default().push(i as u32);
            if config.fuzzy.budget(p.chars.len()) > 0 && p.chars.len() <= MAX_LEN {
                let k = *fuzzy_ix.entry(&p.chars).or_insert_with(|| {
                    fuzzy_keys.push((p.chars.clone(), Vec::new()));
                    (fuzzy_keys.len() - 1) as u32
                });
                fuzzy_keys[k as usize].1.push(i as u32);
            }
        }
        // The automaton and the deletion index are independent: build them
        // on two threads.
        let budgets: Vec<(Vec<char>, usize)> = fuzzy_keys
            .iter()
            .map(|(k, _)| (k.clone(), config.fuzzy.budget(k.len())))
            .collect();
        let (ac, index) = std::thread::scope(|sc| {
            let index = sc.spawn(|| DeletionIndex::build(&budgets));
            let ac = if uniq.is_empty() {
                Ok(None)
            } else {
                AhoCorasick::builder()
                    .match_kind(MatchKind::Standard)
                    .build(&uniq)
                    .map(Some)
                    .map_err(|e| BuildError::Automaton(e.to_string()))
            };
            // A panic in the index builder is a bug; surface it as such.
            let index = index
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p));
            (ac, index)
        });
        let ac = ac?;
        let max_window_bytes = pats.iter().map(|p| p.norm.len()).max().unwrap_or(0) * 2 + 8;
        Ok(MarkMatcher {
            config: config.clone(),
            rights: infos,
            pats,
            ac,
            ac_groups,
            compact,
            squash: squashed,
            fuzzy_keys,
            index,
            first_words,
            last_words,
            max_window_bytes,
            phrases: Phrases::builtin(),
        })
    }

    /// The configuration the matcher was built with.
    pub fn config(&self) -> &TextConfig {
        &self.config
    }

    /// Number of distinct mark spellings (marks and aliases) indexed.
    pub fn pattern_count(&self) -> usize {
        self.pats.len()
    }

    /// The gate's action for a combined score: `reject` at or above
    /// `config.reject`, `review` at or above `config.review`, else `approve`.
    pub fn score_to_action(&self, score: f64) -> Action {
        score_to_action(&self.config, score)
    }

    /// Screens one listing. `category_nice` are the Nice classes of the
    /// listing's category (empty if unknown: then classes do not limit).
    /// Returns one violation per infringed right, sorted by right id.
    pub fn screen(&self, listing: &Listing, category_nice: &[NiceClass]) -> Vec<Violation> {
        self.screen_normalized(listing, category_nice, &NormalizedFields::new(listing))
    }

    /// [`MarkMatcher::screen`] with the listing's fields already normalised
    /// (by [`NormalizedFields::new`]), so other stages can share the work.
    pub fn screen_normalized(
        &self,
        listing: &Listing,
        category_nice: &[NiceClass],
        norms: &NormalizedFields,
    ) -> Vec<Violation> {
        let mut acc: BTreeMap<u32, Acc> = BTreeMap::new();
        let mut cues: Vec<(String, f64)> = Vec::new();
        let fields: [(Field, Option<&str>); 3] = [
            (Field::Title, Some(listing.title.as_str())),
            (Field::Description, listing.description.as_deref()),
            (Field::Brand, listing.brand.as_deref()),
        ];
        let mut scanned: Vec<Scanned> = Vec::new();
        let mut resale = false;
        // Phrases first: cues decide whether tokens that are common words
        // deserve a fuzzy look at all.
        for (field, text) in fields {
            let Some(text) = text else { continue };
            if text.is_empty() {
                continue;
            }
            let Some(z) = norms.get(field).cloned() else {
                continue;
            };
            let phr = if field == Field::Brand {
                Vec::new()
            } else {
                self.phrases.find(z.text())
            };
            if field != Field::Brand {
                for c in self.cues_in(text, &z, &phr) {
                    if !cues.iter().any(|(t, _)| *t == c.0) {
                        cues.push(c);
                    }
                }
                resale |= phr.iter().any(|p| p.kind == PhraseKind::Resale);
            }
            scanned.push((field, text, z, Vec::new(), phr));
        }
        // A near match in a common word needs a brand claim, a cue or a
        // price under the floor; without a brand field, cues or a price
        // there is nothing that could raise one.
        let claimable = !cues.is_empty()
            || listing
                .brand
                .as_deref()
                .is_some_and(|b| !b.trim().is_empty());
        let lexical_ok = LexicalOk {
            word: claimable || listing.price.is_some(),
            common: claimable,
        };
        for (field, text, z, hits, _) in &mut scanned {
            *hits = self.find_hits(text, z, *field, lexical_ok);
        }
        let group = listing
            .category
            .split_once('/')
            .map_or(listing.category.as_str(), |(g, _)| g);
        let in_scope = |ri: u32| {
            let right = &self.rights[ri as usize];
            right.regions.covers(listing.region)
                && (category_nice.is_empty()
                    || right.classes.is_empty()
                    || right.classes.iter().any(|c| category_nice.contains(c)))
        };
        for (field, text, z, hits, phr) in &scanned {
            let mark_ranges: Vec<Range<usize>> = hits.iter().map(|h| h.norm.clone()).collect();
            for h in hits {
                let ri = self.pats[h.pat as usize].right;
                // The longest registered mark at a span wins: "Calvin Klein"
                // inside "Calvin Klein Jeans" is that longer mark's, whose
                // authorised sellers it does not catch.
                if hits.len() > 1
                    && hits.iter().any(|o| {
                        o.lexical == LEX_NONE
                            && o.norm.start <= h.norm.start
                            && o.norm.end >= h.norm.end
                            && o.norm.len() > h.norm.len()
                            && self.pats[o.pat as usize].right != ri
                            && in_scope(self.pats[o.pat as usize].right)
                    })
                {
                    continue;
                }
                let pat = &self.pats[h.pat as usize];
                // A mark that describes goods in this category ("Bluetooth"
                // on a speaker), written without spoofing, weighs as an
                // ordinary word.
                let descriptive = !h.spoof
                    && pat
                        .descriptive_in
                        .iter()
                        .any(|g| g == "*" || g.as_str() == group);
                let nominative = *field != Field::Brand
                    && !h.spoof
                    && self.is_nominative(z.text(), h.norm.clone(), phr, &mark_ranges);
                let orig = z.original_span(h.norm.clone());
                let e = acc.entry(ri).or_default();
                let mut w = if *field == Field::Description {
                    h.weight * self.config.weights.description_factor
                } else {
                    h.weight
                };
                if descriptive {
                    w = w.min(self.config.weights.generic_word);
                }
                let m = Mention {
                    field: *field,
                    orig: orig.clone(),
                    text: text.get(orig).unwrap_or_default().to_string(),
                    mark: self.pats[h.pat as usize].name.clone(),
                    method: h.method.clone(),
                    weight: w,
                    nominative,
                    generic: h.generic || descriptive,
                    lexical: h.lexical,
                    spoof: h.spoof,
                };
                if *field == Field::Brand {
                    e.brand = Some(match e.brand.take() {
                        Some(b) if b.weight >= m.weight => b,
                        _ => m,
                    });
                } else {
                    e.mentions.push(m);
                }
            }
        }
        let price_usd = listing
            .price
            .as_ref()
            .and_then(|p| self.config.fx.to_usd(p));
        // Marks named plainly (not a near match in an ordinary word), in
        // scope here: a counterfeit cue next to one ("fake Nike") is that
        // mark's, and does not raise an ordinary word's near match of
        // another ("sell" for "Shell") in the same listing.
        let plain: Vec<u32> = acc
            .iter()
            .filter(|(ri, a)| {
                in_scope(**ri)
                    && (a.mentions.iter().any(|m| m.lexical == LEX_NONE)
                        || a.brand.as_ref().is_some_and(|b| b.lexical == LEX_NONE))
            })
            .map(|(ri, _)| *ri)
            .collect();
        let mut out = Vec::new();
        for (ri, a) in acc {
            let cues_taken = plain.iter().any(|&o| o != ri);
            let right = &self.rights[ri as usize];
            if !right.regions.covers(listing.region)
                || right.authorized.contains(&listing.shop_id)
                || (!category_nice.is_empty()
                    && !right.classes.is_empty()
                    && !right.classes.iter().any(|c| category_nice.contains(c)))
            {
                continue;
            }
            if let Some(v) = self.score_right(right, &a, &cues, cues_taken, price_usd, resale) {
                out.push(v);
            }
        }
        out.sort_by(|a, b| a.right_id.cmp(&b.right_id));
        out
    }

    fn score_right(
        &self,
        right: &RightInfo,
        a: &Acc,
        cues: &[(String, f64)],
        cues_taken: bool,
        price_usd: Option<f64>,
        resale: bool,
    ) -> Option<Violation> {
        let w = &self.config.weights;
        let has_cues = !cues.is_empty();
        // Cues that raise a near match in an ordinary word: none when
        // another mark, named plainly, carries them.
        let word_cues = has_cues && !cues_taken;
        let ratio = match (price_usd, right.floor_usd) {
            (Some(p), Some(f)) if f > 0.0 => Some(p / f),
            _ => None,
        };
        let under_floor = ratio.is_some_and(|r| r < self.config.price.low_ratio);
        // A near match in a common word or given name ("Stella" for
        // "Stellar") counts only next to a counterfeit cue, a price under the
        // floor or a brand claim.
        let brand = a.brand.as_ref().filter(|b| match b.lexical {
            LEX_NONE => true,
            LEX_WORD => word_cues || under_floor,
            _ => word_cues,
        });
        let claim = brand.is_some();
        let raised = claim || word_cues || under_floor;
        let usable = |m: &&Mention| match m.lexical {
            LEX_NONE => true,
            LEX_WORD => raised,
            _ => claim || word_cues,
        };
        // Nominative use: a mention next to "for", "compatible with"... in a
        // listing that neither claims the brand nor carries cues.
        let nominative =
            a.mentions.iter().filter(usable).any(|m| m.nominative) && !claim && !has_cues;
        if nominative {
            return None;
        }
        let best = a
            .mentions
            .iter()
            .filter(usable)
            .filter(|m| !m.nominative || claim || has_cues)
            .max_by(|x, y| {
                x.weight
                    .total_cmp(&y.weight)
                    .then_with(|| y.field.cmp(&x.field))
                    .then_with(|| y.orig.start.cmp(&x.orig.start))
            });
        if best.is_none() && !claim {
            return None;
        }
        let mut factors: Vec<f64> = Vec::new();
        if let Some(m) = best {
            factors.push(m.weight);
        }
        if let Some(b) = brand {
            factors.push(w.brand_claim);
            if b.weight > w.exact {
                // An obfuscated spelling in the brand field counts too.
                factors.push(b.weight);
            }
        }
        let strong = cues.iter().any(|(_, cw)| *cw >= 0.8);
        if strong {
            factors.push(w.cue_strong);
        }
        if let Some(weak) = cues
            .iter()
            .filter(|(_, cw)| *cw < 0.8)
            .map(|(_, cw)| *cw)
            .reduce(f64::max)
        {
            factors.push(w.cue_weak * weak);
        }
        // The price says something about this brand only when the listing
        // presents itself as the brand: a brand-field claim gives it full
        // weight, a mention at most `price_low`, a mention of a mark that is
        // an ordinary word ("Apple", "Shell") none.
        let mut price_signal = false;
        let price_counts = claim || best.is_some_and(|m| !m.generic);
        if let (Some(r), true) = (ratio, price_counts) {
            let cap = if claim { 1.0 } else { w.price_low };
            if r < self.config.price.very_low_ratio {
                factors.push(w.price_very_low.min(cap));
                price_signal = true;
            } else if r < self.config.price.low_ratio {
                factors.push(w.price_low.min(cap));
                price_signal = true;
            }
        }
        let score = 1.0
            - factors
                .iter()
                .fold(1.0, |acc, f| acc * (1.0 - f.clamp(0.0, 1.0)));
        let mut score = (score * 1e6).round() / 1e6;
        if score < self.config.min_score {
            return None;
        }
        // Resale of genuine goods is lawful: resale wording without a
        // counterfeit cue, a spoofing spelling or an implausibly low price
        // caps the score below reject.
        let spoof = best.is_some_and(|m| m.spoof) || brand.is_some_and(|b| b.spoof);
        let resale_capped = resale
            && !has_cues
            && !spoof
            && !ratio.is_some_and(|r| r < self.config.price.very_low_ratio)
            && score > self.config.resale_cap;
        if resale_capped {
            score = self.config.resale_cap;
        }
        let kind = if has_cues || price_signal {
            ViolationType::Counterfeit
        } else {
            ViolationType::Trademark
        };
        let shown = best.or(brand)?;
        let mut why = explain(shown, claim, brand, cues, ratio, price_signal, &right.id);
        if resale_capped {
            why.push_str(
                " The listing offers second-hand or authentic goods (resale wording, no counterfeit cue, \
                 no implausibly low price), so it goes to review at most.",
            );
        }
        Some(Violation {
            kind,
            right_id: Some(right.id.clone()),
            rule_id: None,
            detector: "text".to_string(),
            confidence: score,
            evidence: Evidence {
                field: Some(shown.field.as_str().to_string()),
                span: Some([shown.orig.start, shown.orig.end]),
                text: Some(shown.text.clone()),
                mark: Some(shown.mark.clone()),
                method: Some(shown.method.clone()),
                cues: cues.iter().map(|(c, _)| c.clone()).collect(),
                price_ratio: ratio.map(|r| (r * 1000.0).round() / 1000.0),
                why,
                ..Evidence::default()
            },
        })
    }

    /// The counterfeit cues in a field, as the seller wrote them, with their
    /// weights; negated cues ("not a replica") are left out.
    fn cues_in(&self, text: &str, z: &Normalized, phr: &[PhraseHit]) -> Vec<(String, f64)> {
        let t = z.text();
        let neg_ends: Vec<usize> = phr
            .iter()
            .filter(|p| p.kind == PhraseKind::Neg)
            .map(|p| p.range.end)
            .collect();
        let mut out: Vec<(String, f64)> = Vec::new();
        for p in phr {
            let PhraseKind::Cue(cw) = p.kind else {
                continue;
            };
            // Skip cues inside a longer cue already taken ("copy" in "super copy").
            if phr.iter().any(|q| {
                matches!(q.kind, PhraseKind::Cue(_))
                    && q.range.start <= p.range.start
                    && q.range.end >= p.range.end
                    && q.range.len() > p.range.len()
            }) {
                continue;
            }
            let mut s = p.range.start;
            if s > 0 && t.as_bytes()[s - 1] == b' ' {
                s -= 1;
            }
            if neg_ends.contains(&s) || neg_ends.contains(&p.range.start) {
                continue;
            }
            let o = z.original_span(p.range.clone());
            let written = text.get(o).unwrap_or_default().to_string();
            match out.iter_mut().find(|(w, _)| *w == written) {
                Some(e) => e.1 = e.1.max(cw),
                None => out.push((written, cw)),
            }
        }
        out
    }

    fn is_nominative(
        &self,
        t: &str,
        r: Range<usize>,
        phr: &[PhraseHit],
        marks: &[Range<usize>],
    ) -> bool {
        let before: Vec<usize> = phr
            .iter()
            .filter(|p| p.kind == PhraseKind::Before)
            .map(|p| p.range.end)
            .collect();
        let after: Vec<usize> = phr
            .iter()
            .filter(|p| p.kind == PhraseKind::After)
            .map(|p| p.range.start)
            .collect();
        let bytes = t.as_bytes();
        // Backwards over fillers and other marks ("for the Apple iPhone").
        let mut p = r.start;
        for _ in 0..5 {
            if p > 0 && bytes[p - 1] == b' ' {
                p -= 1;
            }
            if before.contains(&p) {
                return true;
            }
            if let Some(m) = marks
                .iter()
                .filter(|m| m.end == p && m.start < p)
                .map(|m| m.start)
                .min()
            {
                p = m;
                continue;
            }
            let ts = t[..p].rfind(' ').map_or(0, |x| x + 1);
            if ts >= p {
                break;
            }
            let tok = &t[ts..p];
            if self.phrases.is_fill(tok) || tok.chars().all(|c| c.is_numeric()) {
                p = ts;
            } else {
                break;
            }
        }
        // Forwards over model numbers and model words ("iPhone 15 Pro 用").
        const MODEL: &[&str] = &[
            "pro", "max", "plus", "mini", "ultra", "se", "air", "series", "gen", "lite", "note",
        ];
        let mut p = r.end;
        let mut skipped_words = 0;
        for _ in 0..8 {
            if after.contains(&p) {
                return true;
            }
            let rest = &t[p..];
            let Some(c) = rest.chars().next() else {
                break;
            };
            if c == ' ' {
                p += 1;
                continue;
            }
            // A model code: digits, or letters and digits (`15`, `s23`,
            // `a54`), or a single letter (`x`).
            let wl = rest
                .find(|c: char| !c.is_ascii_alphanumeric())
                .unwrap_or(rest.len());
            let word = &rest[..wl];
            if wl > 0
                && (word.bytes().any(|b| b.is_ascii_digit()) || wl == 1 || MODEL.contains(&word))
            {
                p += wl;
                continue;
            }
            if let Some(m) = marks.iter().filter(|m| m.start == p).map(|m| m.end).max() {
                p = m;
                continue;
            }
            // A product-line name ("Autodesk Revit 2 対応"): up to two words.
            if wl > 0 && skipped_words < 2 {
                skipped_words += 1;
                p += wl;
                continue;
            }
            break;
        }
        false
    }

    fn method_for(&self, pat: &Pattern, written: &str, flags: Flags) -> (String, f64, bool) {
        let w = &self.config.weights;
        let right = &self.rights[pat.right as usize];
        if flags.is_empty() || right.folds.contains(&fold(written)) {
            let wt = if pat.generic { w.generic_word } else { w.exact };
            return ("exact".to_string(), wt, false);
        }
        let mut weight: f64 = 0.0;
        let mut spoof = false;
        for (flag, fw) in [
            (Flags::HOMOGLYPH, w.homoglyph),
            (Flags::MIXED_SCRIPT, w.homoglyph),
            (Flags::INVISIBLE, w.invisible),
            (Flags::LEET, w.leet),
            (Flags::SEPARATOR, w.separator),
            (Flags::REPETITION, w.repetition),
            (Flags::DIACRITIC, w.diacritics),
            (Flags::COMPAT, w.compat),
        ] {
            if flags.contains(flag) {
                weight = weight.max(fw);
                if matches!(
                    flag,
                    Flags::HOMOGLYPH | Flags::MIXED_SCRIPT | Flags::INVISIBLE
                ) {
                    spoof = true;
                }
            }
        }
        let names = flags.names();
        let method = if names.is_empty() {
            "exact".to_string()
        } else {
            names.join(" + ")
        };
        (method, weight.max(w.exact), spoof)
    }

    #[allow(clippy::too_many_arguments)]
    fn push_hit(
        &self,
        out: &mut Vec<Hit>,
        text: &str,
        z: &Normalized,
        field: Field,
        pat: u32,
        norm: Range<usize>,
        extra: Option<(&str, f64)>,
    ) {
        let p = &self.pats[pat as usize];
        let flags = z.flags(norm.clone());
        let orig = z.original_span(norm.clone());
        let written = text.get(orig).unwrap_or_default();
        let (mut method, mut weight, spoof) = self.method_for(p, written, flags);
        if let Some((m, w)) = extra {
            if method == "exact" {
                method = m.to_string();
                weight = w;
            } else {
                method = format!("{m} + {method}");
                weight = weight.max(w);
            }
        }
        let _ = field;
        let generic = p.generic && method == "exact";
        out.push(Hit {
            lexical: LEX_NONE,
            generic,
            pat,
            norm,
            method,
            weight,
            spoof,
        });
    }

    /// Every mention of every mark in one normalised field.
    fn find_hits(
        &self,
        text: &str,
        z: &Normalized,
        field: Field,
        lexical_ok: LexicalOk,
    ) -> Vec<Hit> {
        let t = z.text();
        let mut out: Vec<Hit> = Vec::new();
        let w = &self.config.weights;
        let dict = dictionary();
        let windows_on = field != Field::Description;
        if let Some(ac) = &self.ac {
            for m in ac.find_overlapping_iter(t) {
                let r = m.start()..m.end();
                for &pi in &self.ac_groups[m.pattern().as_usize()] {
                    let p = &self.pats[pi as usize];
                    if boundary_ok(t, r.clone(), p.short) {
                        self.push_hit(&mut out, text, z, field, pi, r.clone(), None);
                    } else if p.spaced && p.chars.len() >= 4 && self.cjk_glued(t, r.clone()) {
                        self.push_hit(
                            &mut out,
                            text,
                            z,
                            field,
                            pi,
                            r.clone(),
                            Some(("glued to CJK text", w.missing_space)),
                        );
                    } else if windows_on
                        && p.spaced
                        && p.chars.len() >= 4
                        && self.glued(t, r.clone(), dict)
                    {
                        self.push_hit(
                            &mut out,
                            text,
                            z,
                            field,
                            pi,
                            r.clone(),
                            Some(("missing space", w.missing_space)),
                        );
                    }
                }
            }
        }
        if windows_on {
            self.window_hits(text, z, field, lexical_ok, &mut out);
        }
        // Text that is exactly one registered mark is not a look-alike of
        // another ("Ritz" in "Ritz Carlton" is not "Fritz").
        let exact: Vec<Range<usize>> = out
            .iter()
            .filter(|h| h.method == "exact")
            .map(|h| h.norm.clone())
            .collect();
        out.retain(|h| {
            !h.method.starts_with("edit distance")
                || !exact
                    .iter()
                    .any(|e| e.start < h.norm.end && h.norm.start < e.end)
        });
        // One hit per (pattern, range): keep the strongest.
        out.sort_by(|a, b| {
            (a.pat, a.norm.start, a.norm.end)
                .cmp(&(b.pat, b.norm.start, b.norm.end))
                .then_with(|| b.weight.total_cmp(&a.weight))
        });
        out.dedup_by(|b, a| a.pat == b.pat && a.norm == b.norm);
        out
    }

    /// `r` (a Latin mark) matched inside a run of Latin letters that touches
    /// Chinese, Japanese or Korean text (`NikeT恤`, `AdidasTシャツ`): accept
    /// it when one or two letters are left over on the side that touches the
    /// CJK text (the `T` of `T恤`), the other side ends the run, and the run
    /// is not itself a common word.
    fn cjk_glued(&self, t: &str, r: Range<usize>) -> bool {
        let b = t.as_bytes();
        if !b[r.clone()].iter().all(u8::is_ascii_alphanumeric) {
            return false;
        }
        let mut s = r.start;
        while s > 0 && b[s - 1].is_ascii_alphabetic() {
            s -= 1;
        }
        let mut e = r.end;
        while e < b.len() && b[e].is_ascii_alphabetic() {
            e += 1;
        }
        let (pre, suf) = (r.start - s, e - r.end);
        // One or two letters (`T恤`), or a common word (`POLO衫`).
        let rest_ok = |rest: &str| {
            (1..=2).contains(&rest.len()) || (rest.len() >= 3 && dictionary().contains(rest))
        };
        if pre + suf == 0
            || (pre > 0 && suf > 0)
            || !rest_ok(&t[s..r.start]) && !rest_ok(&t[r.end..e])
        {
            return false;
        }
        let before = t[..s].chars().next_back();
        let after = t[e..].chars().next();
        let cjk =
            |c: Option<char>| c.is_some_and(|c| crate::normalize::is_unspaced(c) || is_hangul(c));
        let edge = |c: Option<char>| c.is_none_or(|c| c == ' ') || cjk(c);
        let ok =
            (pre == 0 && cjk(after) && edge(before)) || (suf == 0 && cjk(before) && edge(after));
        ok && !lexicon().contains(&t[s..e])
    }

    /// `r` matched inside a longer word: accept it when the rest of the word
    /// is a word or a mark and the whole word is not an ordinary word.
    fn glued(&self, t: &str, r: Range<usize>, dict: &FxSet<String>) -> bool {
        let ws = t[..r.start].rfind(' ').map_or(0, |x| x + 1);
        let we = t[r.end..].find(' ').map_or(t.len(), |x| r.end + x);
        let word = &t[ws..we];
        if dict.contains(word)
            || self.compact.contains_key(word)
            || !word.chars().all(|c| c.is_ascii_alphabetic())
        {
            return false;
        }
        let ok = |rest: &str| {
            rest.is_empty()
                || (rest.len() >= 3 && (dict.contains(rest) || self.compact.contains_key(rest)))
        };
        ok(&t[ws..r.start]) && ok(&t[r.end..we])
    }

    fn window_hits(
        &self,
        text: &str,
        z: &Normalized,
        field: Field,
        lexical_ok: LexicalOk,
        out: &mut Vec<Hit>,
    ) {
        let t = z.text();
        let w = &self.config.weights;
        let dict = dictionary();
        let lex = lexicon();
        let flags = z.byte_flags();
        // Per word: range, spaced script, and whether what was written
        // there has a leet character next to a letter (worth decoding).
        let mut toks: Vec<(usize, usize, bool)> = Vec::new();
        let mut leety: Vec<bool> = Vec::new();
        // Words are split at spaces, and where Latin letters meet Chinese,
        // Japanese, Thai or Korean text ("Stellaバッグ" holds "stella").
        let mut push_tok = |s: usize, e: usize| {
            let part = &t[s..e];
            toks.push((s, e, is_spaced_text(part)));
            let o = z.original_span(s..e);
            let ws = text[..o.start]
                .char_indices()
                .rev()
                .find(|(_, c)| c.is_whitespace())
                .map_or(0, |(i, c)| i + c.len_utf8());
            let we = text[o.end..]
                .find(char::is_whitespace)
                .map_or(text.len(), |x| o.end + x);
            let b: &[u8] = &text.as_bytes()[ws.min(o.start)..we.max(o.end)];
            leety.push(b.windows(2).any(|p| {
                (LEET_BYTES.contains(&p[0]) && p[1].is_ascii_alphabetic())
                    || (p[0].is_ascii_alphabetic() && LEET_BYTES.contains(&p[1]))
            }));
        };
        let mut s0 = 0;
        for part in t.split(' ') {
            let mut sub = s0;
            if !part.is_ascii() {
                let mut prev: Option<char> = None;
                for (o, c) in part.char_indices() {
                    if prev.is_some_and(|p| script_break(p, c)) {
                        push_tok(sub, s0 + o);
                        sub = s0 + o;
                    }
                    prev = Some(c);
                }
            }
            push_tok(sub, s0 + part.len());
            s0 += part.len() + 1;
        }
        let mut buf = String::new();
        let mut chars: Vec<char> = Vec::new();
        let mut cands: Vec<u32> = Vec::new();
        for i in 0..toks.len() {
            for len in 1..=4usize {
                if i + len > toks.len() || !toks[i..i + len].iter().all(|x| x.2) {
                    break;
                }
                // Longer than any mark: longer windows only grow.
                if toks[i + len - 1].1 - toks[i].0 > self.max_window_bytes {
                    break;
                }
                let range = toks[i].0..toks[i + len - 1].1;
                buf.clear();
                for k in i..i + len {
                    buf.push_str(&t[toks[k].0..toks[k].1]);
                }
                if buf.is_empty() {
                    continue;
                }
                let window_text = &t[range.clone()];
                // Spaces removed or added.
                if let Some(ps) = self.compact.get(buf.as_str()) {
                    for &pi in ps {
                        let p = &self.pats[pi as usize];
                        if p.norm == window_text {
                            continue; // the automaton has it
                        }
                        let (m, wt) = if len == 1 {
                            ("missing space", w.missing_space)
                        } else {
                            ("separator", w.separator)
                        };
                        self.push_hit(out, text, z, field, pi, range.clone(), Some((m, wt)));
                    }
                    continue;
                }
                chars.clear();
                chars.extend(buf.chars());
                if len == 1 {
                    // Leet `1` read as `l` (`App1e`): positions the normaliser
                    // turned into `i`.
                    let leet_i: Vec<usize> = buf
                        .char_indices()
                        .filter(|(o, c)| *c == 'i' && flags[range.start + o] & Flags::LEET.0 != 0)
                        .map(|(o, _)| o)
                        .collect();
                    if !leet_i.is_empty() && leet_i.len() <= 3 {
                        for mask in 1u32..(1 << leet_i.len()) {
                            let mut v = buf.clone().into_bytes();
                            for (bi, &o) in leet_i.iter().enumerate() {
                                if mask & (1 << bi) != 0 {
                                    v[o] = b'l';
                                }
                            }
                            let Ok(v) = String::from_utf8(v) else {
                                continue;
                            };
                            if let Some(ps) = self.compact.get(&v) {
                                for &pi in ps {
                                    self.push_hit(out, text, z, field, pi, range.clone(), None);
                                }
                            }
                        }
                    }
                }
                // Leet the normaliser left alone (`Gucc1`, `H0n`, `94mes`,
                // `$!mon`): decode every leet character of what was written,
                // including symbols it dropped, and look the result up exactly.
                let orig = z.original_span(range.clone());
                let ws = text[..orig.start]
                    .char_indices()
                    .rev()
                    .find(|(_, c)| c.is_whitespace())
                    .map_or(0, |(i, c)| i + c.len_utf8());
                let we = text[orig.end..]
                    .find(char::is_whitespace)
                    .map_or(text.len(), |x| orig.end + x);
                let written = &text[ws.min(orig.start)..we.max(orig.end)];
                if written.len() <= 96 && leety[i..i + len].iter().any(|x| *x) {
                    let mut found = false;
                    for one in ['i', 'l'] {
                        let v: String = normalize(&decode_leet(written, one))
                            .text()
                            .chars()
                            .filter(|c| *c != ' ')
                            .collect();
                        if v == buf || v.chars().count() < 3 {
                            continue;
                        }
                        if let Some(ps) = self.compact.get(&v) {
                            for &pi in ps {
                                found = true;
                                self.push_hit(
                                    out,
                                    text,
                                    z,
                                    field,
                                    pi,
                                    range.clone(),
                                    Some(("leet", w.leet)),
                                );
                            }
                        }
                        if !written.contains('1') {
                            break;
                        }
                    }
                    if found {
                        continue;
                    }
                }
                // Repeated letters (`Niike`, `Louis Vuiittton`), not in ordinary words
                // ("channel" is not "Chanel").
                let doubled = buf.as_bytes().windows(2).any(|p| p[0] == p[1]);
                let sq = if doubled { squash(&buf) } else { String::new() };
                if let Some(ps) = self
                    .squash
                    .get(&sq)
                    .filter(|_| doubled && sq != buf && !dict.contains(buf.as_str()))
                {
                    let before = out.len();
                    let wr = runs(&chars);
                    for &pi in ps {
                        let p = &self.pats[pi as usize];
                        let mr = runs(&p.chars);
                        if wr.len() == mr.len()
                            && wr.iter().zip(&mr).all(|(a, b)| a.0 == b.0 && a.1 >= b.1)
                        {
                            self.push_hit(
                                out,
                                text,
                                z,
                                field,
                                pi,
                                range.clone(),
                                Some(("repetition", w.repetition)),
                            );
                        }
                    }
                    if out.len() > before {
                        continue;
                    }
                }
                // Fuzzy.
                let n = chars.len();
                if !self.config.fuzzy.enabled || !(4..=MAX_LEN).contains(&n) {
                    continue;
                }
                // Several words only fuzzily match a mark of as many words,
                // anchored by its first or last word written exactly.
                if len > 1 {
                    let bit = 1u8 << len;
                    let first = &t[toks[i].0..toks[i].1];
                    let last = &t[toks[i + len - 1].0..toks[i + len - 1].1];
                    if self.first_words.get(first).is_none_or(|m| m & bit == 0)
                        && self.last_words.get(last).is_none_or(|m| m & bit == 0)
                    {
                        continue;
                    }
                }
                // Anything with digits (model numbers, sizes) never matches
                // fuzzily; leet is handled above. A token that is itself a
                // common word or given name in a supported language
                // ("Stella", "Devon", "basics") is not a look-alike by edit
                // distance alone: its hits are marked and count only next to
                // a brand claim, a counterfeit cue or a price under the floor.
                if chars.iter().any(|c| c.is_numeric()) {
                    continue;
                }
                // English common words (SCOWL) and the hand-written
                // marketplace words ("basics", "kaos") are raised only by a
                // brand claim or a cue, not by price: they are everywhere.
                // A word written with diacritics ("Hartón") near a mark
                // registered without them is a word of a language that has
                // them (checked per mark below).
                // (The lexicon is looked up only once a near mark is found.)
                let common = len == 1 && dict.contains(buf.as_str());
                if common && !lexical_ok.common {
                    continue;
                }
                let first_hit = out.len();

                let max_del = if len == 1 && n >= self.config.fuzzy.min_len_2 {
                    2
                } else {
                    1
                };
                cands.clear();
                self.index.candidates(&chars, max_del, &mut cands);
                cands.sort_unstable();
                cands.dedup();
                for &k in &cands {
                    let (key, ps) = &self.fuzzy_keys[k as usize];
                    let budget = self.config.fuzzy.budget(key.len());
                    let Some(d) = osa_distance(&chars, key, budget) else {
                        continue;
                    };
                    if d == 0 {
                        continue;
                    }
                    // Several words: one edit at most ("blue mobile" is not
                    // "Value Mobile").
                    if len > 1 && d > 1 {
                        continue;
                    }
                    let weight = if d == 1 { w.edit1 } else { w.edit2 };
                    let desc = describe_edit(&chars, key, d);
                    for &pi in ps {
                        let p = &self.pats[pi as usize];
                        if len > 1 && p.norm.split(' ').count() != len {
                            continue;
                        }
                        self.push_hit(
                            out,
                            text,
                            z,
                            field,
                            pi,
                            range.clone(),
                            Some((&desc, weight)),
                        );
                    }
                }
                if out.len() == first_hit {
                    continue;
                }
                let lexical = if common {
                    LEX_COMMON
                } else if (i..i + len).all(|k| lex.contains(&t[toks[k].0..toks[k].1])) {
                    LEX_WORD
                } else {
                    LEX_NONE
                };
                // A rarer word (Zipf 1.0–2.0, "numpty") is ordinary near a
                // mark that is not far more frequent than it; near a frequent
                // one ("addidas" by "adidas") it is likely a misspelling.
                let rare = if lexical == LEX_NONE && len == 1 {
                    lex.zipf(buf.as_str())
                } else {
                    None
                };
                let accented = lexical == LEX_NONE
                    && len == 1
                    && z.flags(range.clone()).contains(Flags::DIACRITIC);
                // Not an ordinary word by itself: maybe a regular inflection
                // of one ("Duplicarei"), checked per mark below.
                let unordinary = lexical == LEX_NONE && len == 1;
                for h in &mut out[first_hit..] {
                    h.lexical = lexical;
                    let pat = &self.pats[h.pat as usize];
                    if accented && pat.name.is_ascii() {
                        h.lexical = LEX_WORD;
                    }
                    if let Some(zt) = rare
                        && pat.zipf <= zt.saturating_add(RARE_WORD_GAP)
                    {
                        h.lexical = LEX_WORD;
                    }
                    if unordinary
                        && h.lexical == LEX_NONE
                        && inflect::ordinary_inflection(buf.as_str(), |s| {
                            inflect::near_mark(s, &pat.chars)
                        })
                    {
                        h.lexical = LEX_WORD;
                    }
                }
                if !lexical_ok.word {
                    let mut k = first_hit;
                    while k < out.len() {
                        if out[k].lexical == LEX_WORD {
                            out.swap_remove(k);
                        } else {
                            k += 1;
                        }
                    }
                }
            }
        }
    }
}

type Scanned<'a> = (Field, &'a str, Normalized, Vec<Hit>, Vec<PhraseHit>);

#[derive(Debug, Clone)]
struct Mention {
    field: Field,
    orig: Range<usize>,
    text: String,
    mark: String,
    method: String,
    weight: f64,
    nominative: bool,
    /// The mark is an ordinary word and was written as one, or describes
    /// the goods of the listing's category.
    generic: bool,
    /// Found by edit distance in a word or given name (`LEX_*`).
    lexical: u8,
    /// Written with homoglyphs or invisible characters.
    spoof: bool,
}

#[derive(Debug, Default)]
struct Acc {
    mentions: Vec<Mention>,
    brand: Option<Mention>,
}

fn explain(
    m: &Mention,
    claim: bool,
    brand: Option<&Mention>,
    cues: &[(String, f64)],
    ratio: Option<f64>,
    price_signal: bool,
    right_id: &str,
) -> String {
    let mut s = if m.field == Field::Brand {
        format!(
            "The brand field claims {:?}, the registered mark {:?} (right {right_id}){}.",
            m.text,
            m.mark,
            if m.method == "exact" {
                String::new()
            } else {
                format!(", written by {}", m.method)
            }
        )
    } else if m.method == "exact" {
        format!(
            "The {} contains {:?}, the registered mark {:?} (right {right_id}).",
            m.field.as_str(),
            m.text,
            m.mark
        )
    } else {
        format!(
            "The {} writes {:?}, a look-alike of the registered mark {:?} (right {right_id}) by {}.",
            m.field.as_str(),
            m.text,
            m.mark,
            m.method
        )
    };
    if claim && let Some(b) = brand {
        if b.field != m.field || b.orig != m.orig {
            s.push_str(&format!(
                " The brand field claims {:?} and the shop is not an authorised seller.",
                b.text
            ));
        } else {
            s.push_str(" The shop is not an authorised seller.");
        }
    }
    if !cues.is_empty() {
        let list: Vec<String> = cues.iter().map(|(c, _)| format!("{c:?}")).collect();
        s.push_str(&format!(" Counterfeit cues: {}.", list.join(", ")));
    }
    if let (Some(r), true) = (ratio, price_signal) {
        s.push_str(&format!(
            " The price is {:.0}% of the lowest price of genuine goods.",
            r * 100.0
        ));
    }
    s
}

/// The gate's action for a combined score under `config`'s thresholds.
pub fn score_to_action(config: &TextConfig, score: f64) -> Action {
    if score >= config.reject {
        Action::Reject
    } else if score >= config.review {
        Action::Review
    } else {
        Action::Approve
    }
}

fn check_config(c: &TextConfig) -> Result<(), BuildError> {
    let unit = |v: f64| v.is_finite() && (0.0..=1.0).contains(&v);
    if !unit(c.review) {
        return Err(BuildError::Threshold {
            name: "review",
            value: c.review,
        });
    }
    if !unit(c.reject) || c.reject < c.review {
        return Err(BuildError::Threshold {
            name: "reject",
            value: c.reject,
        });
    }
    if !unit(c.resale_cap) {
        return Err(BuildError::Threshold {
            name: "resale_cap",
            value: c.resale_cap,
        });
    }
    let w = &c.weights;
    for (name, value) in [
        ("exact", w.exact),
        ("generic_word", w.generic_word),
        ("homoglyph", w.homoglyph),
        ("invisible", w.invisible),
        ("leet", w.leet),
        ("separator", w.separator),
        ("repetition", w.repetition),
        ("diacritics", w.diacritics),
        ("compat", w.compat),
        ("edit1", w.edit1),
        ("edit2", w.edit2),
        ("missing_space", w.missing_space),
        ("brand_claim", w.brand_claim),
        ("cue_strong", w.cue_strong),
        ("cue_weak", w.cue_weak),
        ("price_low", w.price_low),
        ("price_very_low", w.price_very_low),
        ("description_factor", w.description_factor),
    ] {
        if !unit(value) {
            return Err(BuildError::Weight { name, value });
        }
    }
    Ok(())
}
