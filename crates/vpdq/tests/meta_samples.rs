//! Meta's own vPDQ sample hashes (`tests/data/meta-sample-hashes/`, see its README): they
//! parse, format back byte for byte, and match with the percentages python-threatexchange
//! 1.2.17 computes for them (`match_VPDQ_hash_brute(query, compared, 50, 31)`, run on these
//! same files).

use std::path::PathBuf;

use shopshield_vpdq::{
    FrameHash, MatchConfig, VideoBank, compare, format_hash_list, parse_hash_list,
};

fn load(name: &str) -> (String, Vec<FrameHash>) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/meta-sample-hashes")
        .join(format!("{name}.txt"));
    let text = std::fs::read_to_string(&path).unwrap();
    let frames = parse_hash_list(&text).unwrap();
    (text, frames)
}

const NAMES: [&str; 4] = [
    "chair-19-sd-bar",
    "chair-22-sd-sepia-bar",
    "chair-22-with-large-logo-bar",
    "pattern-sd-grey-bar",
];

#[test]
fn sample_files_round_trip() {
    for name in NAMES {
        let (text, frames) = load(name);
        assert_eq!(format_hash_list(&frames), text, "{name}");
    }
    let (_, chair) = load("chair-19-sd-bar");
    assert_eq!(chair.len(), 564);
    assert_eq!(chair[1].frame_number, 1);
    assert_eq!(chair[1].timestamp, 0.033);
}

/// (query, compared, query %, compared %) from python-threatexchange on these files.
const EXPECTED: [(&str, &str, f64, f64); 4] = [
    ("chair-19-sd-bar", "chair-19-sd-bar", 100.0, 100.0),
    (
        "chair-22-sd-sepia-bar",
        "chair-19-sd-bar",
        85.82317073170732,
        100.0,
    ),
    (
        "chair-22-with-large-logo-bar",
        "chair-19-sd-bar",
        10.57542768273717,
        10.498220640569395,
    ),
    ("pattern-sd-grey-bar", "chair-19-sd-bar", 0.0, 0.0),
];

#[test]
fn percentages_equal_python_threatexchange() {
    let cfg = MatchConfig::default();
    for (q, c, qp, cp) in EXPECTED {
        let m = compare(&load(q).1, &load(c).1, &cfg).unwrap();
        assert_eq!(
            (m.query_match_percent, m.compared_match_percent),
            (qp, cp),
            "{q} vs {c}"
        );
        assert_eq!(m.is_match, qp >= 80.0, "{q} vs {c}");
    }
}

#[test]
fn the_bank_finds_the_same_numbers() {
    let mut bank: VideoBank<&str> = VideoBank::new(MatchConfig::default()).unwrap();
    bank.insert("chair-19-sd-bar", &load("chair-19-sd-bar").1)
        .unwrap();
    bank.insert("pattern-sd-grey-bar", &load("pattern-sd-grey-bar").1)
        .unwrap();
    let sepia = load("chair-22-sd-sepia-bar").1;
    let hits = bank.search(&sepia);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].key, "chair-19-sd-bar");
    assert_eq!(hits[0].result.query_match_percent, 85.82317073170732);
    // The sepia copy covers the whole original: one range on each side, from the start.
    let r = &hits[0].result;
    assert_eq!(r.compared_ranges.len(), 1, "{:?}", r.compared_ranges);
    assert_eq!(r.compared_ranges[0].start_seconds, 0.0);
    let logo = load("chair-22-with-large-logo-bar").1;
    assert!(
        bank.search(&logo).is_empty(),
        "10.6% of the query is below 80%"
    );
}
