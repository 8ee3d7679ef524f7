//! Enforcement inside the application, on a real SQLite file: decisions
//! committed but never handed to enforcement (a crash between the two) are
//! caught up at start-up, exactly once; a tampered log stops the start.

use std::sync::Arc;

use chrono::TimeZone;
use shopshield_app::enforce::Party;
use shopshield_app::{App, AppConfig, AppError, FixedClock, Principal};
use shopshield_model::{Action, Decision, Evidence, Listing, Violation, ViolationType};
use shopshield_store::{CatalogStore, Screened, SqliteStore};

fn clock() -> Arc<FixedClock> {
    Arc::new(FixedClock::new(
        chrono::Utc
            .with_ymd_and_hms(2026, 5, 1, 12, 0, 0)
            .single()
            .unwrap(),
    ))
}

fn screened(id: &str, action: Action, confidence: f64) -> Screened {
    let listing: Listing = serde_json::from_value(serde_json::json!({
        "id": id, "shop_id": "shop-1", "creator_id": "cr-1", "region": "GB",
        "category": "apparel/shoes", "title": "Shoes"
    }))
    .unwrap();
    Screened {
        content_hash: listing.content_hash(),
        terms: Vec::new(),
        decision: Decision {
            id: id.into(),
            decision_id: Decision::decision_id(id, 1),
            listing_version: 1,
            action,
            score: confidence,
            violations: vec![Violation {
                kind: ViolationType::Counterfeit,
                right_id: None,
                rule_id: None,
                detector: "test".into(),
                confidence,
                evidence: Evidence {
                    why: "test finding".into(),
                    ..Evidence::default()
                },
            }],
            registry_version: 0,
            policy_versions: Default::default(),
            decided_at: chrono::Utc::now(),
            source: Default::default(),
            cause: None,
        },
        listing,
        version: 1,
    }
}

fn open(db: &std::path::Path) -> Result<App, AppError> {
    let store = SqliteStore::open(db).unwrap();
    App::new(Arc::new(store), AppConfig::default(), clock())
}

#[test]
fn decisions_stored_before_a_crash_are_enforced_at_start_up_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shopshield.db");
    // Decisions committed by a process that died before enforcing them.
    SqliteStore::open(&db)
        .unwrap()
        .record_screenings(&[
            screened("a", Action::Reject, 0.95),
            screened("b", Action::Review, 0.6),
            screened("c", Action::Reject, 0.5),
            screened("d", Action::Approve, 0.0),
        ])
        .unwrap();
    let admin = Principal::operator("t");
    let record = |app: &App| {
        app.review()
            .record(&admin, &Party::Shop("shop-1".into()))
            .unwrap()
    };
    let app = open(&db).unwrap();
    let first = record(&app);
    assert_eq!(first.violations.len(), 1, "only the confident reject");
    assert_eq!(first.points, 12, "counterfeit, moderate");
    assert_eq!(app.review().queues(&admin).unwrap()[0].open, 1);
    let creator = app
        .review()
        .record(&admin, &Party::Creator("cr-1".into()))
        .unwrap();
    assert_eq!(creator.points, 12, "the creator took part");
    let log = app.review().log_entries(&admin, 0, 1000).unwrap();
    drop(app);
    // Opening again changes nothing.
    let app = open(&db).unwrap();
    assert_eq!(record(&app), first);
    assert_eq!(app.review().log_entries(&admin, 0, 1000).unwrap(), log);
    // A seller cannot read the log; a reviewer cannot tick.
    let seller = Principal {
        role: shopshield_model::Role::Seller,
        shop_id: Some("shop-1".into()),
        ..Principal::operator("s")
    };
    assert!(matches!(
        app.review().log_entries(&seller, 0, 10),
        Err(AppError::Forbidden(_))
    ));
    assert!(matches!(
        app.review().record(&seller, &Party::Shop("shop-2".into())),
        Err(AppError::NotFound { .. })
    ));
}

#[test]
fn a_tampered_log_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shopshield.db");
    SqliteStore::open(&db)
        .unwrap()
        .record_screenings(&[screened("a", Action::Reject, 0.95)])
        .unwrap();
    drop(open(&db).unwrap());
    let store = SqliteStore::open(&db).unwrap();
    let report = shopshield_app::audit_log(&store).unwrap();
    assert!(report.entries >= 2);
    drop(store);
    // Delete the first entry behind the application's back.
    let conn = rusqlite::Connection::open(&db).unwrap();
    assert_eq!(
        conn.execute("DELETE FROM enforcement_log WHERE seq = 1", [])
            .unwrap(),
        1
    );
    drop(conn);
    match open(&db) {
        Err(AppError::Integrity(m)) => assert!(m.contains("log entry 1"), "{m}"),
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("started on a tampered log"),
    }
    let store = SqliteStore::open(&db).unwrap();
    let err = shopshield_app::audit_log(&store).unwrap_err();
    assert_eq!(err.seq(), Some(1));
}

