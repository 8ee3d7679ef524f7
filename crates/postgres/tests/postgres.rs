//! What only the PostgreSQL store does, on a real server: migrations that
//! several processes race to apply, the change feed's notifications and
//! reconnection, the pool under load, row locks that are skipped rather
//! than waited for, byte-exact text, corrupt rows named by column.

mod common;

use std::collections::BTreeMap;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use common::TestDb;
use postgres::{Client, NoTls};
use shopshield_model::{Action, Decision, Listing, NewRight, Right, RightsHolder};
use shopshield_postgres::{PgOptions, PgStore};
use shopshield_store::{
    CatalogStore, ChangeFeed, EnforcementStore, KeyStore, LeaseChange, LogRecord, OutboxRow,
    OutboxStatus, OutboxStore, Page, RegistryStore, RightRecord, Screened, SqliteStore, Store,
    StoreError,
};

fn t(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap() + chrono::Duration::seconds(secs)
}

fn client(db: &TestDb) -> Client {
    Client::connect(&db.url, NoTls).unwrap()
}

fn holder(id: &str) -> RightsHolder {
    RightsHolder {
        id: id.into(),
        name: format!("Holder {id}"),
        created_at: t(0),
    }
}

fn right(id: &str, holder: &str) -> RightRecord {
    let new: NewRight = serde_json::from_value(serde_json::json!({
        "id": id, "holder": holder, "kind": "trademark", "mark": format!("Mark {id}"),
        "nice_classes": [25], "regions": ["*"]
    }))
    .unwrap();
    RightRecord::plain(Right::from_new(new, holder.into(), t(0)))
}

fn screened(id: &str, shop: &str, version: u32, title: &str) -> Screened {
    let listing: Listing = serde_json::from_value(serde_json::json!({
        "id": id, "shop_id": shop, "region": "US", "category": "apparel/shoes", "title": title
    }))
    .unwrap();
    Screened {
        content_hash: listing.content_hash(),
        terms: Vec::new(),
        decision: Decision {
            id: id.into(),
            decision_id: Decision::decision_id(id, version),
            listing_version: version,
            action: Action::Review,
            score: 0.5,
            violations: vec![],
            registry_version: 1,
            policy_versions: BTreeMap::new(),
            decided_at: t(i64::from(version)),
            source: Default::default(),
            cause: None,
        },
        listing,
        version,
    }
}

fn rec(seq: u64, body: &str) -> LogRecord {
    LogRecord {
        seq,
        prev_hash: format!("p{seq}"),
        hash: format!("h{seq}"),
        body: body.into(),
        at: t(seq as i64),
    }
}

fn out(key: &str, seq: u64) -> OutboxRow {
    OutboxRow {
        idempotency_key: key.into(),
        seq,
        kind: "warning".into(),
        payload: "{}".into(),
        status: OutboxStatus::Pending,
        failures: 0,
        next_attempt_at: t(0),
        delivered_at: None,
        last_error: None,
    }
}

/// Starts a store's change feed and waits until its listener is connected.
fn start_feed(store: &PgStore) {
    let known = store.registry_version().unwrap();
    store
        .wait_registry_change(known, Duration::from_millis(10))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !store.feed_listening() {
        assert!(Instant::now() < deadline, "the listener did not connect");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Six processes connecting to a fresh database at once: every one
/// succeeds and the migration runs exactly once; connecting again changes
/// nothing.
#[test]
fn migrations_run_once_when_processes_start_together() {
    let db = TestDb::create();
    let barrier = Barrier::new(6);
    let stores: Vec<PgStore> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..6)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    PgStore::connect(&db.url)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap().unwrap())
            .collect()
    });
    stores[0].insert_holder(&holder("h")).unwrap();
    drop(stores);
    let again = PgStore::connect(&db.url).unwrap();
    assert_eq!(again.backend(), "postgres");
    assert!(
        again.holder("h").unwrap().is_some(),
        "reconnecting kept the data"
    );
    let mut c = client(&db);
    let rows = c
        .query(
            "SELECT version, name FROM schema_migrations ORDER BY version",
            &[],
        )
        .unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r.get::<_, &str>(1)).collect();
    assert_eq!(
        names,
        [
            "0001_schema",
            "0005_after_listing",
            "0006_content",
            "0007_notices",
            "0008_authorizations",
            "0009_proof_of_rights"
        ],
        "each migration once"
    );
    let meta: i64 = c
        .query_one("SELECT count(*) FROM meta", &[])
        .unwrap()
        .get(0);
    assert_eq!(meta, 4, "the seed rows were inserted once");
}

