//! The shipped corpus meets the targets.

use shopshield_model::{Right, Taxonomy};
use shopshield_text::TextConfig;
use shopshield_text::eval::{evaluate, parse_cases};

#[test]
fn shipped_corpus_meets_targets() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/eval/text");
    let rights: Vec<Right> = std::fs::read_to_string(format!("{dir}/rights.jsonl"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let cases =
        parse_cases(&std::fs::read_to_string(format!("{dir}/cases.jsonl")).unwrap()).unwrap();
    let report = evaluate(
        &rights,
        &TextConfig::default(),
        &Taxonomy::builtin(),
        &cases,
    )
    .unwrap();
    assert!(report.meets_targets(), "{report}");
}
