//! `shopshield eval`: precision, recall, hold-back and reject precision of
//! the text detector on a labelled corpus, per family, on the held-out part
//! (reported) and on the dev part (looked at while tuning); plus the policy
//! packs on their collision and CBD families.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use chrono::{TimeZone, Utc};
use serde::Deserialize;
use shopshield_model::{Action, Listing, Right, Taxonomy};
use shopshield_policy::{DEFAULT_REJECT_AT, DEFAULT_REVIEW_AT, PolicySet};
use shopshield_text::eval::{EvalReport, LabeledCase, evaluate, parse_cases, select_split};

use crate::BadInput;

/// The shipped corpus (see `data/eval/text/README.md`), built into the
/// binary so `eval` runs anywhere: the first corpus, and the hard families
/// of round 2 (`hard/`, screened with the first corpus's rights plus its
/// own).
const RIGHTS: &str = include_str!("../data/eval/text/rights.jsonl");
const CASES: &str = include_str!("../data/eval/text/cases.jsonl");
const HARD_RIGHTS: &str = include_str!("../data/eval/text/hard/rights.jsonl");
const HARD_CASES: &str = include_str!("../data/eval/text/hard/cases.jsonl");
/// Policy collision and CBD cases (`data/eval/policy/README.md`).
const POLICY_CASES: &str = include_str!("../data/eval/policy/cases.jsonl");

fn parse_rights(name: &str, text: &str) -> Result<Vec<Right>> {
    let mut rights = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let r: Right =
            serde_json::from_str(line).map_err(|e| BadInput(format!("{name}:{}: {e}", i + 1)))?;
        rights.push(r);
    }
    Ok(rights)
}

#[derive(Deserialize)]
struct PolicyCase {
    family: String,
    split: String,
    listing: Listing,
    expect: Action,
}

pub fn run(
    config: &shopshield_app::AppConfig,
    dir: Option<&Path>,
    misses: usize,
) -> Result<ExitCode> {
    let taxonomy = Taxonomy::builtin();
    // (rights, cases) per corpus.
    let mut corpora: Vec<(Vec<Right>, Vec<LabeledCase>)> = Vec::new();
    match dir {
        Some(d) => {
            let read = |f: &str| {
                std::fs::read_to_string(d.join(f))
                    .map_err(|e| BadInput(format!("cannot read {}: {e}", d.join(f).display())))
            };
            let rights = parse_rights("rights.jsonl", &read("rights.jsonl")?)?;
            let cases = parse_cases(&read("cases.jsonl")?)
                .map_err(|(line, e)| BadInput(format!("cases.jsonl:{line}: {e}")))?;
            if d.join("hard/cases.jsonl").exists() {
                let mut hr = rights.clone();
                hr.extend(parse_rights(
                    "hard/rights.jsonl",
                    &read("hard/rights.jsonl")?,
                )?);
                let hc = parse_cases(&read("hard/cases.jsonl")?)
                    .map_err(|(line, e)| BadInput(format!("hard/cases.jsonl:{line}: {e}")))?;
                corpora.push((rights, cases));
                corpora.push((hr, hc));
            } else {
                corpora.push((rights, cases));
            }
        }
        None => {
            let rights = parse_rights("rights.jsonl", RIGHTS)?;
            let cases = parse_cases(CASES)
                .map_err(|(line, e)| BadInput(format!("cases.jsonl:{line}: {e}")))?;
            let mut hr = rights.clone();
            hr.extend(parse_rights("hard/rights.jsonl", HARD_RIGHTS)?);
            let hc = parse_cases(HARD_CASES)
                .map_err(|(line, e)| BadInput(format!("hard/cases.jsonl:{line}: {e}")))?;
            corpora.push((rights, cases));
            corpora.push((hr, hc));
        }
    }
    let mut held_out = None;
    for (split, title) in [
        ("test", "HELD-OUT part (reported; never tuned on)"),
        ("dev", "DEV part (looked at while tuning)"),
    ] {
        let mut report = EvalReport::empty();
        let mut n = 0;
        for (rights, cases) in &corpora {
            let part = select_split(cases, split);
            n += part.len();
            let r = evaluate(rights, &config.text, &taxonomy, &part)
                .map_err(|e| BadInput(e.to_string()))?;
            report.merge(&r);
        }
        println!("== text detector, {title}: {n} labelled listings\n");
        print!("{report}");
        // Misses are shown for the dev part only: the held-out part is for
        // reporting, not for looking at cases.
        if split == "dev" && misses > 0 && !report.misses.is_empty() {
            println!("\nfirst misses (dev part):");
            for m in report.misses.iter().take(misses) {
                println!(
                    "  {:<8} {:<22} {:?}/{:?} -> {:?} ({:.2}) {:?}",
                    m.id, m.family, m.label, m.expect, m.action, m.score, m.title
                );
            }
        }
        println!();
        if split == "test" {
            held_out = Some(report);
        }
    }
    let policy_ok = policy_eval(&taxonomy, dir, misses)?;
    Ok(
        if held_out.is_some_and(|r| r.meets_targets()) && policy_ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        },
    )
}

