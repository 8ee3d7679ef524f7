//! Screening through the NATS JetStream work queue, with real processes:
//! `scan --nats` publishes, `worker` processes screen and commit on
//! PostgreSQL, and the decisions come back in input order.

mod common;

use std::collections::HashMap;

use common::{
    TestDb, bin, cli, decisions, nats_url, scan_via_queue, stored_decision_counts, unique_queue,
    worker, write_inputs,
};
use serde_json::Value;

#[test]
fn a_scan_through_the_queue_writes_what_a_local_scan_writes_in_input_order() {
    let tmp = tempfile::tempdir().unwrap();
    let n = 700;
    let (rights, listings) = write_inputs(tmp.path(), n, true);
    let db = TestDb::create("queue");
    let data = tmp.path().join("data");
    cli(&data, &db.url, &["rights", "import", &rights]);

    // The same input scanned locally on SQLite: the reference.
    let local_data = tmp.path().join("local");
    let local_out = tmp.path().join("local.jsonl");
    let local = bin()
        .arg("--data")
        .arg(&local_data)
        .args(["rights", "import", &rights])
        .output()
        .unwrap();
    assert!(local.status.success());
    let local = bin()
        .arg("--data")
        .arg(&local_data)
        .args(["scan", &listings, "--out"])
        .arg(&local_out)
        .output()
        .unwrap();
    assert_eq!(local.status.code(), Some(2));

    let queue = unique_queue("happy");
    let nats = nats_url();
    let _w = worker(&data, &db.url, &nats, &queue, 30);
    let out = tmp.path().join("queued.jsonl");
    let run = scan_via_queue(&data, &db.url, &nats, &queue, &listings, &out);
    let stderr = String::from_utf8_lossy(&run.stderr);
    // Bad lines are reported as a local scan reports them, by line number,
    // and make the exit code 2.
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("listings.jsonl:4:"), "{stderr}");
    assert!(stderr.contains("listings.jsonl:12:"), "{stderr}");
    assert!(stderr.contains("category"), "{stderr}");
    assert!(stderr.contains("2 bad line(s)"), "{stderr}");

    let got = decisions(&out);
    let want = decisions(&local_out);
    assert_eq!(got.len(), n + 1, "one decision per good line: {stderr}");
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        // Same listing, same version, same action and evidence as the
        // local scan; in the same order.
        assert_eq!(g["id"], w["id"]);
        assert_eq!(g["decision_id"], w["decision_id"]);
        assert_eq!(g["action"], w["action"], "{g}");
        assert_eq!(g["violations"], w["violations"], "{g}");
    }
    let actions: HashMap<String, usize> = got.iter().fold(HashMap::new(), |mut m, d| {
        *m.entry(d["action"].as_str().unwrap().to_string())
            .or_default() += 1;
        m
    });
    assert!(
        actions.get("approve").copied().unwrap_or(0) > 0,
        "{actions:?}"
    );
    assert!(
        actions.get("reject").copied().unwrap_or(0) + actions.get("review").copied().unwrap_or(0)
            > 0,
        "{actions:?}"
    );
    // The repeated line got the first one's decision.
    let twice: Vec<&Value> = got.iter().filter(|d| d["id"] == "l-20").collect();
    assert_eq!(twice.len(), 2);
    assert_eq!(twice[0], twice[1]);

    // Every listing has exactly one decision in the store.
    let counts = stored_decision_counts(&db);
    assert_eq!(counts.len(), n);
    assert!(counts.values().all(|&c| c == 1), "{counts:?}");

    // Submitting the same file again is answered from the store: the same
    // decisions, nothing new stored.
    let again = tmp.path().join("again.jsonl");
    let run = scan_via_queue(&data, &db.url, &nats, &queue, &listings, &again);
    assert_eq!(run.status.code(), Some(2));
    assert_eq!(decisions(&again), got);
    assert_eq!(stored_decision_counts(&db), counts);
}

#[test]
fn queue_options_are_checked_before_anything_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let out = bin()
        .arg("--data")
        .arg(tmp.path())
        .args(["scan", "-", "--nats", &nats_url(), "--queue", "bad.name"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("queue:"), "{err}");
    let out = bin()
        .arg("--data")
        .arg(tmp.path())
        .args(["worker", "--nats", &nats_url(), "--concurrency", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--concurrency"));
}
