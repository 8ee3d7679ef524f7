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

fn read_rights(path: &str) -> Vec<Right> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The hard families of round 2, held-out part: genuine resale is never
/// rejected, rejects stay precise, obfuscated marks keep their recall, and
/// the families the fixes target improve to the measured levels (see
/// EVAL-REPORT.md; honest hold-back on words from full dictionaries is not
/// at the 0.5 % target and is asserted at what it is).
#[test]
fn hard_families_held_out() {
    use shopshield_text::eval::select_split;
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/eval/text");
    let mut rights = read_rights(&format!("{dir}/rights.jsonl"));
    rights.extend(read_rights(&format!("{dir}/hard/rights.jsonl")));
    let cases =
        parse_cases(&std::fs::read_to_string(format!("{dir}/hard/cases.jsonl")).unwrap()).unwrap();
    let test = select_split(&cases, "test");
    assert!(test.len() > 1000);
    let r = evaluate(&rights, &TextConfig::default(), &Taxonomy::builtin(), &test).unwrap();
    assert_eq!(r.resale_rejected(), 0, "{r}");
    assert!(r.overall.reject_precision().unwrap() >= 0.995, "{r}");
    let g = |name: &str| r.groups[name];
    assert_eq!(
        g("resale").ok,
        g("resale").positives + g("resale").negatives
    );
    assert!(g("cjk").recall().unwrap() >= 0.95, "{r}");
    assert!(g("overlap").fpr().unwrap() <= 0.01, "{r}");
    assert!(g("desc").fpr().unwrap() <= 0.01, "{r}");
    assert!(g("lexsig").recall().unwrap() >= 0.95, "{r}");
    assert!(g("lex").fpr().unwrap() <= 0.30, "{r}");
}