/// A database migrated by a newer release is refused, not used.
#[test]
fn a_newer_database_is_refused() {
    let db = TestDb::create();
    drop(PgStore::connect(&db.url).unwrap());
    client(&db)
        .execute(
            "INSERT INTO schema_migrations (version, name) VALUES (99, '0099_future')",
            &[],
        )
        .unwrap();
    let err = PgStore::connect(&db.url).unwrap_err();
    assert!(
        matches!(&err, StoreError::Database(m) if m.contains("newer")),
        "{err}"
    );
}

/// A server that is not there is an error naming the problem.
#[test]
fn an_unreachable_server_is_an_error() {
    let err = PgStore::connect_with(
        "postgres://postgres@127.0.0.1:1/nothing",
        &PgOptions {
            connect_timeout: Duration::from_secs(2),
            ..PgOptions::default()
        },
    )
    .unwrap_err();
    assert!(
        matches!(&err, StoreError::Database(m)
            if m.contains("cannot connect") && m.contains("\"nothing\" on 127.0.0.1:1")),
        "{err}"
    );
    assert!(matches!(
        PgStore::connect("not a url ="),
        Err(StoreError::Database(_))
    ));
}

/// Another store's commit wakes a waiting store through NOTIFY: the wait
/// has a long timeout and nothing polls while the listener is connected,
/// so returning early means the notification arrived.
#[test]
fn a_commit_elsewhere_wakes_the_feed() {
    let db = TestDb::create();
    let a = PgStore::connect(&db.url).unwrap();
    let b = PgStore::connect(&db.url).unwrap();
    a.insert_holder(&holder("h")).unwrap();
    start_feed(&b);
    for round in 1..=5u64 {
        let (seen, waited) = std::thread::scope(|s| {
            let waiter = s.spawn(|| b.wait_registry_change(round - 1, Duration::from_secs(60)));
            std::thread::sleep(Duration::from_millis(50));
            let committed = Instant::now();
            assert_eq!(
                a.insert_right(&right(&format!("r{round}"), "h")).unwrap(),
                round
            );
            let seen = waiter.join().unwrap().unwrap();
            (seen, committed.elapsed())
        });
        assert_eq!(seen, round);
        assert!(waited < Duration::from_secs(10), "woke after {waited:?}");
    }
}

