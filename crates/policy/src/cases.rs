//! `policy test`: a pack set checked against expected outcomes.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use shopshield_model::{Action, Listing, Qualification};

use crate::set::{DEFAULT_REJECT_AT, DEFAULT_REVIEW_AT, PolicySet};

/// One line of a cases file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    /// What the case shows, for the report.
    name: String,
    listing: Listing,
    #[serde(default)]
    qualifications: Vec<Qualification>,
    /// `approve`, `review` or `reject`.
    expect: Action,
    /// If given, exactly these rule ids must be violated.
    rules: Option<Vec<String>>,
    /// If given, a violation must name this missing qualification.
    missing_qualification: Option<String>,
    /// If given, a violation's citation must contain this text.
    citation_contains: Option<String>,
    /// Screen as of this instant instead of the run's `now`.
    now: Option<DateTime<Utc>>,
}

/// The result of one case.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseResult {
    /// 1-based line in the cases file.
    pub line: usize,
    pub name: String,
    /// The action the outcome leads to under the default thresholds; `None`
    /// if the line could not be read.
    pub action: Option<Action>,
    /// The rule ids violated.
    pub rules: Vec<String>,
    /// Why the case failed; empty if it passed.
    pub failures: Vec<String>,
}

impl CaseResult {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Every case's result. `Display` prints one line per case and a closing
/// `N passed, N failed` line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaseReport {
    pub results: Vec<CaseResult>,
}

impl CaseReport {
    pub fn passed(&self) -> usize {
        self.results.iter().filter(|r| r.passed()).count()
    }

    pub fn failed(&self) -> usize {
        self.results.len() - self.passed()
    }

    /// True if there was at least one case and none failed.
    pub fn ok(&self) -> bool {
        !self.results.is_empty() && self.failed() == 0
    }
}

impl fmt::Display for CaseReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for r in &self.results {
            let action = r.action.map(Action::as_str).unwrap_or("-");
            if r.passed() {
                writeln!(f, "PASS line {}: {} ({action})", r.line, r.name)?;
            } else {
                writeln!(f, "FAIL line {}: {} ({action})", r.line, r.name)?;
                for why in &r.failures {
                    writeln!(f, "     {why}")?;
                }
            }
        }
        write!(f, "{} passed, {} failed", self.passed(), self.failed())
    }
}

/// Runs every case in `cases_jsonl` (one JSON object a line; blank lines and
/// lines starting with `#` are skipped) against `set` at `now`.
///
/// A case passes if the outcome's action under the gate's default
/// thresholds is `expect`, and, where given, the violated rule ids are
/// exactly `rules`, a violation names `missing_qualification`, and a
/// violation's citation contains `citation_contains`.
pub fn run_cases(set: &PolicySet, cases_jsonl: &str, now: DateTime<Utc>) -> CaseReport {
    let mut report = CaseReport::default();
    for (i, line) in cases_jsonl.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let case: Case = match serde_json::from_str(trimmed) {
            Ok(c) => c,
            Err(e) => {
                report.results.push(CaseResult {
                    line: i + 1,
                    name: "(unreadable case)".into(),
                    action: None,
                    rules: Vec::new(),
                    failures: vec![format!("not a valid case: {e}")],
                });
                continue;
            }
        };
        let outcome = set.screen(&case.listing, &case.qualifications, case.now.unwrap_or(now));
        let action = outcome.action(DEFAULT_REVIEW_AT, DEFAULT_REJECT_AT);
        let got: BTreeSet<String> = outcome
            .violations
            .iter()
            .filter_map(|v| v.rule_id.clone())
            .collect();
        let mut failures = Vec::new();
        if action != case.expect {
            failures.push(format!(
                "expected {}, got {} (violations: {})",
                case.expect.as_str(),
                action.as_str(),
                describe(&outcome.violations)
            ));
        }
        if let Some(want) = &case.rules {
            let want: BTreeSet<String> = want.iter().cloned().collect();
            if want != got {
                failures.push(format!("expected rules {want:?}, got {got:?}"));
            }
        }
        if let Some(q) = &case.missing_qualification
            && !outcome
                .violations
                .iter()
                .any(|v| v.evidence.qualification.as_deref() == Some(q))
        {
            failures.push(format!(
                "no violation names the missing qualification {q:?}"
            ));
        }
        if let Some(c) = &case.citation_contains
            && !outcome.violations.iter().any(|v| {
                v.evidence
                    .citation
                    .as_deref()
                    .is_some_and(|cit| cit.contains(c.as_str()))
            })
        {
            failures.push(format!("no violation cites {c:?}"));
        }
        report.results.push(CaseResult {
            line: i + 1,
            name: case.name,
            action: Some(action),
            rules: got.into_iter().collect(),
            failures,
        });
    }
    report
}

fn describe(v: &[shopshield_model::Violation]) -> String {
    if v.is_empty() {
        return "none".into();
    }
    v.iter()
        .map(|v| {
            format!(
                "{} {:.2} {:?}",
                v.rule_id.as_deref().unwrap_or("?"),
                v.confidence,
                v.evidence.text.as_deref().unwrap_or("")
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}
