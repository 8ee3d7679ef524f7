//! Logs written by earlier releases keep verifying and replaying.

use std::path::Path;

use shopshield_enforce::{Journal, StoredEntry, TamperReason, verify_records};

fn fixtures() -> Vec<(String, Vec<StoredEntry>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/log-v1");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("fixture directory") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("jsonl") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("fixture");
        let records = text
            .lines()
            .map(|l| serde_json::from_str::<StoredEntry>(l).expect("stored entry"))
            .collect();
        out.push((path.display().to_string(), records));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn v1_logs_verify_decode_and_replay() {
    let all = fixtures();
    assert!(all.len() >= 5, "fixtures missing");
    let mut entries = 0;
    for (name, records) in all {
        let head = records.last().expect("non-empty").anchor();
        let journal =
            Journal::load(records.clone(), Some(&head)).unwrap_or_else(|e| panic!("{name}: {e}"));
        entries += journal.records().len();
        // Reloading from the same bytes folds to the same state.
        let again = Journal::load(records, Some(&head)).expect("reloads");
        assert_eq!(again.state(), journal.state(), "{name}");
    }
    assert!(entries > 100, "only {entries} entries");
}

#[test]
fn an_edited_v1_entry_is_still_caught() {
    let (name, mut records) = fixtures().remove(0);
    let i = records.len() / 2;
    records[i].body = records[i].body.replacen("\"at\"", "\"at\" ", 1);
    let err = verify_records(&records, None).expect_err("edited entry accepted");
    assert_eq!(err.seq, records[i].seq, "{name}");
    assert_eq!(err.reason, TamperReason::Hash);
}

/// New entries are written in encoding v2 and chain after v1 ones.
#[test]
fn v2_entries_follow_v1_entries() {
    let (_, records) = fixtures().remove(0);
    let mut journal = Journal::load(records.clone(), None).expect("loads");
    let head = journal.head();
    let events: Vec<_> = journal
        .entries()
        .into_iter()
        .take(1)
        .map(|e| e.event)
        .collect();
    // Re-appending an event is not a valid command, but the chain does not
    // care: sealing and verifying are about bytes.
    let sealed = shopshield_enforce::chain::seal(&head, &events);
    assert!(
        sealed[0].body.starts_with("{\"event\":{"),
        "{}",
        sealed[0].body
    );
    assert!(sealed[0].body.ends_with(",\"v\":2}"));
    let mut all = records;
    all.extend(sealed);
    let decoded = verify_records(&all, Some(&all[all.len() - 1].anchor())).expect("verifies");
    assert_eq!(decoded.last().map(|e| &e.event), events.first());
    let _ = &mut journal;
}