/// When the listener's connection is killed, waiters still see changes
/// (they poll meanwhile) and the listener comes back.
#[test]
fn the_feed_reconnects_after_its_connection_dies() {
    let db = TestDb::create();
    let a = PgStore::connect(&db.url).unwrap();
    let b = PgStore::connect(&db.url).unwrap();
    a.insert_holder(&holder("h")).unwrap();
    start_feed(&b);
    let killed: i64 = client(&db)
        .query_one(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE datname = $1 AND application_name = 'shopshield-listener'",
            &[&db.name],
        )
        .unwrap()
        .get(0);
    assert_eq!(killed, 1, "one listener (b's) was connected");
    // A change made while it may be down is still seen.
    a.insert_right(&right("r1", "h")).unwrap();
    assert_eq!(
        b.wait_registry_change(0, Duration::from_secs(30)).unwrap(),
        1
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while !b.feed_listening() {
        assert!(Instant::now() < deadline, "the listener did not come back");
        std::thread::sleep(Duration::from_millis(20));
    }
    let seen = std::thread::scope(|s| {
        let waiter = s.spawn(|| b.wait_registry_change(1, Duration::from_secs(60)));
        std::thread::sleep(Duration::from_millis(50));
        a.insert_right(&right("r2", "h")).unwrap();
        waiter.join().unwrap().unwrap()
    });
    assert_eq!(seen, 2);
}

/// Eight threads share one store whose pool has four connections: every
/// batch lands, sequence numbers are unique and gapless, and the store
/// never opens more connections than its pool holds.
#[test]
fn the_pool_serves_eight_threads() {
    let db = TestDb::create();
    let store = PgStore::connect_with(
        &db.url,
        &PgOptions {
            pool_size: 4,
            ..PgOptions::default()
        },
    )
    .unwrap();
    const THREADS: usize = 8;
    const BATCHES: usize = 10;
    const PER_BATCH: usize = 20;
    let seqs: Vec<u64> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|th| {
                let store = &store;
                s.spawn(move || {
                    let mut mine = Vec::new();
                    for b in 0..BATCHES {
                        let batch: Vec<Screened> = (0..PER_BATCH)
                            .map(|i| screened(&format!("t{th}-b{b}-{i}"), "shop", 1, "Shoes"))
                            .collect();
                        mine.extend(store.record_screenings(&batch).unwrap());
                        // Reads in between, on the same pool.
                        let latest = store
                            .latest_listing(&format!("t{th}-b{b}-0"))
                            .unwrap()
                            .unwrap();
                        assert_eq!(latest.version, 1);
                        assert!(store.decisions_end().unwrap() >= mine.len() as u64);
                    }
                    mine
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let total = (THREADS * BATCHES * PER_BATCH) as u64;
    let mut sorted = seqs.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (1..=total).collect::<Vec<u64>>());
    assert_eq!(store.decisions_end().unwrap(), total);
    let connections: i64 = client(&db)
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 \
             AND application_name = 'shopshield'",
            &[&db.name],
        )
        .unwrap()
        .get(0);
    assert!(connections <= 4, "{connections} connections");
    // Sequence order is storage order: every batch's numbers are
    // consecutive, as the counter row is held until commit.
    let all = store.decisions(&Page::first(10_000)).unwrap();
    assert_eq!(all.len() as u64, total);
    for chunk in seqs.chunks(PER_BATCH) {
        assert!(chunk.windows(2).all(|w| w[1] == w[0] + 1), "{chunk:?}");
    }
}

/// Statements are prepared once per connection and reused; without the
/// cache nothing stays prepared.
#[test]
fn statements_are_prepared_once_per_connection() {
    let db = TestDb::create();
    for cache in [true, false] {
        let store = PgStore::connect_with(
            &db.url,
            &PgOptions {
                pool_size: 1,
                statement_cache: cache,
                ..PgOptions::default()
            },
        )
        .unwrap();
        for _ in 0..5 {
            store.latest_listing("nope").unwrap();
            store.api_key("nope").unwrap();
        }
        let prepared = store.prepared_statements().unwrap();
        let latest = prepared
            .iter()
            .filter(|s| s.contains("FROM listings l JOIN listing_versions"))
            .count();
        let keys = prepared
            .iter()
            .filter(|s| s.contains("FROM api_keys WHERE key_hash"))
            .count();
        if cache {
            assert_eq!((latest, keys), (1, 1), "{prepared:#?}");
        } else {
            assert_eq!((latest, keys), (0, 0), "{prepared:#?}");
        }
    }
}

/// A batch may hold several versions of one listing; they are written in
/// order, and a stale entry anywhere writes nothing. The SQLite store does
/// exactly the same with the same batches.
#[test]
fn batches_with_several_versions_of_a_listing_match_sqlite() {
    let db = TestDb::create();
    let pg = PgStore::connect(&db.url).unwrap();
    let lite = SqliteStore::in_memory().unwrap();
    for store in [&pg as &dyn Store, &lite] {
        let seqs = store
            .record_screenings(&[
                screened("a", "s", 1, "one"),
                screened("b", "s", 1, "other"),
                screened("a", "s", 2, "two"),
                screened("a", "s", 3, "three"),
            ])
            .unwrap();
        assert_eq!(seqs, [1, 2, 3, 4], "{}", store.backend());
        let history: Vec<String> = store
            .listing_history("a")
            .unwrap()
            .into_iter()
            .map(|l| l.listing.title)
            .collect();
        assert_eq!(history, ["one", "two", "three"]);
        let order: Vec<String> = store
            .decisions(&Page::first(10))
            .unwrap()
            .into_iter()
            .map(|d| d.decision_id)
            .collect();
        assert_eq!(order, ["a@v1", "b@v1", "a@v2", "a@v3"]);
        // Version 5 skips 4: the whole batch is refused, naming it.
        let err = store
            .record_screenings(&[
                screened("c", "s", 1, "new"),
                screened("a", "s", 4, "four"),
                screened("a", "s", 6, "six"),
            ])
            .unwrap_err();
        assert!(
            matches!(&err, StoreError::Conflict(m) if m.contains("\"a\": version 6")),
            "{}: {err}",
            store.backend()
        );
        assert!(store.latest_listing("c").unwrap().is_none());
        assert_eq!(store.latest_listing("a").unwrap().unwrap().version, 3);
        assert_eq!(store.decisions_end().unwrap(), 4);
        // A decision id stored twice in one batch.
        assert!(matches!(
            store.record_screenings(&[screened("d", "s", 1, "x"), screened("d", "s", 1, "y")]),
            Err(StoreError::Conflict(_))
        ));
    }
}

/// A lease row that another transaction holds locked counts as taken: the
/// claim fails at once instead of waiting for it.
#[test]
fn a_lease_locked_elsewhere_is_taken() {
    let db = TestDb::create();
    let store = PgStore::connect(&db.url).unwrap();
    let claim = |who: &str| LeaseChange::Claim {
        case_id: "c1".into(),
        reviewer: who.into(),
        until: t(100),
        now: t(0),
    };
    store
        .append_log(0, &[rec(1, "{}")], &[], &[claim("r1")])
        .unwrap();
    let mut other = client(&db);
    let mut tx = other.transaction().unwrap();
    tx.query(
        "SELECT * FROM case_leases WHERE case_id = 'c1' FOR UPDATE",
        &[],
    )
    .unwrap();
    // Even r1 itself cannot renew while the row is locked by someone else.
    let started = Instant::now();
    let err = store
        .append_log(1, &[rec(2, "{}")], &[], &[claim("r1")])
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(m) if m.contains("right now")),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "it waited for the lock"
    );
    tx.rollback().unwrap();
    store
        .append_log(1, &[rec(2, "{}")], &[], &[claim("r1")])
        .unwrap();
    assert_eq!(store.log_head_seq().unwrap(), 2);
}

