//! The foundation's word-mark detector: exact, case-insensitive, word-bounded
//! matches of registered marks and aliases in a listing's title, description
//! and brand. The text-detection crate supersedes it with normalisation,
//! fuzzy matching and context; this one stays as the simple, predictable
//! baseline.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use shopshield_model::{Evidence, RegionSet, Right, RightKind, Violation, ViolationType};

use crate::{Detector, ScreenInput};

/// Confidence when the `brand` field names the mark: the seller claims to
/// be the brand. At the default thresholds this rejects.
pub const BRAND_CLAIM_CONFIDENCE: f64 = 0.9;
/// Confidence when the mark only appears in the title or description: the
/// mention may be lawful ("case for iPhone"), so a human looks. At the
/// default thresholds this goes to review.
pub const MENTION_CONFIDENCE: f64 = 0.6;

struct Entry {
    right: usize,
    name: String,
}

/// Exact word-mark matcher over every enabled right with a mark.
pub struct WordMarkDetector {
    rights: Vec<Right>,
    /// Pattern id → the rights and names that pattern stands for.
    patterns: Vec<Vec<Entry>>,
    automaton: Option<AhoCorasick>,
}

impl WordMarkDetector {
    /// Builds the matcher. Disabled rights and rights without a mark are
    /// left out. The result does not depend on the order of `rights`.
    pub fn new(rights: &[Right]) -> WordMarkDetector {
        let mut rights: Vec<Right> = rights
            .iter()
            .filter(|r| r.enabled && r.mark.is_some())
            .cloned()
            .collect();
        rights.sort_by(|a, b| a.id.cmp(&b.id));
        let mut by_pattern: HashMap<String, usize> = HashMap::new();
        let mut pattern_text: Vec<String> = Vec::new();
        let mut patterns: Vec<Vec<Entry>> = Vec::new();
        for (ri, r) in rights.iter().enumerate() {
            for name in r.names() {
                let folded = fold(name).0;
                if folded.trim().is_empty() {
                    continue;
                }
                let pid = *by_pattern.entry(folded.clone()).or_insert_with(|| {
                    pattern_text.push(folded);
                    patterns.push(Vec::new());
                    patterns.len() - 1
                });
                if !patterns[pid].iter().any(|e| e.right == ri) {
                    patterns[pid].push(Entry {
                        right: ri,
                        name: name.to_string(),
                    });
                }
            }
        }
        let automaton = if pattern_text.is_empty() {
            None
        } else {
            // Standard semantics with overlapping search, so "Air" and
            // "Air Max" both report.
            AhoCorasickBuilder::new()
                .match_kind(MatchKind::Standard)
                .build(&pattern_text)
                .ok()
        };
        WordMarkDetector {
            rights,
            patterns,
            automaton,
        }
    }

    pub fn mark_count(&self) -> usize {
        self.patterns.len()
    }

    fn in_scope(&self, r: &Right, input: &ScreenInput<'_>) -> bool {
        // A logo or photo right registered without classes applies to every
        // category; otherwise the listing's category must share a class.
        let unclassed = r.kind != RightKind::Trademark && r.nice_classes.is_empty();
        let classes_ok = unclassed
            || r.nice_classes
                .iter()
                .any(|c| input.category.nice.contains(c));
        classes_ok
            && r.regions.covers(input.listing.region)
            && !r.authorizes(&input.listing.shop_id)
    }
}

impl Detector for WordMarkDetector {
    fn name(&self) -> &'static str {
        "wordmark"
    }

    fn detect(&self, input: &ScreenInput<'_>, out: &mut Vec<Violation>) {
        let Some(ac) = &self.automaton else { return };
        let l = input.listing;
        let fields: [(&str, Option<&str>); 3] = [
            ("brand", l.brand.as_deref()),
            ("title", Some(l.title.as_str())),
            ("description", l.description.as_deref()),
        ];
        // One violation per right: the first field in the order above wins,
        // so a brand claim outranks a mention.
        let mut reported: Vec<usize> = Vec::new();
        for (field, text) in fields {
            let Some(text) = text else { continue };
            let (folded, offsets) = fold(text);
            for m in ac.find_overlapping_iter(folded.as_str()) {
                let (s, e) = (m.start(), m.end());
                if !word_bounded(&folded, s, e) {
                    continue;
                }
                let (os, oe) = (offsets[s], offsets[e]);
                for entry in &self.patterns[m.pattern().as_usize()] {
                    let r = &self.rights[entry.right];
                    if reported.contains(&entry.right) || !self.in_scope(r, input) {
                        continue;
                    }
                    reported.push(entry.right);
                    let original = &text[os..oe];
                    let claim =
                        field == "brand" && text.trim().chars().count() == original.chars().count();
                    let (confidence, why) = if claim {
                        (
                            BRAND_CLAIM_CONFIDENCE,
                            format!(
                                "The brand field claims \"{}\", a mark registered by right {} for Nice classes {:?} in this region, and shop {} is not an authorised seller.",
                                entry.name, r.id, r.nice_classes, l.shop_id
                            ),
                        )
                    } else {
                        (
                            MENTION_CONFIDENCE,
                            format!(
                                "The {field} mentions \"{original}\", which matches the mark \"{}\" (right {}); shop {} is not an authorised seller, so a reviewer checks whether the use is lawful.",
                                entry.name, r.id, l.shop_id
                            ),
                        )
                    };
                    out.push(Violation {
                        kind: ViolationType::Trademark,
                        right_id: Some(r.id.clone()),
                        rule_id: None,
                        detector: "wordmark".into(),
                        confidence,
                        evidence: Evidence {
                            field: Some(field.into()),
                            span: Some([os, oe]),
                            text: Some(original.into()),
                            mark: Some(entry.name.clone()),
                            method: Some("exact".into()),
                            why,
                            ..Evidence::default()
                        },
                    });
                }
            }
        }
    }
}

