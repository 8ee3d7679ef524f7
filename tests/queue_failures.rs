//! Failures of the scale-out deployment, with the real servers: a worker
//! killed mid-batch, NATS stopped and restarted mid-run, two HTTP servers
//! on one PostgreSQL racing for one case.

mod common;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use common::{
    PrivateNats, TestDb, bin, cli, decisions, nats_url, serve, stored_decision_counts,
    unique_queue, worker, write_inputs,
};
use serde_json::{Value, json};

/// A `scan --nats` running in the background, its output going to files.
fn scan_in_background(
    data: &Path,
    store: &str,
    nats: &str,
    queue: &str,
    input: &str,
    out: &Path,
    err: &Path,
) -> Child {
    let mut c: Command = bin();
    c.arg("--data")
        .arg(data)
        .args([
            "--store", store, "scan", input, "--nats", nats, "--queue", queue,
        ])
        .arg("--out")
        .arg(out)
        .env("SHOPSHIELD_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(err).unwrap());
    c.spawn().unwrap()
}

fn stored_decisions(db: &TestDb) -> i64 {
    db.client()
        .query_one("SELECT count(*) FROM decisions", &[])
        .unwrap()
        .get(0)
}

/// Waits until the store holds at least `n` decisions.
fn until_decisions(db: &TestDb, n: i64, within: Duration) -> i64 {
    let deadline = Instant::now() + within;
    loop {
        let got = stored_decisions(db);
        if got >= n {
            return got;
        }
        assert!(Instant::now() < deadline, "only {got} decisions stored");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn wait_exit(child: &mut Child, within: Duration, err: &Path) -> i32 {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code().unwrap_or(-1);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            panic!(
                "scan did not finish:\n{}",
                std::fs::read_to_string(err).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The decision ids each enforcement log entry hands over (a case opened
/// or a violation recorded), counted.
fn enforced(db: &TestDb) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for row in db
        .client()
        .query("SELECT body FROM enforcement_log ORDER BY seq", &[])
        .unwrap()
    {
        let body: String = row.get(0);
        let v: Value = serde_json::from_str(&body).unwrap();
        // Encoding v2 wraps the event; v1 was the event itself.
        let e = if v["v"] == 2 { &v["event"] } else { &v };
        if e["event"] == "case_opened" || e["event"] == "violation_recorded" {
            let id = e["subject"]["decision_id"].as_str().unwrap().to_string();
            *out.entry(id).or_default() += 1;
        }
    }
    out
}

/// Every listing of the run has exactly one decision in the store and one
/// line of output, in input order.
fn check_one_decision_each(db: &TestDb, out: &Path, n: usize) -> Vec<Value> {
    let got = decisions(out);
    assert_eq!(got.len(), n);
    for (i, d) in got.iter().enumerate() {
        assert_eq!(d["id"], format!("l-{i}"), "output out of order at {i}");
        assert_eq!(d["listing_version"], 1, "{d}");
    }
    let counts = stored_decision_counts(db);
    assert_eq!(counts.len(), n, "a listing has no decision");
    let twice: Vec<_> = counts.iter().filter(|(_, c)| **c != 1).collect();
    assert!(
        twice.is_empty(),
        "listings decided more than once: {twice:?}"
    );
    got
}

/// Every decision that calls for enforcement was handed over exactly once
/// (the killed worker's committed but not handed over ones by the
/// catch-up of the others).
fn check_enforced_once(db: &TestDb, got: &[Value]) {
    let want: HashSet<String> = got
        .iter()
        .filter(|d| d["action"] != "approve")
        .map(|d| d["decision_id"].as_str().unwrap().to_string())
        .collect();
    assert!(!want.is_empty());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let e = enforced(db);
        let twice: Vec<_> = e.iter().filter(|(_, c)| **c > 1).collect();
        assert!(twice.is_empty(), "decisions enforced twice: {twice:?}");
        let have: HashSet<String> = e.into_keys().collect();
        if have == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{} decisions need enforcement, {} were handed over; missing e.g. {:?}",
            want.len(),
            have.len(),
            want.difference(&have).next()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_worker_killed_mid_batch_loses_no_listing_and_enforces_none_twice() {
    let tmp = tempfile::tempdir().unwrap();
    let n = 6000;
    let (rights, listings) = write_inputs(tmp.path(), n, false);
    let db = TestDb::create("kill");
    let data = tmp.path().join("data");
    cli(&data, &db.url, &["rights", "import", &rights]);
    let nats = nats_url();
    let queue = unique_queue("kill");
    let mut first = worker(&data, &db.url, &nats, &queue, 2);
    let (out, err) = (tmp.path().join("out.jsonl"), tmp.path().join("scan.err"));
    let mut scan = scan_in_background(&data, &db.url, &nats, &queue, &listings, &out, &err);
    // Kill the worker once it has committed a few batches, while it holds
    // more (it takes two at a time).
    until_decisions(&db, 600, Duration::from_secs(120));
    first.kill9();
    let at_kill = stored_decisions(&db);
    assert!(
        at_kill < n as i64,
        "the worker finished before it was killed"
    );
    let second = worker(&data, &db.url, &nats, &queue, 2);
    let code = wait_exit(&mut scan, Duration::from_secs(300), &err);
    let scan_err = std::fs::read_to_string(&err).unwrap();
    assert_eq!(code, 0, "{scan_err}");
    let got = check_one_decision_each(&db, &out, n);
    check_enforced_once(&db, &got);
    // The killed worker's unacknowledged batches went to the other one.
    assert!(
        second.log().contains("batch delivered again"),
        "no batch was redelivered:\n{}",
        second.log()
    );
    // The log still verifies and replays.
    cli(&data, &db.url, &["audit", "verify"]);
}

#[test]
fn workers_and_scan_reconnect_when_nats_restarts_mid_run() {
    let tmp = tempfile::tempdir().unwrap();
    let n = 6000;
    let (rights, listings) = write_inputs(tmp.path(), n, false);
    let db = TestDb::create("natsrestart");
    let data = tmp.path().join("data");
    cli(&data, &db.url, &["rights", "import", &rights]);
    let store_dir = tmp.path().join("jetstream");
    std::fs::create_dir_all(&store_dir).unwrap();
    let mut nats = PrivateNats::start(&store_dir);
    let url = nats.url();
    let queue = unique_queue("restart");
    let workers = [
        worker(&data, &db.url, &url, &queue, 5),
        worker(&data, &db.url, &url, &queue, 5),
    ];
    let (out, err) = (tmp.path().join("out.jsonl"), tmp.path().join("scan.err"));
    let mut scan = scan_in_background(&data, &db.url, &url, &queue, &listings, &out, &err);
    until_decisions(&db, 300, Duration::from_secs(120));
    nats.stop();
    let during = stored_decisions(&db);
    std::thread::sleep(Duration::from_secs(2));
    nats.restart();
    let code = wait_exit(&mut scan, Duration::from_secs(300), &err);
    let scan_err = std::fs::read_to_string(&err).unwrap();
    assert_eq!(code, 0, "{scan_err}");
    assert!(during < n as i64, "the run ended before NATS was stopped");
    let got = check_one_decision_each(&db, &out, n);
    check_enforced_once(&db, &got);
    // Both workers noticed the outage and went on.
    for w in &workers {
        assert!(w.child.id() > 0);
    }
    let logs: String = workers.iter().map(|w| w.log()).collect();
    assert!(
        logs.contains("NATS connection lost"),
        "the workers never saw NATS go away:\n{logs}"
    );
}

#[test]
fn two_servers_on_one_postgres_race_for_a_case_and_exactly_one_wins() {
    let tmp = tempfile::tempdir().unwrap();
    let (rights, _) = write_inputs(tmp.path(), 0, false);
    let db = TestDb::create("claimrace");
    let data = tmp.path().join("data");
    cli(&data, &db.url, &["rights", "import", &rights]);
    let service = cli(&data, &db.url, &["keys", "create", "--role", "service"]);
    let reviewers = [
        cli(&data, &db.url, &["keys", "create", "--role", "reviewer"]),
        cli(&data, &db.url, &["keys", "create", "--role", "reviewer"]),
    ];
    let (_a, base_a) = serve(&data, &db.url);
    let (_b, base_b) = serve(&data, &db.url);
    let http = reqwest::blocking::Client::new();
    // Listings that go to review open cases.
    let rounds = 12;
    let mut cases = Vec::new();
    for i in 0..rounds {
        let l = json!({"id": format!("c-{i}"), "shop_id": "shop-1", "region": "US",
            "category": "apparel/shoes", "title": format!("Acmeflux style sneakers {i}"),
            "price": {"amount": 95.0, "currency": "USD"}});
        let d: Value = http
            .post(format!("{base_a}/v1/listings"))
            .bearer_auth(&service)
            .json(&l)
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(d["action"], "review", "{d}");
        cases.push(d["decision_id"].as_str().unwrap().to_string());
    }
    for case in &cases {
        // Each server has to know the case before the race starts.
        for base in [&base_a, &base_b] {
            let deadline = Instant::now() + Duration::from_secs(10);
            while !http
                .get(format!("{base}/v1/cases/{case}"))
                .bearer_auth(&reviewers[0])
                .send()
                .unwrap()
                .status()
                .is_success()
            {
                assert!(Instant::now() < deadline, "{base} never saw case {case}");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        let barrier = Arc::new(Barrier::new(2));
        let racers: Vec<_> = [(&base_a, &reviewers[0]), (&base_b, &reviewers[1])]
            .into_iter()
            .map(|(base, key)| {
                let (url, key, barrier) = (
                    format!("{base}/v1/cases/{case}/claim"),
                    key.clone(),
                    barrier.clone(),
                );
                std::thread::spawn(move || {
                    let http = reqwest::blocking::Client::new();
                    barrier.wait();
                    let r = http.post(url).bearer_auth(key).send().unwrap();
                    let status = r.status().as_u16();
                    (status, r.json::<Value>().unwrap_or(Value::Null))
                })
            })
            .collect();
        let results: Vec<(u16, Value)> = racers.into_iter().map(|t| t.join().unwrap()).collect();
        let wins: Vec<&(u16, Value)> = results.iter().filter(|(s, _)| *s == 200).collect();
        assert_eq!(wins.len(), 1, "case {case}: {results:?}");
        let lost = results.iter().find(|(s, _)| *s != 200).unwrap();
        assert_eq!(lost.0, 409, "case {case}: {results:?}");
        // Both servers agree on the one holder, and the store holds one lease.
        let holder = wins[0].1["claim"]["reviewer"].clone();
        assert!(holder.is_string(), "{:?}", wins[0]);
        for base in [&base_a, &base_b] {
            let c: Value = http
                .get(format!("{base}/v1/cases/{case}"))
                .bearer_auth(&reviewers[0])
                .send()
                .unwrap()
                .json()
                .unwrap();
            assert_eq!(c["claim"]["reviewer"], holder, "{base}: {c}");
        }
        let leases: i64 = db
            .client()
            .query_one(
                "SELECT count(*) FROM case_leases WHERE case_id = $1",
                &[case],
            )
            .unwrap()
            .get(0);
        assert_eq!(leases, 1);
    }
}
