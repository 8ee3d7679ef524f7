//! The shipped packs: they load, the embedded copies match the files, and
//! every pack's cases in `policy/cases/` pass.

use std::path::PathBuf;

use chrono::{DateTime, TimeZone, Utc};
use shopshield_model::Taxonomy;
use shopshield_policy::{PolicySet, builtin_sources, run_cases};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap()
}

fn builtin() -> PolicySet {
    match PolicySet::builtin(&Taxonomy::builtin()) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn builtin_has_every_required_pack() {
    let set = builtin();
    for name in [
        "global", "eu", "de", "fr", "es", "it", "us", "gb", "mx", "br", "id", "my", "ph", "th",
        "vn", "sg", "jp",
    ] {
        let p = set.pack(name).unwrap_or_else(|| panic!("no pack {name}"));
        assert!(!p.rules.is_empty(), "{name}");
        for r in &p.rules {
            assert!(!r.citation.trim().is_empty(), "{}", r.id);
        }
    }
}

#[test]
fn embedded_packs_are_the_files_on_disk() {
    let dir = repo().join("policy/packs");
    let from_disk = PolicySet::load_dir(&dir, &Taxonomy::builtin()).unwrap();
    assert_eq!(from_disk.versions(), builtin().versions());
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    on_disk.sort();
    let mut embedded: Vec<String> = builtin_sources()
        .iter()
        .map(|(n, _)| n.to_string())
        .collect();
    embedded.sort();
    assert_eq!(on_disk, embedded, "add new pack files to src/builtin.rs");
}

#[test]
fn every_shipped_pack_has_passing_cases() {
    let set = builtin();
    let mut failures = Vec::new();
    let mut total = 0;
    for p in set.packs() {
        let path = repo()
            .join("policy/cases")
            .join(format!("{}.jsonl", p.name));
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("pack {} has no cases at {}: {e}", p.name, path.display()));
        let report = run_cases(&set, &text, now());
        assert!(!report.results.is_empty(), "{} has no cases", p.name);
        total += report.results.len();
        if report.failed() > 0 {
            failures.push(format!("{}:\n{report}", path.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(total >= 100, "only {total} cases");
}

/// Every shipped keyword rule states its category scope (`weak_in`, maybe
/// empty with a reason), so a keyword is never read as the goods in a
/// category where they cannot be by oversight.
#[test]
fn every_shipped_keyword_rule_declares_weak_in() {
    for (file, text) in builtin_sources() {
        let v: toml::Value = toml::from_str(text).unwrap_or_else(|e| panic!("{file}: {e}"));
        for r in v["rule"].as_array().unwrap() {
            if r.get("keywords").is_some() {
                assert!(
                    r.get("weak_in").is_some(),
                    "{file}: rule {} has no weak_in",
                    r["id"]
                );
            }
        }
    }
}
