//! Evaluation on a labelled corpus: precision, recall and false-positive
//! rate, per family, per group and overall.
//!
//! A case is one line of `data/eval/text/cases.jsonl`:
//!
//! ```json
//! {"label":"positive","family":"obf/leet","listing":{...a Listing...}}
//! ```
//!
//! `family` is `group/name`; the groups used by the shipped corpus are `obf`
//! (obfuscated marks), `cue` (exact marks with counterfeit cues), `claim`
//! (brand-field claims at implausible prices), `plain` (unobfuscated mentions
//! that deserve review) and `neg` (honest hard negatives).
//!
//! A listing is *flagged* when the gate would not approve it: its score (the
//! highest violation confidence) reaches `review`. Precision, recall and the
//! false-positive rate count flags; `reject precision` counts only rejects.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use shopshield_model::{Action, Listing, Right, Taxonomy};

use crate::config::TextConfig;
use crate::matcher::{BuildError, MarkMatcher, score_to_action};

/// Positive: the listing infringes; negative: it is honest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Label {
    Positive,
    Negative,
}

/// One labelled listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabeledCase {
    pub label: Label,
    /// `group/name`, e.g. `obf/homoglyph` or `neg/compat`.
    pub family: String,
    pub listing: Listing,
    /// `dev` (may be looked at while tuning) or `test` (held out, report
    /// only). Absent: drawn from a hash of the listing id ([`case_split`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<String>,
    /// For a negative, the strongest acceptable action (default `approve`;
    /// genuine resale is `review`: a reviewer may look, a reject is wrong).
    /// For a positive, the weakest acceptable action (default `review`;
    /// `reject` where the listing must not go live even to a reviewer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<Action>,
}

/// The part of the corpus a case belongs to: its `split`, or, for cases
/// without one, `dev` or `test` by a hash (FNV-1a) of the listing id, so the
/// halves are fixed and independent of the detector.
pub fn case_split(case: &LabeledCase) -> &str {
    if let Some(s) = case.split.as_deref() {
        return s;
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in case.listing.id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    if h.is_multiple_of(2) { "test" } else { "dev" }
}

/// Counts for one family, group or the whole corpus.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Counts {
    pub positives: usize,
    pub negatives: usize,
    /// Positives flagged (review or reject).
    pub tp: usize,
    /// Negatives flagged.
    pub fp: usize,
    /// Listings rejected.
    pub rejected: usize,
    /// Positives rejected.
    pub rejected_tp: usize,
    /// Cases whose action met their expectation (see [`LabeledCase::expect`]).
    pub ok: usize,
    /// Honest listings that must be approved (no `expect` above approve).
    pub honest: usize,
    /// Of those, listings held back (review or reject).
    pub held: usize,
}

impl Counts {
    fn add(&mut self, label: Label, expect: Option<Action>, action: Action) {
        let flagged = action != Action::Approve;
        let rejected = action == Action::Reject;
        match label {
            Label::Positive => {
                self.positives += 1;
                self.tp += usize::from(flagged);
                self.rejected_tp += usize::from(rejected);
                self.ok += usize::from(action >= expect.unwrap_or(Action::Review));
            }
            Label::Negative => {
                let max = expect.unwrap_or(Action::Approve);
                self.negatives += 1;
                self.fp += usize::from(action > max);
                self.ok += usize::from(action <= max);
                if max == Action::Approve {
                    self.honest += 1;
                    self.held += usize::from(flagged);
                }
            }
        }
        self.rejected += usize::from(rejected);
    }

    fn merge(&mut self, o: &Counts) {
        self.positives += o.positives;
        self.negatives += o.negatives;
        self.tp += o.tp;
        self.fp += o.fp;
        self.rejected += o.rejected;
        self.rejected_tp += o.rejected_tp;
        self.ok += o.ok;
        self.honest += o.honest;
        self.held += o.held;
    }

    /// Share of cases whose action met their expectation.
    pub fn ok_rate(&self) -> Option<f64> {
        ratio(self.ok, self.positives + self.negatives)
    }

    /// Honest listings held back (review or reject) over honest listings.
    pub fn hold_back(&self) -> Option<f64> {
        ratio(self.held, self.honest)
    }

    /// Flagged positives over flagged listings.
    pub fn precision(&self) -> Option<f64> {
        ratio(self.tp, self.tp + self.fp)
    }

    /// Flagged positives over positives.
    pub fn recall(&self) -> Option<f64> {
        ratio(self.tp, self.positives)
    }

    /// Negatives given more than their expected action, over negatives.
    pub fn fpr(&self) -> Option<f64> {
        ratio(self.fp, self.negatives)
    }

    /// Rejected positives over rejected listings.
    pub fn reject_precision(&self) -> Option<f64> {
        ratio(self.rejected_tp, self.rejected)
    }
}

fn ratio(a: usize, b: usize) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

/// A case the detector got wrong.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Miss {
    pub id: String,
    pub family: String,
    pub label: Label,
    pub expect: Option<Action>,
    pub action: Action,
    pub score: f64,
    pub title: String,
}

/// The result of [`evaluate`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    pub overall: Counts,
    pub groups: BTreeMap<String, Counts>,
    pub families: BTreeMap<String, Counts>,
    /// Wrong answers (false negatives and false positives), in corpus order.
    pub misses: Vec<Miss>,
}

impl EvalReport {
    /// Recall on obfuscated marks (the `obf` group).
    pub fn obfuscated_recall(&self) -> Option<f64> {
        self.groups.get("obf").and_then(Counts::recall)
    }

    /// False-positive rate on honest hard negatives (the `neg` group).
    pub fn hard_negative_fpr(&self) -> Option<f64> {
        self.groups.get("neg").and_then(Counts::fpr)
    }

