//! What only the SQLite file store does: survive reopening, keep its file
//! private, migrate a database written by an earlier release, and let
//! several processes open a fresh file at once.

use chrono::Utc;
use shopshield_model::{NewRight, Right, RightsHolder};
use shopshield_store::{
    CatalogStore, KeyStore, RegistryStore, RightRecord, SqliteStore, Store, SweepStore,
};

fn right(id: &str, holder: &str, mark: &str) -> RightRecord {
    let new: NewRight = serde_json::from_value(serde_json::json!({
        "id": id, "holder": holder, "kind": "trademark", "mark": mark,
        "nice_classes": [25], "regions": ["*"]
    }))
    .unwrap();
    RightRecord::plain(Right::from_new(new, holder.into(), Utc::now()))
}

#[test]
fn everything_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shopshield.db");
    {
        let s = SqliteStore::open(&path).unwrap();
        s.insert_holder(&RightsHolder {
            id: "nike".into(),
            name: "Nike, Inc.".into(),
            created_at: Utc::now(),
        })
        .unwrap();
        assert_eq!(s.insert_right(&right("r-nike", "nike", "Nike")).unwrap(), 1);
    }
    let s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.backend(), "sqlite");
    assert_eq!(s.registry_version().unwrap(), 1);
    assert_eq!(s.holder_by_name("Nike, Inc.").unwrap().unwrap().id, "nike");
    assert_eq!(s.rights_changed_since(0).unwrap().len(), 1);
}

#[cfg(unix)]
#[test]
fn the_database_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shopshield.db");
    let s = SqliteStore::open(&path).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{mode:o}");
    // The write-ahead log and its index, made once something is written,
    // take the database file's mode.
    s.insert_holder(&RightsHolder {
        id: "nike".into(),
        name: "Nike, Inc.".into(),
        created_at: Utc::now(),
    })
    .unwrap();
    let mut seen = 0;
    for suffix in ["-wal", "-shm"] {
        let side = dir.path().join(format!("shopshield.db{suffix}"));
        if let Ok(m) = std::fs::metadata(&side) {
            let mode = m.permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{suffix}: {mode:o}");
            seen += 1;
        }
    }
    assert_eq!(seen, 2, "WAL mode keeps -wal and -shm files while open");
}

/// The schema migrations of earlier releases, in order.
const MIGRATIONS: [&str; 9] = [
    include_str!("../migrations/sqlite/0001_foundation.sql"),
    include_str!("../migrations/sqlite/0002_enforcement.sql"),
    include_str!("../migrations/sqlite/0003_qualifications.sql"),
    include_str!("../migrations/sqlite/0004_scale_out.sql"),
    include_str!("../migrations/sqlite/0005_after_listing.sql"),
    include_str!("../migrations/sqlite/0006_content.sql"),
    include_str!("../migrations/sqlite/0007_notices.sql"),
    include_str!("../migrations/sqlite/0008_authorizations.sql"),
    include_str!("../migrations/sqlite/0009_proof_of_rights.sql"),
];

/// A database file as a release at schema `version` left it.
fn database_at(path: &std::path::Path, version: usize) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).unwrap();
    for sql in &MIGRATIONS[..version] {
        conn.execute_batch(sql).unwrap();
    }
    conn.pragma_update(None, "user_version", version as i64)
        .unwrap();
    conn
}

/// A database at schema version 3 (the first releases) with a decision and
/// keys migrates: decisions keep their order as explicit sequence numbers,
/// keys get the principal they acted as.
#[test]
fn a_version_3_database_migrates() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shopshield.db");
    {
        let conn = database_at(&path, 3);
        conn.execute_batch(
            "UPDATE meta SET value = '1' WHERE key = 'registry_version';
             INSERT INTO holders VALUES ('h', 'H', '2026-01-01T00:00:00.000000Z');
             INSERT INTO rights (id, holder_id, kind, enabled, doc, image, updated_at) VALUES
               ('r', 'h', 'trademark', 1, '{}', NULL, '2026-01-01T00:00:00.000000Z');
             INSERT INTO decisions VALUES ('l@v1', 'l', 1, 'review', 0.6, '{}', '2026-01-01T00:00:00.000000Z');
             INSERT INTO decisions VALUES ('m@v1', 'm', 1, 'approve', 0.0, '{}', '2026-01-01T00:00:01.000000Z');
             INSERT INTO api_keys VALUES ('aaaaaaaaaaaaaaaa', 'reviewer', NULL, NULL, 'alice', '2026-01-01T00:00:00.000000Z', NULL);
             INSERT INTO api_keys VALUES ('bbbbbbbbbbbbbbbb', 'reviewer', NULL, NULL, 'Bob Smith', '2026-01-01T00:00:00.000000Z', NULL);",
        )
        .unwrap();
    }
    let s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.decisions_end().unwrap(), 2);
    let keys = s.api_keys().unwrap();
    let principals: Vec<&str> = keys.iter().map(|k| k.principal_id.as_str()).collect();
    assert_eq!(principals, ["alice", "key-bbbbbbbbbbbb"]);
    let changed = s.rights_changed_since(0);
    // The right's document is a stub here; what matters is its version.
    assert!(changed.is_err() || changed.unwrap().len() == 1);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = conn
        .query_row(
            "SELECT changed_version FROM rights WHERE id = 'r'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(version, 1);
}

