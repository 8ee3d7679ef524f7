//! The enforcement log, anchor, outbox and backlog on a real SQLite file.

use chrono::{Duration, TimeZone, Utc};
use shopshield_model::{Action, Decision, Listing, Role};
use shopshield_store::{
    ApiKey, EnforcementStore, LogRecord, OutboxRow, OutboxStatus, Screened, SqliteStore, Store,
    StoreError,
};

fn rec(seq: u64) -> LogRecord {
    LogRecord {
        seq,
        prev_hash: format!("p{seq}"),
        hash: format!("h{seq}"),
        body: format!("{{\"n\":{seq}}}"),
        at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + Duration::seconds(seq as i64),
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
        next_attempt_at: rec(seq).at,
        delivered_at: None,
        last_error: None,
    }
}

fn screened(id: &str, action: Action) -> Screened {
    let listing: Listing = serde_json::from_value(serde_json::json!({
        "id": id, "shop_id": "shop-1", "creator_id": "c-1", "region": "US",
        "category": "apparel/shoes", "title": "Shoes"
    }))
    .unwrap();
    Screened {
        content_hash: listing.content_hash(),
        decision: Decision {
            id: id.into(),
            decision_id: Decision::decision_id(id, 1),
            listing_version: 1,
            action,
            score: 0.0,
            violations: vec![],
            registry_version: 1,
            policy_versions: Default::default(),
            decided_at: Utc::now(),
        },
        listing,
        version: 1,
    }
}

#[test]
fn appends_are_atomic_ordered_and_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shopshield.db");
    {
        let s = SqliteStore::open(&path).unwrap();
        assert_eq!(s.log_head_seq().unwrap(), 0);
        assert!(s.log_anchor().unwrap().is_none());
        s.append_log(0, &[rec(1), rec(2)], &[out("k1", 1)]).unwrap();
        // A writer that computed from a stale head loses, and writes nothing.
        let stale = s.append_log(0, &[rec(1)], &[out("k-stale", 1)]);
        assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
        // Entries must follow the head without gaps.
        assert!(matches!(
            s.append_log(2, &[rec(4)], &[]),
            Err(StoreError::Conflict(_))
        ));
        s.append_log(2, &[rec(3)], &[out("k3", 3), out("k1", 3)])
            .unwrap();
    }
    let s = SqliteStore::open(&path).unwrap();
    let all = s.log_records(0, None).unwrap();
    assert_eq!(all, vec![rec(1), rec(2), rec(3)]);
    assert_eq!(s.log_records(1, Some(1)).unwrap(), vec![rec(2)]);
    assert_eq!(s.log_head_seq().unwrap(), 3);
    let anchor = s.log_anchor().unwrap().unwrap();
    assert_eq!((anchor.seq, anchor.hash.as_str()), (3, "h3"));
    // The duplicate idempotency key was skipped; the stale one never written.
    let rows = s.outbox_rows(0, 10).unwrap();
    assert_eq!(
        rows.iter()
            .map(|r| r.idempotency_key.as_str())
            .collect::<Vec<_>>(),
        ["k1", "k3"]
    );
    assert_eq!(rows[0].seq, 1);
}

#[test]
fn outbox_rows_keep_their_delivery_state() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shopshield.db");
    let t0 = rec(1).at;
    {
        let s = SqliteStore::open(&path).unwrap();
        s.append_log(0, &[rec(1), rec(2)], &[out("a", 1), out("b", 2)])
            .unwrap();
        assert_eq!(s.due_deliveries(t0, 10).unwrap().len(), 1);
        let mut a = s.due_deliveries(t0 + Duration::hours(1), 10).unwrap()[0].clone();
        assert_eq!(a.idempotency_key, "a");
        a.failures = 1;
        a.last_error = Some("503".into());
        a.next_attempt_at = t0 + Duration::hours(2);
        s.update_delivery(&a).unwrap();
        let mut b = s.due_deliveries(t0 + Duration::hours(1), 10).unwrap()[0].clone();
        assert_eq!(b.idempotency_key, "b");
        b.status = OutboxStatus::Delivered;
        b.delivered_at = Some(t0 + Duration::hours(1));
        s.update_delivery(&b).unwrap();
        let mut ghost = b.clone();
        ghost.idempotency_key = "nope".into();
        assert!(s.update_delivery(&ghost).is_err());
    }
    let s = SqliteStore::open(&path).unwrap();
    assert!(
        s.due_deliveries(t0 + Duration::hours(1), 10)
            .unwrap()
            .is_empty()
    );
    let due = s.due_deliveries(t0 + Duration::hours(2), 10).unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].failures, 1);
    assert_eq!(due[0].last_error.as_deref(), Some("503"));
    let rows = s.outbox_rows(0, 10).unwrap();
    assert_eq!(rows[1].status, OutboxStatus::Delivered);
    assert!(rows[1].delivered_at.is_some());
}

#[test]
fn backlog_lists_review_and_reject_decisions_after_the_cursor() {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStore::open(&dir.path().join("shopshield.db")).unwrap();
    s.record_screenings(&[
        screened("l-1", Action::Approve),
        screened("l-2", Action::Review),
        screened("l-3", Action::Reject),
    ])
    .unwrap();
    assert_eq!(s.enforcement_cursor().unwrap(), 0);
    let items = s.enforcement_backlog(0, 10).unwrap();
    assert_eq!(
        items
            .iter()
            .map(|i| i.listing.id.as_str())
            .collect::<Vec<_>>(),
        ["l-2", "l-3"]
    );
    assert_eq!(items[0].listing.creator_id.as_deref(), Some("c-1"));
    let end = s.decisions_end().unwrap();
    assert_eq!(end, items[1].position);
    s.set_enforcement_cursor(items[0].position).unwrap();
    assert_eq!(s.enforcement_cursor().unwrap(), items[0].position);
    let rest = s.enforcement_backlog(items[0].position, 10).unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].decision.action, Action::Reject);
}

#[test]
fn creator_keys_keep_their_creator() {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStore::open(&dir.path().join("shopshield.db")).unwrap();
    s.insert_api_key(&ApiKey {
        key_hash: "cd".repeat(32),
        role: Role::Creator,
        holder_id: None,
        shop_id: None,
        label: "creator".into(),
        created_at: Utc::now(),
        creator_id: Some("c-7".into()),
    })
    .unwrap();
    let k = s.api_key(&"cd".repeat(32)).unwrap().unwrap();
    assert_eq!(k.role, Role::Creator);
    assert_eq!(k.creator_id.as_deref(), Some("c-7"));
}
