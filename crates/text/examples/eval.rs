//! Runs the text evaluation on the shipped corpus.
//!
//!     cargo run --release -p shopshield-text --example eval -- [data/eval/text] [--misses N]

use std::time::Instant;

use shopshield_model::{Right, Taxonomy};
use shopshield_text::TextConfig;
use shopshield_text::eval::{evaluate, parse_cases};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = args
        .iter()
        .find(|a| !a.starts_with("--") && a.parse::<usize>().is_err())
        .cloned()
        .unwrap_or_else(|| "data/eval/text".to_string());
    let misses: usize = args
        .iter()
        .position(|a| a == "--misses")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(15);
    let rights: Vec<Right> = std::fs::read_to_string(format!("{dir}/rights.jsonl"))?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    let cases = parse_cases(&std::fs::read_to_string(format!("{dir}/cases.jsonl"))?)
        .map_err(|(line, e)| format!("cases.jsonl line {line}: {e}"))?;
    let t = Instant::now();
    let report = evaluate(
        &rights,
        &TextConfig::default(),
        &Taxonomy::builtin(),
        &cases,
    )?;
    let el = t.elapsed();
    println!(
        "{} rights, {} cases, {:.2?}\n",
        rights.len(),
        cases.len(),
        el
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
    Ok(())
}