/// A snapshot of the state lets a process start from it and replay only
/// the entries after it; the state is the same either way, and entries
/// edited after the snapshot are still refused.
#[test]
fn start_up_from_a_snapshot_and_the_tail() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shopshield.db");
    SqliteStore::open(&db)
        .unwrap()
        .record_screenings(&[
            screened("a", Action::Reject, 0.95),
            screened("b", Action::Review, 0.6),
        ])
        .unwrap();
    let admin = Principal::operator("t");
    let app = open(&db).unwrap();
    let seq = app.review().snapshot().unwrap();
    assert!(seq >= 2, "snapshot at {seq}");
    // More entries after the snapshot.
    app.review().claim(&admin, "b@v1").unwrap();
    let record = app
        .review()
        .record(&admin, &Party::Shop("shop-1".into()))
        .unwrap();
    let case = app.review().case(&admin, "b@v1").unwrap();
    drop(app);
    let app = open(&db).unwrap();
    assert_eq!(
        app.review()
            .record(&admin, &Party::Shop("shop-1".into()))
            .unwrap(),
        record
    );
    assert_eq!(app.review().case(&admin, "b@v1").unwrap(), case);
    drop(app);
    // Edit the entry after the snapshot: the start refuses it.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let n = conn
        .execute(
            "UPDATE enforcement_log SET body = replace(body, 'b@v1', 'b@v9') WHERE seq = ?1",
            [i64::try_from(seq + 1).unwrap()],
        )
        .unwrap();
    assert_eq!(n, 1);
    drop(conn);
    match open(&db) {
        Err(AppError::Integrity(m)) => {
            assert!(m.contains(&format!("log entry {}", seq + 1)), "{m}")
        }
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("started on a tampered log"),
    }
}

/// A snapshot that no longer matches its log entry is ignored: the whole
/// log is replayed (and verified) instead.
#[test]
fn a_stale_snapshot_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shopshield.db");
    SqliteStore::open(&db)
        .unwrap()
        .record_screenings(&[screened("a", Action::Reject, 0.95)])
        .unwrap();
    let admin = Principal::operator("t");
    let app = open(&db).unwrap();
    let seq = app.review().snapshot().unwrap();
    let record = app
        .review()
        .record(&admin, &Party::Shop("shop-1".into()))
        .unwrap();
    drop(app);
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute(
        "UPDATE enforcement_snapshots SET hash = 'x' WHERE seq = ?1",
        [i64::try_from(seq).unwrap()],
    )
    .unwrap();
    drop(conn);
    let app = open(&db).unwrap();
    assert_eq!(
        app.review()
            .record(&admin, &Party::Shop("shop-1".into()))
            .unwrap(),
        record
    );
}

/// Two processes on one file hand the same backlog to enforcement at once,
/// several times over: the one that loses an append race puts its state
/// back and reads the winner's entries. Every decision is enforced once,
/// and both end with exactly the state a fresh start loads from the log.
#[test]
fn racing_writers_end_with_the_logs_state() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shopshield.db");
    let admin = Principal::operator("t");
    let a = open(&db).unwrap();
    let b = open(&db).unwrap();
    let writer = SqliteStore::open(&db).unwrap();
    let shops = 6;
    for round in 0..8 {
        let batch: Vec<Screened> = (0..30)
            .map(|i| {
                let mut s = screened(&format!("r{round}-{i}"), Action::Reject, 0.95);
                s.listing.shop_id = format!("shop-{}", i % shops);
                s.listing.creator_id = None;
                s
            })
            .collect();
        writer.record_screenings(&batch).unwrap();
        let (x, y) = std::thread::scope(|s| {
            let x = s.spawn(|| a.review().catch_up());
            let y = s.spawn(|| b.review().catch_up());
            (x.join().unwrap(), y.join().unwrap())
        });
        let handed = x.unwrap() + y.unwrap();
        assert!(handed <= 30, "round {round}: {handed} handed over");
    }
    let fresh = open(&db).unwrap();
    let log = fresh.review().log_entries(&admin, 0, 10_000).unwrap();
    let recorded = log
        .iter()
        .filter(|e| {
            matches!(
                e.event.kind,
                shopshield_app::enforce::EventKind::ViolationRecorded(_)
            )
        })
        .count();
    assert_eq!(recorded, 8 * 30, "each decision recorded once");
    for i in 0..shops {
        let shop = Party::Shop(format!("shop-{i}"));
        let want = fresh.review().record(&admin, &shop).unwrap();
        assert_eq!(a.review().record(&admin, &shop).unwrap(), want, "{shop}");
        assert_eq!(b.review().record(&admin, &shop).unwrap(), want, "{shop}");
    }
}
