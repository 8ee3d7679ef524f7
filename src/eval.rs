//! `shopshield eval`: precision, recall and false-positive rate of the text
//! detector on a labelled corpus, per family and overall.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use shopshield_model::{Right, Taxonomy};
use shopshield_text::eval::{evaluate, parse_cases};

use crate::BadInput;

/// The shipped corpus (see `data/eval/text/README.md`), built into the
/// binary so `eval` runs anywhere.
const RIGHTS: &str = include_str!("../data/eval/text/rights.jsonl");
const CASES: &str = include_str!("../data/eval/text/cases.jsonl");

pub fn run(
    config: &shopshield_app::AppConfig,
    dir: Option<&Path>,
    misses: usize,
) -> Result<ExitCode> {
    let (rights_text, cases_text) = match dir {
        Some(d) => {
            let read = |f: &str| {
                std::fs::read_to_string(d.join(f))
                    .map_err(|e| BadInput(format!("cannot read {}: {e}", d.join(f).display())))
            };
            (read("rights.jsonl")?, read("cases.jsonl")?)
        }
        None => (RIGHTS.to_string(), CASES.to_string()),
    };
    let mut rights = Vec::new();
    for (i, line) in rights_text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let r: Right = serde_json::from_str(line)
            .map_err(|e| BadInput(format!("rights.jsonl:{}: {e}", i + 1)))?;
        rights.push(r);
    }
    let cases = parse_cases(&cases_text)
        .map_err(|(line, e)| BadInput(format!("cases.jsonl:{line}: {e}")))?;
    let report = evaluate(&rights, &config.text, &Taxonomy::builtin(), &cases)
        .map_err(|e| BadInput(e.to_string()))?;
    println!(
        "{} rights, {} labelled listings\n",
        rights.len(),
        cases.len()
    );
    print!("{report}");
    if misses > 0 && !report.misses.is_empty() {
        println!("\nfirst misses:");
        for m in report.misses.iter().take(misses) {
            println!(
                "  {:<8} {:<22} {:?} -> {:?} ({:.2}) {:?}",
                m.id, m.family, m.label, m.action, m.score, m.title
            );
        }
    }
    Ok(if report.meets_targets() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