/// Lower-cases `s` and returns, for every byte of the result, the offset of
/// the original character it came from (plus one final entry for the end).
fn fold(s: &str) -> (String, Vec<usize>) {
    let mut out = String::with_capacity(s.len());
    let mut offsets = Vec::with_capacity(s.len() + 1);
    for (i, c) in s.char_indices() {
        let before = out.len();
        out.extend(c.to_lowercase());
        offsets.extend(std::iter::repeat_n(i, out.len() - before));
    }
    offsets.push(s.len());
    (out, offsets)
}

/// True for scripts written without spaces between words, where a mark may
/// sit directly against other letters.
fn unspaced_script(c: char) -> bool {
    matches!(c as u32,
        0x0E00..=0x0E7F      // Thai
        | 0x0E80..=0x0EFF    // Lao
        | 0x1000..=0x109F    // Myanmar
        | 0x1780..=0x17FF    // Khmer
        | 0x3040..=0x30FF    // Hiragana, Katakana
        | 0x3400..=0x4DBF    // CJK extension A
        | 0x4E00..=0x9FFF    // CJK unified ideographs
        | 0xF900..=0xFAFF    // CJK compatibility ideographs
        | 0xFF66..=0xFF9F    // half-width Katakana
        | 0xAC00..=0xD7AF) // Hangul syllables
}

