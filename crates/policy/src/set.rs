//! A loaded, validated set of packs and the screening of one listing.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use chrono::{DateTime, Utc};
use serde::Serialize;
use shopshield_model::{
    Action, Evidence, Listing, Qualification, Region, Taxonomy, Violation, ViolationType,
};

use crate::error::{PackIssue, PolicyError};
use crate::norm;
use crate::pack::{Pack, Rule, RuleKind, Scope, is_unspaced, parse_pack};

/// Confidence of a keyword in the title or brand of a listing whose category
/// is among the rule's categories: a clear match.
pub const CONFIDENCE_CLEAR: f64 = 1.0;
/// Confidence of a listing whose own category is covered by a
/// rule's `match_categories`, with no keyword in the title.
pub const CONFIDENCE_CATEGORY: f64 = 0.9;
/// Confidence of an uncertain match: a keyword only in the description, a
/// keyword in the title of a listing in another category, or any match of a
/// `review_only` rule. The gate sends these to review.
pub const CONFIDENCE_UNCERTAIN: f64 = 0.6;

/// Confidence of a single keyword in a category where the rule's keywords
/// cannot be the goods (the rule's `weak_in`: "Dynamite belt", "Gin
/// headphones"): weak evidence, below review, kept for the audit trail.
pub const CONFIDENCE_WEAK: f64 = 0.3;

/// The review threshold the gate uses by default (`policy test` uses it too).
pub const DEFAULT_REVIEW_AT: f64 = 0.5;
/// The reject threshold the gate uses by default (`policy test` uses it too).
pub const DEFAULT_REJECT_AT: f64 = 0.85;

/// The detector name on policy violations.
pub const DETECTOR: &str = "policy";

/// What the policy stage found about one listing.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PolicyOutcome {
    /// One violation per rule broken, most confident first.
    pub violations: Vec<Violation>,
    /// Version of every pack that applied to the listing's region, by name.
    pub pack_versions: BTreeMap<String, String>,
    /// Restricted rules that matched but that the seller holds the
    /// qualification for (kept for the audit trail).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub qualified: Vec<QualifiedMatch>,
}

/// A restricted rule that matched a listing whose seller is qualified.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QualifiedMatch {
    pub rule_id: String,
    pub pack: String,
    pub qualification: String,
    /// The qualification's evidence document reference.
    pub evidence_ref: String,
}

impl PolicyOutcome {
    /// The action these violations lead to under the given thresholds
    /// (the gate's are configurable; see [`DEFAULT_REVIEW_AT`]).
    pub fn action(&self, review_at: f64, reject_at: f64) -> Action {
        let top = self
            .violations
            .iter()
            .map(|v| v.confidence)
            .fold(0.0, f64::max);
        if top >= reject_at {
            Action::Reject
        } else if top >= review_at {
            Action::Review
        } else {
            Action::Approve
        }
    }
}

/// One entry behind an automaton pattern: which rule it belongs to and how it
/// must sit in the text.
#[derive(Debug, Clone, Copy)]
struct Entry {
    rule: u32,
    exception: bool,
    left: bool,
    right: bool,
}

/// A set of validated packs with one automaton over all their patterns.
///
/// Build one with [`PolicySet::load_dir`], [`PolicySet::from_sources`] or
/// [`PolicySet::builtin`]; it is immutable and cheap to share behind an
/// `Arc` (swap the whole set to reload).
#[derive(Debug, Clone)]
pub struct PolicySet {
    packs: Vec<Pack>,
    sources: Vec<(String, String)>,
    /// Flat rule index -> (pack index, rule index in pack).
    rules: Vec<(usize, usize)>,
    by_id: HashMap<String, usize>,
    /// Flat rule index -> flat indices of the rules that replace it.
    replaced_by: Vec<Vec<usize>>,
    /// Flat indices of rules with `match_categories`.
    category_rules: Vec<usize>,
    ac: Option<AhoCorasick>,
    entries: Vec<Vec<Entry>>,
}