/// Outbox rows that another transaction holds locked are skipped by a
/// claim, not waited for.
#[test]
fn claims_skip_rows_locked_elsewhere() {
    let db = TestDb::create();
    let store = PgStore::connect(&db.url).unwrap();
    let entries: Vec<LogRecord> = (1..=3).map(|i| rec(i, "{}")).collect();
    let rows: Vec<OutboxRow> = (1..=3).map(|i| out(&format!("k{i}"), i)).collect();
    store.append_log(0, &entries, &rows, &[]).unwrap();
    let mut other = client(&db);
    let mut tx = other.transaction().unwrap();
    tx.query(
        "SELECT * FROM outbox WHERE idempotency_key = 'k1' FOR UPDATE",
        &[],
    )
    .unwrap();
    let got = store.claim_deliveries(t(10), 10, "me", t(70)).unwrap();
    let keys: Vec<&str> = got.iter().map(|r| r.idempotency_key.as_str()).collect();
    assert_eq!(keys, ["k2", "k3"]);
    tx.rollback().unwrap();
    let got = store.claim_deliveries(t(10), 10, "me", t(70)).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].idempotency_key, "k1");
}

/// Text comes back byte for byte: the log body (whose hash covers its
/// bytes) and documents keep key order, spacing, escapes and characters a
/// JSON column would rewrite.
#[test]
fn text_is_stored_byte_for_byte() {
    let db = TestDb::create();
    let store = PgStore::connect(&db.url).unwrap();
    let bodies = [
        r#"{"z":1,"a":2}"#,
        r#"{ "spaced" :  [1, 2.50, 1e3],  "dup":1, "dup":2 }"#,
        "{\"text\":\"caf\u{e9} \u{1f45f} \\u00e9 \\\" tab\\t\"}",
        "{\"newline\":\"a\\nb\"}\n",
    ];
    let entries: Vec<LogRecord> = bodies
        .iter()
        .enumerate()
        .map(|(i, b)| rec(i as u64 + 1, b))
        .collect();
    store.append_log(0, &entries, &[], &[]).unwrap();
    let back = store.log_records(0, None).unwrap();
    assert_eq!(back, entries);
    let stored: Vec<String> = client(&db)
        .query("SELECT body FROM enforcement_log ORDER BY seq", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(stored, bodies);
    // A listing's unknown fields keep their order and values.
    let mut s = screened("l", "s", 1, "Sneakers \u{1f45f}");
    s.listing
        .extra
        .insert("zeta".into(), serde_json::json!({"b": 1, "a": [0.1, 2]}));
    s.listing
        .extra
        .insert("alpha".into(), serde_json::json!(true));
    store.record_screenings(std::slice::from_ref(&s)).unwrap();
    assert_eq!(
        store.latest_listing("l").unwrap().unwrap().listing,
        s.listing
    );
}

/// Rows that cannot be read back are `Corrupt`, naming the column.
#[test]
fn corrupt_rows_name_their_column() {
    let db = TestDb::create();
    let store = PgStore::connect(&db.url).unwrap();
    store.insert_holder(&holder("h")).unwrap();
    store.insert_right(&right("r", "h")).unwrap();
    store
        .record_screenings(&[screened("l", "s", 1, "x")])
        .unwrap();
    let mut c = client(&db);
    c.batch_execute(
        "INSERT INTO api_keys (key_hash, role, label, created_at, principal_id) \
         VALUES ('k', 'wizard', 'x', now(), 'p'); \
         UPDATE rights SET doc = 'not json' WHERE id = 'r'; \
         UPDATE listing_versions SET version = -1 WHERE listing_id = 'l'; \
         UPDATE listings SET version = -1 WHERE id = 'l'; \
         INSERT INTO outbox (idempotency_key, seq, kind, payload, status, next_attempt_at) \
         VALUES ('o', 1, 'warning', '{}', 'lost', now());",
    )
    .unwrap();
    let what = |e: StoreError| match e {
        StoreError::Corrupt { what, .. } => what,
        e => panic!("not corrupt: {e}"),
    };
    assert_eq!(what(store.api_key("k").unwrap_err()), "api_keys.role");
    assert_eq!(what(store.right("r").unwrap_err()), "rights.doc");
    assert_eq!(what(store.rights(None).unwrap_err()), "rights.doc");
    assert_eq!(
        what(store.listing_history("l").unwrap_err()),
        "listing_versions.version"
    );
    assert_eq!(what(store.outbox_rows(0, 10).unwrap_err()), "outbox.status");
    c.batch_execute("DELETE FROM meta WHERE key = 'decision_seq'")
        .unwrap();
    assert_eq!(
        what(store.decisions_end().unwrap_err()),
        "meta.decision_seq"
    );
}

/// A lock held too long by another session (a stuck process) fails the
/// write after the lock timeout instead of hanging it.
#[test]
fn a_stuck_lock_times_out() {
    let db = TestDb::create();
    let store = PgStore::connect_with(
        &db.url,
        &PgOptions {
            lock_timeout: Duration::from_millis(300),
            ..PgOptions::default()
        },
    )
    .unwrap();
    let mut other = client(&db);
    let mut tx = other.transaction().unwrap();
    tx.query("SELECT * FROM enforcement_anchor FOR UPDATE", &[])
        .unwrap();
    let err = store.append_log(0, &[rec(1, "{}")], &[], &[]).unwrap_err();
    assert!(
        matches!(&err, StoreError::Database(m) if m.contains("timed out waiting for a lock")),
        "{err}"
    );
    tx.rollback().unwrap();
    store.append_log(0, &[rec(1, "{}")], &[], &[]).unwrap();
}