/// True if `s[start..end]` is not glued to letters or digits on either side
/// (sides in unspaced scripts need no boundary).
fn word_bounded(s: &str, start: usize, end: usize) -> bool {
    let inner_first = s[start..end].chars().next();
    let inner_last = s[start..end].chars().next_back();
    let before_ok = match (s[..start].chars().next_back(), inner_first) {
        (None, _) => true,
        (Some(b), Some(f)) => !b.is_alphanumeric() || unspaced_script(f) || unspaced_script(b),
        (Some(b), None) => !b.is_alphanumeric(),
    };
    let after_ok = match (s[end..].chars().next(), inner_last) {
        (None, _) => true,
        (Some(a), Some(l)) => !a.is_alphanumeric() || unspaced_script(l) || unspaced_script(a),
        (Some(a), None) => !a.is_alphanumeric(),
    };
    before_ok && after_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use shopshield_model::{Category, Listing, Taxonomy};

    fn right(json: &str) -> Right {
        let new: shopshield_model::NewRight = serde_json::from_str(json).unwrap();
        new.validate().unwrap();
        Right::from_new(new, "h".into(), Utc::now())
    }

    fn nike() -> Right {
        right(
            r#"{"id":"r-nike","holder":"Nike, Inc.","kind":"trademark","mark":"Nike","aliases":["NIKE","ナイキ"],"nice_classes":[25,28],"regions":["*"],"authorized_sellers":["shop-nike"]}"#,
        )
    }

    fn listing(json: &str) -> Listing {
        serde_json::from_str(json).unwrap()
    }

    fn run(d: &WordMarkDetector, l: &Listing) -> Vec<Violation> {
        let tax = Taxonomy::builtin();
        let category: &Category = tax.get(&l.category).unwrap();
        let mut out = Vec::new();
        d.detect(
            &ScreenInput {
                listing: l,
                category,
                qualifications: &[],
                now: Utc::now(),
            },
            &mut out,
        );
        out
    }

    #[test]
    fn brand_claim_and_mention() {
        let d = WordMarkDetector::new(&[nike()]);
        let l = listing(
            r#"{"id":"l","shop_id":"s","region":"US","category":"apparel/shoes","title":"Running shoes by NIKE!","brand":"Nike"}"#,
        );
        let v = run(&d, &l);
        assert_eq!(v.len(), 1, "one violation per right");
        assert_eq!(v[0].evidence.field.as_deref(), Some("brand"));
        assert_eq!(v[0].confidence, BRAND_CLAIM_CONFIDENCE);

        let l = listing(
            r#"{"id":"l","shop_id":"s","region":"US","category":"apparel/shoes","title":"Running shoes by NIKE!"}"#,
        );
        let v = run(&d, &l);
        assert_eq!(v[0].evidence.span, Some([17, 21]));
        assert_eq!(v[0].evidence.text.as_deref(), Some("NIKE"));
        assert_eq!(v[0].confidence, MENTION_CONFIDENCE);
    }

    #[test]
    fn word_bounded_only() {
        let d = WordMarkDetector::new(&[nike()]);
        let l = listing(
            r#"{"id":"l","shop_id":"s","region":"US","category":"apparel/shoes","title":"Nikeless running shoes, unike"}"#,
        );
        assert!(run(&d, &l).is_empty());
    }

    #[test]
    fn scoped_by_class_region_and_seller() {
        let d = WordMarkDetector::new(&[nike()]);
        // Class 21 (kitchen) is outside the mark's classes.
        let l = listing(
            r#"{"id":"l","shop_id":"s","region":"US","category":"home/kitchen","title":"Nike mug"}"#,
        );
        assert!(run(&d, &l).is_empty());
        let l = listing(
            r#"{"id":"l","shop_id":"shop-nike","region":"US","category":"apparel/shoes","title":"Nike shoes"}"#,
        );
        assert!(run(&d, &l).is_empty());
        let gb_only = right(
            r#"{"id":"r-x","holder":"X","kind":"trademark","mark":"Zentrix","nice_classes":[25],"regions":["GB"]}"#,
        );
        let d = WordMarkDetector::new(&[gb_only]);
        let l = listing(
            r#"{"id":"l","shop_id":"s","region":"US","category":"apparel/shoes","title":"Zentrix shoes"}"#,
        );
        assert!(run(&d, &l).is_empty());
        let l = listing(
            r#"{"id":"l","shop_id":"s","region":"GB","category":"apparel/shoes","title":"Zentrix shoes"}"#,
        );
        assert_eq!(run(&d, &l).len(), 1);
    }

    #[test]
    fn unicode_case_and_unspaced_scripts() {
        let d = WordMarkDetector::new(&[nike()]);
        let l = listing(
            r#"{"id":"l","shop_id":"s","region":"JP","category":"apparel/shoes","title":"新品ナイキスニーカー"}"#,
        );
        let v = run(&d, &l);
        assert_eq!(v[0].evidence.text.as_deref(), Some("ナイキ"));
        let title = "Ünïcode ÉCOLE shoes";
        let ecole = right(
            r#"{"id":"r-e","holder":"E","kind":"trademark","mark":"école","nice_classes":[25],"regions":["*"]}"#,
        );
        let d = WordMarkDetector::new(&[ecole]);
        let l = listing(&format!(
            r#"{{"id":"l","shop_id":"s","region":"FR","category":"apparel/shoes","title":"{title}"}}"#
        ));
        let v = run(&d, &l);
        let [s, e] = v[0].evidence.span.unwrap();
        assert_eq!(&title[s..e], "ÉCOLE");
    }

    #[test]
    fn disabled_rights_do_not_match() {
        let mut r = nike();
        r.enabled = false;
        let d = WordMarkDetector::new(&[r]);
        let l = listing(
            r#"{"id":"l","shop_id":"s","region":"US","category":"apparel/shoes","title":"Nike shoes"}"#,
        );
        assert!(run(&d, &l).is_empty());
    }

    proptest::proptest! {
        #[test]
        fn spans_are_char_boundaries(title in "\\PC{1,60}") {
            let d = WordMarkDetector::new(&[nike()]);
            let l = Listing {
                id: "l".into(), shop_id: "s".into(), creator_id: None,
                region: shopshield_model::Region::parse("r", "US").unwrap(),
                category: "apparel/shoes".into(), title: format!("{title} nike {title}"),
                description: None, brand: None, price: None, images: vec![],
                extra: Default::default(),
            };
            for v in run(&d, &l) {
                let [s, e] = v.evidence.span.unwrap();
                proptest::prop_assert!(l.title.is_char_boundary(s) && l.title.is_char_boundary(e));
                proptest::prop_assert_eq!(&l.title[s..e], v.evidence.text.as_deref().unwrap());
            }
        }
    }
}