#[derive(Debug, Clone, Copy)]
struct Hit {
    rule: u32,
    field: u8,
    start: usize,
    end: usize,
    exception: bool,
}

const FIELDS: [&str; 3] = ["title", "brand", "description"];

/// A listing's screened fields, normalised: title, brand, description.
///
/// Build it once per listing with [`ListingText::new`], or from the
/// normalised fields another stage already made with
/// [`ListingText::from_normalized`], and pass it to
/// [`PolicySet::screen_text`].
#[derive(Debug, Clone)]
pub struct ListingText {
    fields: [Option<norm::Norm>; 3],
}

impl ListingText {
    /// Normalises the listing's title, brand and description.
    pub fn new(listing: &Listing) -> ListingText {
        let f = |s: Option<&str>| s.filter(|s| !s.is_empty()).map(norm::normalize);
        ListingText {
            fields: [
                f(Some(&listing.title)),
                f(listing.brand.as_deref()),
                f(listing.description.as_deref()),
            ],
        }
    }

    /// Wraps fields normalised with `shopshield_text::normalize::normalize`.
    pub fn from_normalized(
        title: shopshield_text::normalize::Normalized,
        brand: Option<shopshield_text::normalize::Normalized>,
        description: Option<shopshield_text::normalize::Normalized>,
    ) -> ListingText {
        ListingText {
            fields: [Some(title), brand, description],
        }
    }
}