/// Screens the policy cases with the built-in packs; returns whether every
/// held-out case met its expectation.
fn policy_eval(taxonomy: &Taxonomy, dir: Option<&Path>, misses: usize) -> Result<bool> {
    let text = match dir.map(|d| d.join("../policy/cases.jsonl")) {
        Some(p) if p.exists() => std::fs::read_to_string(&p)
            .map_err(|e| BadInput(format!("cannot read {}: {e}", p.display())))?,
        _ => POLICY_CASES.to_string(),
    };
    let set = PolicySet::builtin(taxonomy).map_err(|e| BadInput(e.to_string()))?;
    // A fixed date, so the result does not depend on the day it runs.
    let now = Utc
        .with_ymd_and_hms(2026, 12, 1, 0, 0, 0)
        .single()
        .ok_or_else(|| BadInput("bad evaluation date".to_string()))?;
    let mut all_ok = true;
    for split in ["test", "dev"] {
        // family -> (cases, ok, approve, review, reject)
        let mut fam: std::collections::BTreeMap<String, [usize; 5]> = Default::default();
        let mut wrong: Vec<String> = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            let c: PolicyCase = serde_json::from_str(line)
                .map_err(|e| BadInput(format!("policy cases.jsonl:{}: {e}", i + 1)))?;
            if c.split != split {
                continue;
            }
            let mut out = set.screen(&c.listing, &[], now);
            // Keyword matches only: a rule that covers the whole category
            // (a cosmetics notification, a toy certificate) is not about
            // the word the case tests.
            out.violations
                .retain(|v| v.evidence.method.as_deref() == Some("keyword"));
            let action = out.action(DEFAULT_REVIEW_AT, DEFAULT_REJECT_AT);
            let ok = match c.expect {
                Action::Approve => action == Action::Approve,
                Action::Review => action >= Action::Review,
                Action::Reject => action == Action::Reject,
            };
            let e = fam.entry(c.family.clone()).or_default();
            e[0] += 1;
            e[1] += usize::from(ok);
            e[2 + action as usize] += 1;
            if !ok {
                wrong.push(format!(
                    "  {:<26} {} {:?} in {} ({}): expected {:?}, got {:?}",
                    c.family,
                    c.listing.region,
                    c.listing.title,
                    c.listing.category,
                    c.listing.id,
                    c.expect,
                    action
                ));
            }
        }
        println!(
            "== policy packs, {} part\n",
            if split == "test" { "HELD-OUT" } else { "DEV" }
        );
        println!(
            "{:<28} {:>6} {:>8} {:>8} {:>8} {:>8}",
            "family", "cases", "ok", "approve", "review", "reject"
        );
        for (name, c) in &fam {
            println!(
                "{:<28} {:>6} {:>7.2}% {:>8} {:>8} {:>8}",
                name,
                c[0],
                100.0 * c[1] as f64 / c[0].max(1) as f64,
                c[2],
                c[3],
                c[4]
            );
        }
        if !wrong.is_empty() {
            println!("\nwrong: {}", wrong.len());
            // Cases are shown for the dev part only (see the text report).
            if split == "dev" {
                for w in wrong.iter().take(misses.max(1)) {
                    println!("{w}");
                }
            } else {
                all_ok = false;
            }
        }
        println!();
    }
    Ok(all_ok)
}