    /// Honest hold-back: honest listings (negatives expected to be approved)
    /// sent to review or rejected, over all of them.
    pub fn hold_back(&self) -> Option<f64> {
        self.overall.hold_back()
    }

    /// Genuine resale listings (negatives of the `resale` group) rejected.
    pub fn resale_rejected(&self) -> usize {
        self.groups
            .get("resale")
            .map_or(0, |c| c.rejected - c.rejected_tp)
    }

    /// Whether the targets hold: obfuscated recall ≥ 0.97 (where the corpus
    /// has obfuscated marks), honest hold-back ≤ 0.5 %, reject precision
    /// ≥ 0.995, and no genuine resale listing rejected.
    pub fn meets_targets(&self) -> bool {
        self.obfuscated_recall().is_none_or(|r| r >= 0.97)
            && self.hold_back().is_some_and(|f| f <= 0.005)
            && self.overall.reject_precision().is_none_or(|p| p >= 0.995)
            && self.resale_rejected() == 0
    }

    /// Adds another report's counts (families and groups are keyed by name,
    /// so reports of disjoint corpora merge cleanly).
    pub fn merge(&mut self, other: &EvalReport) {
        self.overall.merge(&other.overall);
        for (k, c) in &other.groups {
            self.groups.entry(k.clone()).or_default().merge(c);
        }
        for (k, c) in &other.families {
            self.families.entry(k.clone()).or_default().merge(c);
        }
        self.misses.extend(other.misses.iter().cloned());
    }

    /// An empty report.
    pub fn empty() -> EvalReport {
        EvalReport {
            overall: Counts::default(),
            groups: BTreeMap::new(),
            families: BTreeMap::new(),
            misses: Vec::new(),
        }
    }
}

/// The cases of one split (`dev` or `test`, see [`case_split`]).
pub fn select_split(cases: &[LabeledCase], split: &str) -> Vec<LabeledCase> {
    cases
        .iter()
        .filter(|c| case_split(c) == split)
        .cloned()
        .collect()
}

/// Builds a matcher from `rights` and `config`, screens every case, and
/// counts. Category Nice classes come from `taxonomy`; an unknown category
/// screens with no class limit.
pub fn evaluate(
    rights: &[Right],
    config: &TextConfig,
    taxonomy: &Taxonomy,
    cases: &[LabeledCase],
) -> Result<EvalReport, BuildError> {
    let matcher = MarkMatcher::build(rights, config)?;
    let mut report = EvalReport::empty();
    for case in cases {
        let nice = taxonomy
            .get(&case.listing.category)
            .map(|c| c.nice.clone())
            .unwrap_or_default();
        let violations = matcher.screen(&case.listing, &nice);
        let score = violations.iter().map(|v| v.confidence).fold(0.0, f64::max);
        let action = score_to_action(config, score);
        let expect = case.expect;
        report.overall.add(case.label, expect, action);
        let group = case
            .family
            .split_once('/')
            .map_or(case.family.as_str(), |(g, _)| g);
        report
            .groups
            .entry(group.to_string())
            .or_default()
            .add(case.label, expect, action);
        report
            .families
            .entry(case.family.clone())
            .or_default()
            .add(case.label, expect, action);
        let wrong = match case.label {
            Label::Positive => action < expect.unwrap_or(Action::Review),
            Label::Negative => action > expect.unwrap_or(Action::Approve),
        };
        if wrong {
            report.misses.push(Miss {
                id: case.listing.id.clone(),
                family: case.family.clone(),
                label: case.label,
                expect,
                action,
                score,
                title: case.listing.title.clone(),
            });
        }
    }
    Ok(report)
}

/// Parses the corpus JSONL (blank lines and `#` lines are skipped). The error
/// names the 1-based line.
pub fn parse_cases(jsonl: &str) -> Result<Vec<LabeledCase>, (usize, String)> {
    let mut out = Vec::new();
    for (i, line) in jsonl.lines().enumerate() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        out.push(serde_json::from_str(l).map_err(|e| (i + 1, e.to_string()))?);
    }
    Ok(out)
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |x| format!("{:.2}%", x * 100.0))
}

fn row(f: &mut fmt::Formatter<'_>, name: &str, c: &Counts) -> fmt::Result {
    writeln!(
        f,
        "{:<28} {:>6} {:>6} {:>9} {:>9} {:>9} {:>10} {:>8}",
        name,
        c.positives,
        c.negatives,
        pct(c.precision()),
        pct(c.recall()),
        pct(c.fpr()),
        pct(c.reject_precision()),
        pct(c.ok_rate()),
    )
}

impl fmt::Display for EvalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<28} {:>6} {:>6} {:>9} {:>9} {:>9} {:>10} {:>8}",
            "family", "pos", "neg", "precision", "recall", "FPR", "rej.prec", "ok"
        )?;
        for (name, c) in &self.families {
            row(f, name, c)?;
        }
        writeln!(f, "{}", "-".repeat(92))?;
        for (name, c) in &self.groups {
            row(f, &format!("[{name}]"), c)?;
        }
        row(f, "OVERALL", &self.overall)?;
        writeln!(f)?;
        writeln!(
            f,
            "targets: obfuscated recall {} (≥ 97%), honest hold-back {} (≤ 0.5%), reject precision {} (≥ 99.5%), genuine resale rejected {} (0): {}",
            pct(self.obfuscated_recall()),
            pct(self.hold_back()),
            pct(self.overall.reject_precision()),
            self.resale_rejected(),
            if self.meets_targets() {
                "MET"
            } else {
                "NOT MET"
            }
        )
    }
}
