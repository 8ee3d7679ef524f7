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
}

impl Counts {
    fn add(&mut self, label: Label, action: Action) {
        let flagged = action != Action::Approve;
        let rejected = action == Action::Reject;
        match label {
            Label::Positive => {
                self.positives += 1;
                self.tp += usize::from(flagged);
                self.rejected_tp += usize::from(rejected);
            }
            Label::Negative => {
                self.negatives += 1;
                self.fp += usize::from(flagged);
            }
        }
        self.rejected += usize::from(rejected);
    }

    /// Flagged positives over flagged listings.
    pub fn precision(&self) -> Option<f64> {
        ratio(self.tp, self.tp + self.fp)
    }

    /// Flagged positives over positives.
    pub fn recall(&self) -> Option<f64> {
        ratio(self.tp, self.positives)
    }

    /// Flagged negatives over negatives.
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

    /// Whether the issue's targets hold: obfuscated recall ≥ 0.97, hard
    /// negative FPR ≤ 0.5 %, reject precision ≥ 0.995.
    pub fn meets_targets(&self) -> bool {
        self.obfuscated_recall().is_some_and(|r| r >= 0.97)
            && self.hard_negative_fpr().is_some_and(|f| f <= 0.005)
            && self.overall.reject_precision().is_none_or(|p| p >= 0.995)
    }
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
    let mut report = EvalReport {
        overall: Counts::default(),
        groups: BTreeMap::new(),
        families: BTreeMap::new(),
        misses: Vec::new(),
    };
    for case in cases {
        let nice = taxonomy
            .get(&case.listing.category)
            .map(|c| c.nice.clone())
            .unwrap_or_default();
        let violations = matcher.screen(&case.listing, &nice);
        let score = violations.iter().map(|v| v.confidence).fold(0.0, f64::max);
        let action = score_to_action(config, score);
        report.overall.add(case.label, action);
        let group = case
            .family
            .split_once('/')
            .map_or(case.family.as_str(), |(g, _)| g);
        report
            .groups
            .entry(group.to_string())
            .or_default()
            .add(case.label, action);
        report
            .families
            .entry(case.family.clone())
            .or_default()
            .add(case.label, action);
        let wrong = match case.label {
            Label::Positive => action == Action::Approve,
            Label::Negative => action != Action::Approve,
        };
        if wrong {
            report.misses.push(Miss {
                id: case.listing.id.clone(),
                family: case.family.clone(),
                label: case.label,
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
        "{:<28} {:>6} {:>6} {:>9} {:>9} {:>9} {:>10}",
        name,
        c.positives,
        c.negatives,
        pct(c.precision()),
        pct(c.recall()),
        pct(c.fpr()),
        pct(c.reject_precision()),
    )
}

impl fmt::Display for EvalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<28} {:>6} {:>6} {:>9} {:>9} {:>9} {:>10}",
            "family", "pos", "neg", "precision", "recall", "FPR", "rej.prec"
        )?;
        for (name, c) in &self.families {
            row(f, name, c)?;
        }
        writeln!(f, "{}", "-".repeat(83))?;
        for (name, c) in &self.groups {
            row(f, &format!("[{name}]"), c)?;
        }
        row(f, "OVERALL", &self.overall)?;
        writeln!(f)?;
        writeln!(
            f,
            "targets: obfuscated recall {} (≥ 97%), hard-negative FPR {} (≤ 0.5%), reject precision {} (≥ 99.5%): {}",
            pct(self.obfuscated_recall()),
            pct(self.hard_negative_fpr()),
            pct(self.overall.reject_precision()),
            if self.meets_targets() {
                "MET"
            } else {
                "NOT MET"
            }
        )
    }
}