/// A database at schema version 9 keeps its sweep index through the move of
/// each listing's terms onto its row: the next version of a listing stored
/// before the move replaces exactly the terms it was indexed under.
#[test]
fn a_version_9_sweep_index_migrates() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shopshield.db");
    {
        let conn = database_at(&path, 9);
        conn.execute_batch(
            "INSERT INTO listings VALUES ('l', 's', 1, 'h1', 'approve', '2026-01-01T00:00:00.000000Z');
             INSERT INTO listings VALUES ('m', 's', 1, 'h2', 'approve', '2026-01-01T00:00:00.000000Z');
             INSERT INTO listing_terms VALUES ('zorbex', 'l'), ('shoe', 'l'), ('shoe', 'm');
             INSERT INTO index_terms VALUES ('shoe'), ('zorbex');",
        )
        .unwrap();
    }
    let s = SqliteStore::open(&path).unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let terms: String = conn
        .query_row("SELECT terms FROM listings WHERE id = 'l'", [], |r| {
            r.get(0)
        })
        .unwrap();
    let mut terms: Vec<String> = serde_json::from_str(&terms).unwrap();
    terms.sort();
    assert_eq!(terms, ["shoe", "zorbex"]);
    let gone: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'listing_terms_by_listing'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(gone, 0);
    conn.execute("DELETE FROM listing_terms WHERE term = 'zorbex'", [])
        .unwrap();
    drop(conn);
    // The row's list may name entries a sweep has cleared since: deleting
    // them again is harmless.
    let mut next = shopshield_store::conformance::screened(
        "l",
        "s",
        2,
        "Hat",
        shopshield_model::Action::Approve,
    );
    next.terms = vec!["hat".into()];
    s.record_screenings(&[next]).unwrap();
    let find = |t: &str| s.listings_with_terms(&[t.to_string()], None, 10).unwrap();
    assert_eq!(find("shoe"), ["m"]);
    assert_eq!(find("hat"), ["l"]);
}

/// `keys create` run while `serve` starts on a fresh data directory: both
/// open the file at once, neither fails.
#[test]
fn several_processes_open_a_fresh_file_at_once() {
    for round in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shopshield.db");
        let results: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| s.spawn(|| SqliteStore::open(&path).map(|_| ())))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for r in results {
            assert!(r.is_ok(), "round {round}: {r:?}");
        }
    }
}

/// The checkpoint thread copies the log only after this process wrote: a
/// process that only reads (or is idle) leaves the file alone, and once the
/// log is copied the thread goes back to idling.
#[test]
fn the_checkpoint_thread_works_only_after_a_write() {
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStore::open(&dir.path().join("shopshield.db")).unwrap();
    for _ in 0..5 {
        s.registry_version().unwrap();
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(s.checkpoints_run(), 0, "a reading process checkpointed");
    s.insert_holder(&RightsHolder {
        id: "nike".into(),
        name: "Nike, Inc.".into(),
        created_at: Utc::now(),
    })
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while s.checkpoints_run() == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(s.checkpoints_run() >= 1, "the write was never checkpointed");
    // Idle again: within a few seconds, half a second passes with no run.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut settled = false;
    while !settled && Instant::now() < deadline {
        let before = s.checkpoints_run();
        std::thread::sleep(Duration::from_millis(500));
        settled = s.checkpoints_run() == before;
    }
    assert!(
        settled,
        "the checkpoint thread kept running with nothing written"
    );
}