impl PolicySet {
    /// Loads every `*.toml` file in `dir` (not recursive), in name order.
    pub fn load_dir(dir: &Path, taxonomy: &Taxonomy) -> Result<PolicySet, PolicyError> {
        let rd = std::fs::read_dir(dir).map_err(|source| PolicyError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut paths = Vec::new();
        for ent in rd {
            let ent = ent.map_err(|source| PolicyError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
            let p = ent.path();
            if p.is_file() && p.extension().is_some_and(|e| e == "toml") {
                paths.push(p);
            }
        }
        paths.sort();
        if paths.is_empty() {
            return Err(PolicyError::NoPacks(dir.to_path_buf()));
        }
        let mut sources = Vec::with_capacity(paths.len());
        for p in paths {
            let text = std::fs::read_to_string(&p).map_err(|source| PolicyError::Io {
                path: p.clone(),
                source,
            })?;
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            sources.push((name, text));
        }
        Self::from_sources(&sources, taxonomy)
    }

    /// Builds a set from `(file name, TOML text)` pairs. Every problem in
    /// every pack is reported; nothing is built unless all packs are valid.
    pub fn from_sources<N: AsRef<str>, T: AsRef<str>>(
        sources: &[(N, T)],
        taxonomy: &Taxonomy,
    ) -> Result<PolicySet, PolicyError> {
        let mut issues = Vec::new();
        let mut packs = Vec::new();
        let mut owned = Vec::new();
        for (file, text) in sources {
            let (file, text) = (file.as_ref(), text.as_ref());
            owned.push((file.to_string(), text.to_string()));
            match parse_pack(file, text, taxonomy) {
                Ok(p) => packs.push(p),
                Err(mut v) => issues.append(&mut v),
            }
        }
        if sources.is_empty() {
            issues.push(PackIssue {
                file: String::new(),
                line: 0,
                rule_id: None,
                reason: "no policy packs given".into(),
            });
        }
        check_across(&packs, &mut issues);
        if !issues.is_empty() {
            return Err(PolicyError::Invalid(issues));
        }
        Ok(Self::compile(packs, owned))
    }

    /// The packs shipped in the repository's `policy/packs/`, embedded in the
    /// binary.
    pub fn builtin(taxonomy: &Taxonomy) -> Result<PolicySet, PolicyError> {
        Self::from_sources(crate::builtin::PACKS, taxonomy)
    }

    /// Loads `dir` afresh and returns the new set with the rules that differ
    /// from this one (for [`crate::listings_to_rescreen`]). On error nothing
    /// changes: keep serving this set and show the error to policy staff.
    pub fn reload(
        &self,
        dir: &Path,
        taxonomy: &Taxonomy,
    ) -> Result<(PolicySet, Vec<crate::RuleChange>), PolicyError> {
        let new = Self::load_dir(dir, taxonomy)?;
        let changes = self.diff(&new);
        Ok((new, changes))
    }

    /// A new set with `text` in place of the pack loaded from `file_name`
    /// (or added, if no pack came from that file). This set is unchanged.
    /// `policy test PACK CASES` uses it to try an edited pack against the
    /// packs in force.
    pub fn with_pack(
        &self,
        file_name: &str,
        text: &str,
        taxonomy: &Taxonomy,
    ) -> Result<PolicySet, PolicyError> {
        let mut sources = self.sources.clone();
        match sources.iter_mut().find(|(f, _)| f == file_name) {
            Some(s) => s.1 = text.to_string(),
            None => sources.push((file_name.to_string(), text.to_string())),
        }
        Self::from_sources(&sources, taxonomy)
    }

    /// The loaded packs, in load order.
    pub fn packs(&self) -> &[Pack] {
        &self.packs
    }

    /// A pack by name.
    pub fn pack(&self, name: &str) -> Option<&Pack> {
        self.packs.iter().find(|p| p.name == name)
    }

    /// A rule by id, with the scope of its pack.
    pub fn rule(&self, id: &str) -> Option<(&Rule, Scope)> {
        self.by_id.get(id).map(|&i| {
            let (p, r) = self.rules[i];
            (&self.packs[p].rules[r], self.packs[p].scope)
        })
    }

    /// Every pack's version, by name.
    pub fn versions(&self) -> BTreeMap<String, String> {
        self.packs
            .iter()
            .map(|p| (p.name.clone(), p.version().to_string()))
            .collect()
    }

    /// The `(file name, text)` pairs the set was built from.
    pub fn sources(&self) -> &[(String, String)] {
        &self.sources
    }

    /// The versions of the packs that apply to `region`.
    pub fn versions_for(&self, region: Region) -> BTreeMap<String, String> {
        self.packs
            .iter()
            .filter(|p| p.scope.applies_to(region))
            .map(|p| (p.name.clone(), p.version().to_string()))
            .collect()
    }

    fn compile(mut packs: Vec<Pack>, sources: Vec<(String, String)>) -> PolicySet {
        inherit_exceptions(&mut packs);
        let mut rules = Vec::new();
        let mut by_id = HashMap::new();
        for (pi, p) in packs.iter().enumerate() {
            for (ri, r) in p.rules.iter().enumerate() {
                by_id.insert(r.id.clone(), rules.len());
                rules.push((pi, ri));
            }
        }
        let mut replaced_by = vec![Vec::new(); rules.len()];
        let mut category_rules = Vec::new();
        let mut pat_ids: HashMap<String, usize> = HashMap::new();
        let mut patterns: Vec<String> = Vec::new();
        let mut entries: Vec<Vec<Entry>> = Vec::new();
        for (flat, &(pi, ri)) in rules.iter().enumerate() {
            let r = &packs[pi].rules[ri];
            for target in &r.replaces {
                if let Some(&t) = by_id.get(target) {
                    replaced_by[t].push(flat);
                }
            }
            if !r.match_categories.is_empty() {
                category_rules.push(flat);
            }
            let all =
                r.kw.iter()
                    .map(|p| (p, false))
                    .chain(r.exc.iter().map(|p| (p, true)));
            for (p, exception) in all {
                let id = *pat_ids.entry(p.norm.clone()).or_insert_with(|| {
                    patterns.push(p.norm.clone());
                    entries.push(Vec::new());
                    patterns.len() - 1
                });
                entries[id].push(Entry {
                    rule: flat as u32,
                    exception,
                    left: p.left,
                    right: p.right,
                });
            }
        }
        // Patterns were checked when the packs loaded, so the automaton can
        // only fail on resource limits far beyond any pack set; without it
        // keyword rules simply cannot match, which the tests would catch.
        let ac = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .build(&patterns)
            .ok();
        PolicySet {
            packs,
            sources,
            rules,
            by_id,
            replaced_by,
            category_rules,
            ac,
            entries,
        }
    }

    fn flat_rule(&self, flat: usize) -> (&Pack, &Rule) {
        let (p, r) = self.rules[flat];
        (&self.packs[p], &self.packs[p].rules[r])
    }

    /// True if rule `flat` applies to `region` at `now` and no applicable,
    /// in-force rule of a more specific pack replaces it.
    fn active(&self, flat: usize, region: Region, now: DateTime<Utc>) -> bool {
        let (p, r) = self.flat_rule(flat);
        p.scope.applies_to(region)
            && r.in_force(now)
            && !self.replaced_by[flat].iter().any(|&by| {
                let (bp, br) = self.flat_rule(by);
                bp.scope.applies_to(region) && br.in_force(now)
            })
    }

    /// Keyword and exception hits of every rule whose pack applies to
    /// `region`, over the title, brand and description.
    fn hits(&self, text: &ListingText, region: Region) -> Vec<Hit> {
        let mut hits = Vec::new();
        let Some(ac) = &self.ac else {
            return hits;
        };
        let applicable: Vec<bool> = self
            .packs
            .iter()
            .map(|p| p.scope.applies_to(region))
            .collect();
        for (fi, n) in text.fields.iter().enumerate() {
            let Some(n) = n else { continue };
            let t = n.text();
            for m in ac.find_overlapping_iter(t) {
                for e in &self.entries[m.pattern().as_usize()] {
                    if !applicable[self.rules[e.rule as usize].0] {
                        continue;
                    }
                    if e.left && !left_boundary(t, m.start()) {
                        continue;
                    }
                    let end = if e.right {
                        match right_boundary(t, m.end()) {
                            Some(end) => end,
                            None => continue,
                        }
                    } else {
                        m.end()
                    };
                    hits.push(Hit {
                        rule: e.rule,
                        field: fi as u8,
                        start: m.start(),
                        end,
                        exception: e.exception,
                    });
                }
            }
        }
        hits
    }

    /// Screens one listing against every pack that applies to its region.
    ///
    /// `quals` are the seller's qualifications (others' are ignored); an
    /// expired one counts as missing. Rules are honoured only while in force
    /// at `now`.
    pub fn screen(
        &self,
        listing: &Listing,
        quals: &[Qualification],
        now: DateTime<Utc>,
    ) -> PolicyOutcome {
        self.screen_text(listing, &ListingText::new(listing), quals, now)
    }

    /// Like [`PolicySet::screen`], with the listing's fields already
    /// normalised (the gate normalises once for every text stage).
    /// `text` must come from this `listing`.
    pub fn screen_text(
        &self,
        listing: &Listing,
        text: &ListingText,
        quals: &[Qualification],
        now: DateTime<Utc>,
    ) -> PolicyOutcome {
        let region = listing.region;
        let mut out = PolicyOutcome {
            pack_versions: self.versions_for(region),
            ..PolicyOutcome::default()
        };
        let norms = &text.fields;
        let mut hits = self.hits(text, region);
        hits.sort_by_key(|h| (h.rule, h.field, h.start));

        // Keyword hits that survive the rule's exceptions, grouped by rule.
        let mut by_rule: BTreeMap<u32, Vec<Hit>> = BTreeMap::new();
        for group in hits.chunk_by(|a, b| (a.rule, a.field) == (b.rule, b.field)) {
            // Exceptions of this rule in this field, by start, with the
            // largest end seen so far: a keyword hit is excused if an
            // exception starting before it ends also ends after it starts.
            let mut exc: Vec<(usize, usize)> = group
                .iter()
                .filter(|h| h.exception)
                .map(|h| (h.start, h.end))
                .collect();
            let mut max_end = 0;
            for e in exc.iter_mut() {
                max_end = max_end.max(e.1);
                e.1 = max_end;
            }
            for h in group.iter().filter(|h| !h.exception) {
                let before = exc.partition_point(|&(start, _)| start < h.end);
                let excused = before > 0 && exc[before - 1].1 > h.start;
                if !excused {
                    by_rule.entry(h.rule).or_default().push(*h);
                }
            }
        }
        for &flat in &self.category_rules {
            let (_, r) = self.flat_rule(flat);
            if r.matches_category(&listing.category) {
                by_rule.entry(flat as u32).or_default();
            }
        }

        for (flat, rule_hits) in by_rule {
            let flat = flat as usize;
            if !self.active(flat, region, now) {
                continue;
            }
            let (pack, rule) = self.flat_rule(flat);
            let weak = rule.weak_in_category(&listing.category);
            let cat = rule.covers_category(&listing.category) && !weak;
            let in_title = rule_hits.iter().any(|h| h.field < 2);
            let mut conf: f64 = 0.0;
            if !rule_hits.is_empty() {
                conf = if weak {
                    // Where the goods cannot be, one keyword is a name or a
                    // pattern ("Dynamite belt"); two different keywords of
                    // the rule ("dynamite detonator") go to review.
                    let mut kws: Vec<&str> = rule_hits
                        .iter()
                        .filter_map(|h| {
                            let t = norms[h.field as usize].as_ref()?.text();
                            t.get(h.start..h.end)
                                .map(|k| k.strip_suffix('s').unwrap_or(k))
                        })
                        .collect();
                    kws.sort_unstable();
                    kws.dedup();
                    if kws.len() >= 2 {
                        CONFIDENCE_UNCERTAIN
                    } else {
                        CONFIDENCE_WEAK
                    }
                } else if rule_hits.iter().all(|h| h.field == 1) {
                    // Only the brand field: a brand name ("Gin", "Wine") is
                    // a name, not the goods, unless the category says the
                    // goods are what the rule is about.
                    if cat {
                        CONFIDENCE_UNCERTAIN
                    } else {
                        CONFIDENCE_WEAK
                    }
                } else {
                    match (in_title, cat) {
                        (true, true) => CONFIDENCE_CLEAR,
                        (true, false) | (false, true) => CONFIDENCE_UNCERTAIN,
                        (false, false) => 0.0,
                    }
                };
            }
            if rule.matches_category(&listing.category) {
                conf = conf.max(CONFIDENCE_CATEGORY);
            }
            if rule.review_only {
                conf = conf.min(CONFIDENCE_UNCERTAIN);
            }
            if conf <= 0.0 {
                continue;
            }
            if rule.kind == RuleKind::Restricted
                && let Some(q) = &rule.qualification
                && let Some(held) = quals
                    .iter()
                    .find(|h| h.shop_id == listing.shop_id && h.satisfies(q, region, now))
            {
                out.qualified.push(QualifiedMatch {
                    rule_id: rule.id.clone(),
                    pack: pack.name.clone(),
                    qualification: q.clone(),
                    evidence_ref: held.evidence_ref.clone(),
                });
                continue;
            }
            out.violations
                .push(self.violation(listing, pack, rule, conf, &rule_hits, norms, cat, weak));
        }
        out.violations.sort_by(|a, b| {
            b.confidence
                .total_cmp(&a.confidence)
                .then_with(|| a.rule_id.cmp(&b.rule_id))
        });
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn violation(
        &self,
        listing: &Listing,
        pack: &Pack,
        rule: &Rule,
        conf: f64,
        hits: &[Hit],
        norms: &[Option<norm::Norm>; 3],
        cat: bool,
        weak: bool,
    ) -> Violation {
        let texts = [
            Some(listing.title.as_str()),
            listing.brand.as_deref(),
            listing.description.as_deref(),
        ];
        // Hits are sorted by field then position: the first is the best.
        let located = hits.first().and_then(|h| {
            let n = norms[h.field as usize].as_ref()?;
            let orig = texts[h.field as usize]?;
            let span = n.original_span(h.start..h.end);
            let text = orig.get(span.clone())?.to_string();
            Some((FIELDS[h.field as usize], span, text))
        });
        let mut cues: Vec<String> = Vec::new();
        for h in hits.iter().skip(1) {
            let (Some(n), Some(orig)) = (norms[h.field as usize].as_ref(), texts[h.field as usize])
            else {
                continue;
            };
            if let Some(t) = orig.get(n.original_span(h.start..h.end))
                && !cues.iter().any(|c| c.eq_ignore_ascii_case(t))
                && located
                    .as_ref()
                    .is_none_or(|(_, _, lt)| !lt.eq_ignore_ascii_case(t))
                && cues.len() < 5
            {
                cues.push(t.to_string());
            }
        }
        let region = listing.region;
        let mut why = String::new();
        match &located {
            Some((field, _, text)) => {
                why.push_str(&format!(
                    "{text:?} in the {field} matches rule {} ",
                    rule.id
                ));
            }
            None => why.push_str(&format!(
                "The listing's category {:?} is covered by rule {} ",
                listing.category, rule.id
            )),
        }
        why.push_str(&format!(
            "({} in {}). {}",
            rule.kind.as_str(),
            region,
            rule.summary
        ));
        if let Some(q) = &rule.qualification {
            why.push_str(&format!(
                " The seller holds no valid {q} qualification for {region}."
            ));
        }
        if conf < DEFAULT_REJECT_AT {
            if conf < DEFAULT_REVIEW_AT && !weak {
                why.push_str(
                    " The keyword is only in the brand field, and a brand name is weak evidence of the \
                     goods outside the rule's categories.",
                );
            } else if weak && conf < DEFAULT_REVIEW_AT {
                why.push_str(
                    " The listing's category is one where these goods cannot be, so one keyword alone \
                     (a name or a pattern) is weak evidence.",
                );
            } else if weak {
                why.push_str(
                    " The listing's category is one where these goods cannot be, but several of the \
                     rule's keywords appear, so a reviewer checks it.",
                );
            } else if rule.review_only {
                why.push_str(" Context decides this one, so a reviewer checks it.");
            } else if !cat {
                why.push_str(
                    " The listing's category is not one the rule covers, so a reviewer checks it.",
                );
            } else {
                why.push_str(" The match is only in the description, so a reviewer checks it.");
            }
        }
        why.push_str(&format!(
            " Source: {}.",
            rule.citation.trim_end_matches('.')
        ));
        let (field, span, text) = match located {
            Some((f, s, t)) => (Some(f.to_string()), Some([s.start, s.end]), Some(t)),
            None => (None, None, None),
        };
        Violation {
            kind: match rule.kind {
                RuleKind::Prohibited => ViolationType::Prohibited,
                RuleKind::Restricted => ViolationType::Restricted,
            },
            right_id: None,
            rule_id: Some(rule.id.clone()),
            detector: DETECTOR.to_string(),
            confidence: conf,
            evidence: Evidence {
                field,
                span,
                text,
                method: Some(
                    if hits.is_empty() {
                        "category"
                    } else {
                        "keyword"
                    }
                    .to_string(),
                ),
                cues,
                pack: Some(pack.name.clone()),
                pack_version: Some(pack.version().to_string()),
                citation: Some(rule.citation.clone()),
                qualification: rule.qualification.clone(),
                why,
                ..Evidence::default()
            },
        }
    }

    /// Listing-independent access for the sweep: every pattern (normalised
    /// keyword and exception) of a rule.
    pub(crate) fn rule_patterns(rule: &Rule) -> impl Iterator<Item = &str> {
        rule.kw
            .iter()
            .chain(rule.exc.iter())
            .map(|p| p.norm.as_str())
    }
}

/// A rule that replaces another keeps the other's exceptions too: honest
/// look-alikes (root beer, wine glasses, water pistols) stay honest in every
/// region without each pack repeating them.
fn inherit_exceptions(packs: &mut [Pack]) {
    let by_id: HashMap<String, (Vec<String>, Vec<crate::pack::Pattern>)> = packs
        .iter()
        .flat_map(|p| p.rules.iter())
        .map(|r| (r.id.clone(), (r.exceptions.clone(), r.exc.clone())))
        .collect();
    for p in packs.iter_mut() {
        for r in p.rules.iter_mut() {
            for target in r.replaces.clone() {
                let Some((src, pats)) = by_id.get(&target) else {
                    continue;
                };
                for (s, pat) in src.iter().zip(pats) {
                    if !r.exc.contains(pat) {
                        r.exc.push(pat.clone());
                        r.exceptions.push(s.clone());
                    }
                }
            }
        }
    }
}

fn left_boundary(t: &str, start: usize) -> bool {
    match t[..start].chars().next_back() {
        None => true,
        Some(c) => !c.is_alphanumeric() || is_unspaced(c),
    }
}

/// The end of the match if it ends at a word boundary, allowing a plural
/// `s` or `es` after a Latin keyword.
fn right_boundary(t: &str, end: usize) -> Option<usize> {
    let ok = |at: usize| match t[at..].chars().next() {
        None => true,
        Some(c) => !c.is_alphanumeric() || is_unspaced(c),
    };
    if ok(end) {
        return Some(end);
    }
    let last_ascii = t[..end]
        .chars()
        .next_back()
        .is_some_and(|c| c.is_ascii_alphabetic());
    if last_ascii {
        for suffix in ["s", "es"] {
            if t[end..].starts_with(suffix) && ok(end + suffix.len()) {
                return Some(end + suffix.len());
            }
        }
    }
    None
}

/// Checks that span packs: unique names and scopes, unique rule ids, and
/// `replaces` naming a rule of a less specific pack that covers the same
/// regions.
fn check_across(packs: &[Pack], issues: &mut Vec<PackIssue>) {
    let mut names: HashMap<&str, &str> = HashMap::new();
    let mut scopes: HashMap<Scope, &str> = HashMap::new();
    let mut ids: HashMap<&str, (&Pack, &Rule)> = HashMap::new();
    for p in packs {
        if let Some(prev) = names.insert(&p.name, &p.file) {
            issues.push(PackIssue {
                file: p.file.clone(),
                line: 1,
                rule_id: None,
                reason: format!("pack name {:?} is already used by {prev}", p.name),
            });
        }
        if let Some(prev) = scopes.insert(p.scope, &p.file) {
            issues.push(PackIssue {
                file: p.file.clone(),
                line: 1,
                rule_id: None,
                reason: format!(
                    "scope {} already has a pack ({prev}); one pack per scope",
                    p.scope
                ),
            });
        }
        for r in &p.rules {
            if let Some((pp, pr)) = ids.insert(&r.id, (p, r)) {
                issues.push(PackIssue {
                    file: p.file.clone(),
                    line: r.line,
                    rule_id: Some(r.id.clone()),
                    reason: format!("duplicate rule id (also in {} line {})", pp.file, pr.line),
                });
            }
        }
    }
    for p in packs {
        for r in &p.rules {
            for target in &r.replaces {
                let reason = match ids.get(target.as_str()) {
                    None => Some(format!("replaces unknown rule {target:?}")),
                    Some((tp, _)) => {
                        let ok = tp.scope.specificity() < p.scope.specificity()
                            && match (tp.scope, p.scope) {
                                (Scope::Global, _) => true,
                                (Scope::Eu, Scope::Region(reg)) => crate::pack::is_eu_member(reg),
                                _ => false,
                            };
                        (!ok).then(|| {
                            format!(
                                "replaces {target:?} of pack {} (scope {}), which is not a less specific pack covering scope {}",
                                tp.name, tp.scope, p.scope
                            )
                        })
                    }
                };
                if let Some(reason) = reason {
                    issues.push(PackIssue {
                        file: p.file.clone(),
                        line: r.line,
                        rule_id: Some(r.id.clone()),
                        reason,
                    });
                }
            }
        }
    }
}
