//! The conformance suite every [`Store`] passes.
//!
//! Each check gets two handles on one fresh, empty database, as two
//! processes would have: what one writes the other must see, and the
//! guarantees that matter at scale (versions, log heads, leases, outbox
//! claims) must hold between them. A backend runs the suite with
//! [`conformance_tests!`](crate::conformance_tests):
//!
//! ```ignore
//! fn open() -> shopshield_store::conformance::Pair { /* two handles */ }
//! shopshield_store::conformance_tests!(open);
//! ```
//!
//! The checks panic on failure, as tests do.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use shopshield_model::{
    Action, Decision, Listing, NewRight, Qualification, Region, Right, RightsHolder, Role,
};

use crate::{
    ApiKey, ContextKey, LeaseChange, LogRecord, OutboxRow, OutboxStatus, Page, RightRecord,
    Screened, Snapshot, Store, StoreError, StoredStream, StoredVideo, SweepCounts, SweepRecord,
    SweepState, SweepWatermark,
};
use crate::{
    AuthorizationFilter, Filed, NoticeFilter, NoticeItemRecord, SellerChange, StoredNotice,
};

/// Two handles on one fresh database, and whatever keeps it alive (a
/// temporary directory, a database dropped at the end).
pub struct Pair {
    pub a: Box<dyn Store>,
    pub b: Box<dyn Store>,
    pub guard: Box<dyn std::any::Any>,
}

/// Generates one `#[test]` per check, each on a fresh [`Pair`] from `$open`.
#[macro_export]
macro_rules! conformance_tests {
    ($open:path) => {
        $crate::conformance_tests!(@each $open;
            registry_round_trip,
            registry_conflicts_write_nothing,
            registry_changes_reach_the_other_handle,
            registry_keeps_proof_of_rights,
            catalog_round_trip,
            catalog_context_in_one_read,
            catalog_versions_hold_across_handles,
            catalog_racing_writers_one_wins,
            keys_and_qualifications,
            log_appends_and_heads,
            log_snapshots_and_cursor,
            case_leases_exclude_other_reviewers,
            outbox_claims_are_exclusive,
            sweep_index_follows_the_latest_version,
            sweeps_open_once_and_claims_are_exclusive,
            video_clips_round_trip,
            videos_versions_hold_across_handles,
            stopped_streams_stay_stopped,
            content_pages_for_reports,
            notices_file_once_by_id,
            notice_items_change_once_per_version,
            authorizations_one_pending_per_shop_and_right,
            authorization_decisions_change_the_right_once
        );
    };
    (@each $open:path; $($check:ident),* $(,)?) => {
        $(
            #[test]
            fn $check() {
                let pair = $open();
                $crate::conformance::$check(&*pair.a, &*pair.b);
                drop(pair);
            }
        )*
    };
}

fn t(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0)
        .single()
        .expect("valid")
        + chrono::Duration::seconds(secs)
}

fn holder(id: &str, name: &str) -> RightsHolder {
    RightsHolder {
        id: id.into(),
        name: name.into(),
        created_at: t(0),
    }
}

fn right(id: &str, holder: &str, mark: &str) -> RightRecord {
    let new: NewRight = serde_json::from_value(serde_json::json!({
        "id": id, "holder": holder, "kind": "trademark", "mark": mark,
        "nice_classes": [25], "regions": ["*"]
    }))
    .expect("valid right");
    RightRecord::plain(Right::from_new(new, holder.into(), t(0)))
}

fn logo(id: &str, holder: &str) -> RightRecord {
    let mut r = right(id, holder, "Logo");
    r.right.kind = shopshield_model::RightKind::Logo;
    r.right.mark = None;
    r.image = Some(vec![1, 2, 3, 4]);
    r.features = Some(vec![9, 9]);
    r
}

fn listing(id: &str, shop: &str, title: &str) -> Listing {
    serde_json::from_value(serde_json::json!({
        "id": id, "shop_id": shop, "region": "US", "category": "apparel/shoes", "title": title
    }))
    .expect("valid listing")
}

/// A screened listing version with a plain decision, for store tests.
pub fn screened(id: &str, shop: &str, version: u32, title: &str, action: Action) -> Screened {
    let listing = listing(id, shop, title);
    Screened {
        content_hash: listing.content_hash(),
        terms: Vec::new(),
        decision: Decision {
            id: id.into(),
            decision_id: Decision::decision_id(id, version),
            listing_version: version,
            action,
            score: if action == Action::Approve { 0.0 } else { 0.9 },
            violations: vec![],
            registry_version: 1,
            policy_versions: BTreeMap::from([("global".to_string(), "1".to_string())]),
            decided_at: t(i64::from(version)),
            source: Default::default(),
            cause: None,
        },
        listing,
        version,
    }
}

fn key(hash: &str, role: Role, principal: &str) -> ApiKey {
    ApiKey {
        key_hash: hash.into(),
        role,
        holder_id: None,
        shop_id: (role == Role::Seller).then(|| "shop-1".to_string()),
        label: "Alice".into(),
        created_at: t(0),
        creator_id: None,
        principal_id: principal.into(),
    }
}

fn rec(seq: u64) -> LogRecord {
    LogRecord {
        seq,
        prev_hash: format!("p{seq}"),
        hash: format!("h{seq}"),
        body: format!("{{\"n\":{seq}}}"),
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
        next_attempt_at: t(seq as i64),
        delivered_at: None,
        last_error: None,
    }
}

fn is_conflict<T: std::fmt::Debug>(r: Result<T, StoreError>) -> bool {
    matches!(r, Err(StoreError::Conflict(_)))
}

fn registered(id: &str, holder: &str, expires_on: &str) -> RightRecord {
    let mut r = right(id, holder, "Zorbex");
    r.right.registration = Some(shopshield_model::Registration {
        number: format!("{id}-0001"),
        office: "USPTO".into(),
        registered_on: Some(date("2016-01-31")),
        expires_on: date(expires_on),
    });
    r
}

fn date(s: &str) -> chrono::NaiveDate {
    s.parse().expect("valid date")
}

/// A right's registration and review state are kept (inserted, imported,
/// replaced); rights are found by the day their registration expires; a
/// review is decided once, across handles, as a registry change.
pub fn registry_keeps_proof_of_rights(a: &dyn Store, b: &dyn Store) {
    use shopshield_model::{RightConflict, RightReview, RightReviewState};
    a.insert_holder(&holder("zorbex", "Zorbex")).unwrap();
    a.insert_holder(&holder("other", "Other")).unwrap();
    a.insert_right(&registered("r-1", "zorbex", "2026-06-30"))
        .unwrap();
    a.insert_right(&right("r-plain", "zorbex", "Plain"))
        .unwrap();
    let mut held = registered("r-2", "other", "2026-07-01");
    held.right.review = Some(RightReview {
        state: RightReviewState::Pending,
        conflicts: vec![RightConflict {
            right_id: "r-1".into(),
            holder_id: "zorbex".into(),
            name: "zorbex".into(),
        }],
        held_at: t(1),
        reason: None,
        reviewed_by: None,
        reviewed_at: None,
    });
    a.import_rights(
        &[],
        &[held.clone(), registered("r-3", "other", "2027-01-01")],
    )
    .unwrap();
    let back = b.right("r-2").unwrap().unwrap().right;
    assert_eq!(back.registration, held.right.registration);
    assert_eq!(back.review, held.right.review);
    let ids = |v: Vec<Right>| v.into_iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(
        ids(b
            .rights_expiring(date("2026-06-30"), date("2026-07-01"))
            .unwrap()),
        ["r-1", "r-2"]
    );
    assert_eq!(
        ids(b
            .rights_expiring(date("2026-07-01"), date("2026-12-31"))
            .unwrap()),
        ["r-2"]
    );
    assert!(
        b.rights_expiring(date("2025-01-01"), date("2026-06-29"))
            .unwrap()
            .is_empty()
    );
    // A re-import with a new expiry moves the right in the expiry index.
    a.import_rights(&[], &[registered("r-1", "zorbex", "2036-06-30")])
        .unwrap();
    assert_eq!(
        ids(b
            .rights_expiring(date("2026-06-30"), date("2026-07-01"))
            .unwrap()),
        ["r-2"]
    );
    // Deciding the review is a registry change, once.
    let before = a.registry_version().unwrap();
    let mut decided = held.right.review.clone().unwrap();
    decided.state = RightReviewState::Approved;
    decided.reason = Some("coexistence agreement on file".into());
    decided.reviewed_by = Some("admin".into());
    decided.reviewed_at = Some(t(9));
    let (r, v) = a.set_right_review("r-2", &decided, t(9)).unwrap().unwrap();
    assert_eq!(v, before + 1);
    assert_eq!(r.review.as_ref(), Some(&decided));
    assert_eq!(r.updated_at, t(9));
    let since = b.rights_changed_since(before).unwrap();
    assert_eq!(since.len(), 1);
    assert_eq!(since[0].right.review.as_ref(), Some(&decided));
    let mut refused = decided.clone();
    refused.state = RightReviewState::Refused;
    assert!(is_conflict(b.set_right_review("r-2", &refused, t(10))));
    assert!(is_conflict(b.set_right_review("r-plain", &refused, t(10))));
    assert!(
        b.set_right_review("nope", &refused, t(10))
            .unwrap()
            .is_none()
    );
    assert_eq!(
        a.registry_version().unwrap(),
        v,
        "a refused write changes nothing"
    );
    assert_eq!(b.right("r-2").unwrap().unwrap().right.review, Some(decided));
}

/// Holders and rights are stored and read back; versions count changes;
/// changes since a version are what changed after it.
pub fn registry_round_trip(a: &dyn Store, _b: &dyn Store) {
    assert_eq!(a.registry_version().unwrap(), 0);
    a.insert_holder(&holder("nike", "Nike, Inc.")).unwrap();
    a.insert_holder(&holder("acme", "Acme")).unwrap();
    assert_eq!(a.holder("nike").unwrap().unwrap().name, "Nike, Inc.");
    assert_eq!(a.holder_by_name("Acme").unwrap().unwrap().id, "acme");
    assert!(a.holder("nope").unwrap().is_none());
    let ids: Vec<String> = a.holders().unwrap().into_iter().map(|h| h.id).collect();
    assert_eq!(ids, ["acme", "nike"]);
    assert_eq!(a.insert_right(&right("r-b", "nike", "Nike")).unwrap(), 1);
    assert_eq!(a.insert_right(&logo("r-a", "nike")).unwrap(), 2);
    assert_eq!(a.registry_version().unwrap(), 2);
    let stored = a.right("r-a").unwrap().unwrap();
    assert_eq!(stored.image.as_deref(), Some(&[1u8, 2, 3, 4][..]));
    assert_eq!(stored.features.as_deref(), Some(&[9u8, 9][..]));
    assert_eq!(
        a.right_image("r-a").unwrap().as_deref(),
        Some(&[1u8, 2, 3, 4][..])
    );
    assert_eq!(a.right_image("r-b").unwrap(), None);
    let names: Vec<String> = a
        .rights(Some("nike"))
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(names, ["r-a", "r-b"]);
    assert!(a.rights(Some("acme")).unwrap().is_empty());
    // Changes since version 1: only the logo.
    let since = a.rights_changed_since(1).unwrap();
    assert_eq!(since.len(), 1);
    assert_eq!(since[0].right.id, "r-a");
    assert!(since[0].has_image);
    assert_eq!(since[0].version, 2);
    assert_eq!(a.rights_changed_since(0).unwrap().len(), 2);
    // Disabling is a change; features are not.
    let (r, v) = a.set_right_enabled("r-b", false, t(5)).unwrap().unwrap();
    assert!(!r.enabled && v == 3);
    assert_eq!(r.updated_at, t(5));
    assert!(a.set_right_enabled("nope", false, t(5)).unwrap().is_none());
    a.set_right_features("r-a", &[7]).unwrap();
    assert_eq!(a.registry_version().unwrap(), 3);
    assert_eq!(
        a.right("r-a").unwrap().unwrap().features.as_deref(),
        Some(&[7u8][..])
    );
    let since = a.rights_changed_since(2).unwrap();
    assert_eq!(since.len(), 1);
    assert!(!since[0].right.enabled);
    // Re-importing replaces and keeps created_at, as one version.
    let first_created = a.right("r-b").unwrap().unwrap().right.created_at;
    let mut again = right("r-b", "nike", "Nike Air");
    again.right.created_at = t(999);
    let v = a
        .import_rights(
            &[holder("new", "New Holder")],
            &[again, right("r-c", "new", "Zeta")],
        )
        .unwrap();
    assert_eq!(v, 4);
    let got = a.right("r-b").unwrap().unwrap().right;
    assert_eq!(got.mark.as_deref(), Some("Nike Air"));
    assert_eq!(got.created_at, first_created);
    assert_eq!(a.holder("new").unwrap().unwrap().name, "New Holder");
    assert_eq!(a.rights_changed_since(3).unwrap().len(), 2);
}

/// Taken ids, unknown holders and half-valid imports change nothing.
pub fn registry_conflicts_write_nothing(a: &dyn Store, b: &dyn Store) {
    a.insert_holder(&holder("h", "H")).unwrap();
    assert!(is_conflict(b.insert_holder(&holder("h", "Other"))));
    assert!(is_conflict(b.insert_holder(&holder("h2", "H"))));
    a.insert_right(&right("r", "h", "Mark")).unwrap();
    assert!(is_conflict(b.insert_right(&right("r", "h", "Again"))));
    assert!(is_conflict(b.insert_right(&right("r2", "missing", "Mark"))));
    assert_eq!(a.registry_version().unwrap(), 1);
    let err = b
        .import_rights(
            &[holder("h3", "Holder Three")],
            &[right("r3", "h3", "Alpha"), right("r4", "missing", "Beta")],
        )
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict(_) | StoreError::Database(_)),
        "{err}"
    );
    assert!(a.holder("h3").unwrap().is_none());
    assert!(a.right("r3").unwrap().is_none());
    assert_eq!(a.registry_version().unwrap(), 1);
}

/// What one handle writes, the other sees, and its change feed wakes.
pub fn registry_changes_reach_the_other_handle(a: &dyn Store, b: &dyn Store) {
    let known = b.registry_version().unwrap();
    // Nothing changes: the feed times out with the same version.
    let start = std::time::Instant::now();
    assert_eq!(
        b.wait_registry_change(known, Duration::from_millis(150))
            .unwrap(),
        known
    );
    assert!(start.elapsed() >= Duration::from_millis(100));
    std::thread::scope(|s| {
        let waiter = s.spawn(|| b.wait_registry_change(known, Duration::from_secs(10)));
        std::thread::sleep(Duration::from_millis(100));
        a.insert_holder(&holder("h", "H")).unwrap();
        a.insert_right(&right("r", "h", "Mark")).unwrap();
        let seen = waiter.join().expect("waiter").unwrap();
        assert!(seen > known, "the feed woke at {seen}");
    });
    assert_eq!(b.rights_changed_since(known).unwrap()[0].right.id, "r");
}

/// Listings, versions and decisions round-trip; sequences are explicit.
pub fn catalog_round_trip(a: &dyn Store, b: &dyn Store) {
    assert_eq!(a.decisions_end().unwrap(), 0);
    let seqs = a
        .record_screenings(&[
            screened("l-1", "shop-1", 1, "Shoes", Action::Approve),
            screened("l-2", "shop-1", 1, "Nlke shoes", Action::Reject),
        ])
        .unwrap();
    assert_eq!(seqs, [1, 2]);
    let seqs = b
        .record_screenings(&[screened("l-1", "shop-1", 2, "Red shoes", Action::Review)])
        .unwrap();
    assert_eq!(seqs, [3]);
    assert_eq!(a.decisions_end().unwrap(), 3);
    let latest = a.latest_listing("l-1").unwrap().unwrap();
    assert_eq!(
        (latest.version, latest.listing.title.as_str()),
        (2, "Red shoes")
    );
    assert_eq!(latest.submitted_at, t(2));
    assert_eq!(a.listing_history("l-1").unwrap().len(), 2);
    assert!(a.latest_listing("nope").unwrap().is_none());
    let ds = a.decisions_for_listing("l-1").unwrap();
    assert_eq!(
        ds.iter().map(|d| d.listing_version).collect::<Vec<_>>(),
        [1, 2]
    );
    let d = a.decision("l-2@v1").unwrap().unwrap();
    assert_eq!(d.action, Action::Reject);
    assert_eq!(
        d.policy_versions.get("global").map(String::as_str),
        Some("1")
    );
    let page = a.listings_by_shop("shop-1", &Page::first(1)).unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].listing.id, "l-1");
    let next = a
        .listings_by_shop(
            "shop-1",
            &Page {
                after: Some("l-1".into()),
                limit: 10,
            },
        )
        .unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].listing.id, "l-2");
    let all: Vec<String> = a
        .decisions(&Page::first(10))
        .unwrap()
        .into_iter()
        .map(|d| d.decision_id)
        .collect();
    assert_eq!(all, ["l-1@v1", "l-2@v1", "l-1@v2"]);
    let after: Vec<String> = a
        .decisions(&Page {
            after: Some("l-2@v1".into()),
            limit: 10,
        })
        .unwrap()
        .into_iter()
        .map(|d| d.decision_id)
        .collect();
    assert_eq!(after, ["l-1@v2"]);
    // The backlog holds the review and reject decisions, in order.
    let backlog = b.enforcement_backlog(0, 10).unwrap();
    assert_eq!(
        backlog.iter().map(|i| i.position).collect::<Vec<_>>(),
        [2, 3]
    );
    assert_eq!(backlog[1].listing.title, "Red shoes");
    assert_eq!(b.enforcement_backlog(2, 10).unwrap().len(), 1);
    assert_eq!(b.enforcement_backlog(0, 1).unwrap().len(), 1);
}

/// The screening context answers latest versions, the stored decision of
/// unchanged content, and qualifications, for a whole batch.
pub fn catalog_context_in_one_read(a: &dyn Store, b: &dyn Store) {
    let s = screened("l-1", "shop-1", 1, "Shoes", Action::Approve);
    a.record_screenings(std::slice::from_ref(&s)).unwrap();
    let q: Qualification = serde_json::from_value(serde_json::json!({
        "shop_id": "shop-1", "qualification": "alcohol_licence", "region": "GB",
        "expires_at": "2030-01-01T00:00:00Z", "evidence_ref": "doc-1"
    }))
    .expect("valid qualification");
    a.put_qualification(&q, t(0)).unwrap();
    let changed = listing("l-1", "shop-1", "Other").content_hash();
    let ctx = b
        .screening_context(&[
            ContextKey {
                id: "l-1",
                shop_id: "shop-1",
                content_hash: &s.content_hash,
            },
            ContextKey {
                id: "l-9",
                shop_id: "shop-2",
                content_hash: "x",
            },
        ])
        .unwrap();
    let prior = &ctx.priors["l-1"];
    assert_eq!((prior.version, prior.shop_id.as_str()), (1, "shop-1"));
    assert_eq!(
        prior
            .same_content_decision
            .as_ref()
            .map(|d| d.decision_id.as_str()),
        Some("l-1@v1")
    );
    assert!(!ctx.priors.contains_key("l-9"));
    assert_eq!(ctx.qualifications["shop-1"], vec![q.clone()]);
    assert!(!ctx.qualifications.contains_key("shop-2"));
    let ctx = b
        .screening_context(&[ContextKey {
            id: "l-1",
            shop_id: "shop-1",
            content_hash: &changed,
        }])
        .unwrap();
    assert!(ctx.priors["l-1"].same_content_decision.is_none());
    // Replacing a qualification keeps one.
    let mut q2 = q.clone();
    q2.evidence_ref = "doc-2".into();
    b.put_qualification(&q2, t(1)).unwrap();
    assert_eq!(a.qualifications("shop-1").unwrap(), vec![q2]);
}

/// A version must follow the stored one, whoever stored it; a failed batch
/// writes nothing; another shop cannot take an id.
pub fn catalog_versions_hold_across_handles(a: &dyn Store, b: &dyn Store) {
    a.record_screenings(&[screened("a", "s", 1, "x", Action::Approve)])
        .unwrap();
    // b did not see a's write when it screened: its version 1 is stale.
    assert!(is_conflict(b.record_screenings(&[screened(
        "a",
        "s",
        1,
        "y",
        Action::Approve
    )])));
    // A batch whose second entry is stale leaves the first unwritten too.
    assert!(is_conflict(b.record_screenings(&[
        screened("b", "s", 1, "y", Action::Approve),
        screened("a", "s", 3, "z", Action::Approve),
    ])));
    assert!(a.latest_listing("b").unwrap().is_none());
    assert_eq!(a.decisions_end().unwrap(), 1);
    // Another shop's listing id.
    assert!(is_conflict(b.record_screenings(&[screened(
        "a",
        "other",
        2,
        "mine",
        Action::Approve
    )])));
    assert_eq!(a.latest_listing("a").unwrap().unwrap().listing.title, "x");
    // The next version from the other handle is fine.
    b.record_screenings(&[screened("a", "s", 2, "y", Action::Approve)])
        .unwrap();
    assert_eq!(a.latest_listing("a").unwrap().unwrap().version, 2);
}

/// Two handles storing the same next version at once: exactly one wins,
/// and the sequence has no gap.
pub fn catalog_racing_writers_one_wins(a: &dyn Store, b: &dyn Store) {
    a.record_screenings(&[screened("x", "s", 1, "one", Action::Approve)])
        .unwrap();
    for round in 0..10u32 {
        let v = round + 2;
        let results = std::thread::scope(|s| {
            let ha = s.spawn(|| {
                a.record_screenings(&[screened("x", "s", v, &format!("a{round}"), Action::Approve)])
            });
            let hb = s.spawn(|| {
                b.record_screenings(&[screened("x", "s", v, &format!("b{round}"), Action::Approve)])
            });
            [ha.join().expect("a"), hb.join().expect("b")]
        });
        let ok = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(ok, 1, "round {round}: {results:?}");
        assert!(
            results
                .iter()
                .any(|r| matches!(r, Err(StoreError::Conflict(_))))
        );
    }
    assert_eq!(a.latest_listing("x").unwrap().unwrap().version, 11);
    assert_eq!(a.decisions_end().unwrap(), 11);
    assert_eq!(a.decisions(&Page::first(100)).unwrap().len(), 11);
}

/// Keys round-trip with their principal; a taken hash conflicts.
pub fn keys_and_qualifications(a: &dyn Store, b: &dyn Store) {
    a.insert_api_key(&key(&"ab".repeat(32), Role::Seller, "p-1"))
        .unwrap();
    a.insert_api_key(&key(&"cd".repeat(32), Role::Reviewer, "p-2"))
        .unwrap();
    assert!(is_conflict(b.insert_api_key(&key(
        &"ab".repeat(32),
        Role::Admin,
        "p-3"
    ))));
    let k = b.api_key(&"ab".repeat(32)).unwrap().unwrap();
    assert_eq!(k.role, Role::Seller);
    assert_eq!(k.shop_id.as_deref(), Some("shop-1"));
    assert_eq!(k.principal_id, "p-1");
    assert!(b.api_key(&"ef".repeat(32)).unwrap().is_none());
    assert_eq!(b.api_keys().unwrap().len(), 2);
    assert!(b.qualifications("nobody").unwrap().is_empty());
    let q: Qualification = serde_json::from_value(serde_json::json!({
        "shop_id": "shop-1", "qualification": "pharmacy", "region": "DE",
        "evidence_ref": "doc"
    }))
    .expect("valid qualification");
    b.put_qualification(&q, t(0)).unwrap();
    let mut other = q.clone();
    other.region = Region::parse("region", "FR").expect("FR");
    b.put_qualification(&other, t(0)).unwrap();
    assert_eq!(a.qualifications("shop-1").unwrap().len(), 2);
}

/// The log appends only at the head it expects, across handles; outbox
/// rows with a taken key are skipped; the anchor follows.
pub fn log_appends_and_heads(a: &dyn Store, b: &dyn Store) {
    assert_eq!(a.log_head_seq().unwrap(), 0);
    assert!(a.log_anchor().unwrap().is_none());
    a.append_log(0, &[rec(1), rec(2)], &[out("k1", 1)], &[])
        .unwrap();
    assert!(is_conflict(b.append_log(0, &[rec(1)], &[], &[])));
    assert!(is_conflict(b.append_log(2, &[rec(4)], &[], &[])));
    b.append_log(2, &[rec(3)], &[out("k1", 3), out("k3", 3)], &[])
        .unwrap();
    assert_eq!(a.log_head_seq().unwrap(), 3);
    let anchor = a.log_anchor().unwrap().unwrap();
    assert_eq!((anchor.seq, anchor.hash.as_str()), (3, "h3"));
    let all = a.log_records(0, None).unwrap();
    assert_eq!(all, vec![rec(1), rec(2), rec(3)]);
    assert_eq!(a.log_records(1, Some(1)).unwrap(), vec![rec(2)]);
    assert_eq!(a.log_record(2).unwrap(), Some(rec(2)));
    assert_eq!(a.log_record(9).unwrap(), None);
    let rows = a.outbox_rows(0, 10).unwrap();
    assert_eq!(
        rows.iter()
            .map(|r| (r.idempotency_key.as_str(), r.seq))
            .collect::<Vec<_>>(),
        [("k1", 1), ("k3", 3)]
    );
    // Racing appends at the same head: one wins.
    let results = std::thread::scope(|s| {
        let ha = s.spawn(|| a.append_log(3, &[rec(4)], &[], &[]));
        let hb = s.spawn(|| b.append_log(3, &[rec(4)], &[], &[]));
        [ha.join().expect("a"), hb.join().expect("b")]
    });
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert_eq!(a.log_head_seq().unwrap(), 4);
}

/// Snapshots: the latest wins. The cursor never moves back.
pub fn log_snapshots_and_cursor(a: &dyn Store, b: &dyn Store) {
    assert!(a.latest_snapshot().unwrap().is_none());
    let snap = |seq: u64| Snapshot {
        seq,
        hash: format!("h{seq}"),
        body: vec![seq as u8; 3],
        created_at: t(seq as i64),
    };
    a.put_snapshot(&snap(5)).unwrap();
    b.put_snapshot(&snap(9)).unwrap();
    a.put_snapshot(&snap(7)).unwrap();
    assert_eq!(b.latest_snapshot().unwrap(), Some(snap(9)));
    assert_eq!(a.enforcement_cursor().unwrap(), 0);
    a.advance_enforcement_cursor(10).unwrap();
    b.advance_enforcement_cursor(4).unwrap();
    assert_eq!(a.enforcement_cursor().unwrap(), 10);
    b.advance_enforcement_cursor(12).unwrap();
    assert_eq!(a.enforcement_cursor().unwrap(), 12);
}

/// A reviewer's live lease keeps others out; it can be renewed, ended, or
/// taken once it ran out; racing claims: one wins.
pub fn case_leases_exclude_other_reviewers(a: &dyn Store, b: &dyn Store) {
    let claim = |case: &str, who: &str, until: i64, now: i64| LeaseChange::Claim {
        case_id: case.into(),
        reviewer: who.into(),
        until: t(until),
        now: t(now),
    };
    a.append_log(0, &[rec(1)], &[], &[claim("c1", "r1", 100, 0)])
        .unwrap();
    // r2 cannot take it while r1's lease lives, whatever the log head.
    assert!(is_conflict(b.append_log(
        1,
        &[rec(2)],
        &[],
        &[claim("c1", "r2", 200, 50)]
    )));
    assert_eq!(
        a.log_head_seq().unwrap(),
        1,
        "a refused claim appends nothing"
    );
    // r1 renews.
    b.append_log(1, &[rec(2)], &[], &[claim("c1", "r1", 300, 50)])
        .unwrap();
    // After it runs out, r2 may.
    a.append_log(2, &[rec(3)], &[], &[claim("c1", "r2", 500, 301)])
        .unwrap();
    // Ending it frees the case.
    b.append_log(
        3,
        &[rec(4)],
        &[],
        &[LeaseChange::End {
            case_id: "c1".into(),
        }],
    )
    .unwrap();
    a.append_log(4, &[rec(5)], &[], &[claim("c1", "r3", 600, 302)])
        .unwrap();
    // Two reviewers racing for a fresh case from two handles.
    let results = std::thread::scope(|s| {
        let ha = s.spawn(|| a.append_log(5, &[rec(6)], &[], &[claim("c2", "ra", 900, 400)]));
        let hb = s.spawn(|| b.append_log(5, &[rec(6)], &[], &[claim("c2", "rb", 900, 400)]));
        [ha.join().expect("a"), hb.join().expect("b")]
    });
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
}

/// Two handles claiming due deliveries at once get disjoint sets; a claim
/// runs out; a recorded outcome releases it.
pub fn outbox_claims_are_exclusive(a: &dyn Store, b: &dyn Store) {
    let rows: Vec<OutboxRow> = (1..=40).map(|i| out(&format!("k{i:02}"), i)).collect();
    let entries: Vec<LogRecord> = (1..=40).map(rec).collect();
    a.append_log(0, &entries, &rows, &[]).unwrap();
    let now = t(1_000);
    let (ca, cb) = std::thread::scope(|s| {
        let ha = s.spawn(|| {
            let mut got = Vec::new();
            for _ in 0..10 {
                got.extend(a.claim_deliveries(now, 3, "proc-a", t(1_060)).unwrap());
            }
            got
        });
        let hb = s.spawn(|| {
            let mut got = Vec::new();
            for _ in 0..10 {
                got.extend(b.claim_deliveries(now, 3, "proc-b", t(1_060)).unwrap());
            }
            got
        });
        (ha.join().expect("a"), hb.join().expect("b"))
    });
    let mut keys: Vec<&str> = ca
        .iter()
        .chain(&cb)
        .map(|r| r.idempotency_key.as_str())
        .collect();
    let n = keys.len();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), n, "a delivery was claimed twice");
    assert_eq!(n, 40);
    // Everything is claimed now.
    assert!(
        a.claim_deliveries(now, 10, "proc-c", t(1_060))
            .unwrap()
            .is_empty()
    );
    // A delivered one is done; a failed one comes back when due.
    let mut done = ca[0].clone();
    done.status = OutboxStatus::Delivered;
    done.delivered_at = Some(now);
    a.update_delivery(&done).unwrap();
    let mut failed = cb[0].clone();
    failed.failures = 1;
    failed.next_attempt_at = t(1_010);
    failed.last_error = Some("503".into());
    b.update_delivery(&failed).unwrap();
    let again = a
        .claim_deliveries(t(1_011), 10, "proc-c", t(1_070))
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].idempotency_key, failed.idempotency_key);
    assert_eq!(again[0].failures, 1);
    // The backlog: 39 pending (one delivered), the failed one due first.
    let counts = b.outbox_counts().unwrap();
    assert_eq!((counts.pending, counts.delivered, counts.dead), (39, 1, 0));
    assert_eq!(a.outbox_counts().unwrap(), counts);
    assert!(counts.oldest_pending_due.is_some());
    // Claims that ran out are claimable again.
    let late = b
        .claim_deliveries(t(1_100), 100, "proc-d", t(1_200))
        .unwrap();
    assert_eq!(late.len(), 39);
    let mut gone = out("missing", 1);
    gone.status = OutboxStatus::Dead;
    assert!(is_conflict(a.update_delivery(&gone)));
}

fn with_terms(mut s: Screened, terms: &[&str]) -> Screened {
    s.terms = terms.iter().map(|t| t.to_string()).collect();
    s
}

/// The sweep index holds the terms of each listing's latest version only,
/// written with it; the other handle finds listings by term, in id order,
/// paged.
pub fn sweep_index_follows_the_latest_version(a: &dyn Store, b: &dyn Store) {
    a.record_screenings(&[
        with_terms(
            screened("l-1", "s", 1, "Zorbex shoe", Action::Approve),
            &["zorbex", "shoe"],
        ),
        with_terms(
            screened("l-2", "s", 1, "Plain shoe", Action::Approve),
            &["plain", "shoe"],
        ),
        with_terms(
            screened("l-3", "s", 1, "Zorbex hat", Action::Approve),
            &["zorbex", "hat"],
        ),
    ])
    .unwrap();
    let z = vec!["zorbex".to_string()];
    assert_eq!(b.listings_with_terms(&z, None, 10).unwrap(), ["l-1", "l-3"]);
    assert_eq!(b.listings_with_terms(&z, None, 1).unwrap(), ["l-1"]);
    assert_eq!(b.listings_with_terms(&z, Some("l-1"), 10).unwrap(), ["l-3"]);
    let both = vec!["zorbex".to_string(), "shoe".to_string()];
    assert_eq!(
        b.listings_with_terms(&both, None, 10).unwrap(),
        ["l-1", "l-2", "l-3"]
    );
    assert!(b.listings_with_terms(&[], None, 10).unwrap().is_empty());
    // A new version replaces the listing's terms; the vocabulary keeps
    // every term seen.
    a.record_screenings(&[with_terms(
        screened("l-1", "s", 2, "Other shoe", Action::Approve),
        &["other", "shoe"],
    )])
    .unwrap();
    assert_eq!(b.listings_with_terms(&z, None, 10).unwrap(), ["l-3"]);
    assert_eq!(
        b.index_terms(None, 100).unwrap(),
        ["hat", "other", "plain", "shoe", "zorbex"]
    );
    assert_eq!(b.index_terms(Some("plain"), 2).unwrap(), ["shoe", "zorbex"]);
    // A term is cleared from a listing only while its version is the
    // latest: a stale clear leaves the newer version's entries.
    assert!(!b.clear_term("shoe", "l-1", 1).unwrap());
    assert!(b.clear_term("shoe", "l-1", 2).unwrap());
    assert!(!b.clear_term("shoe", "l-1", 2).unwrap());
    assert!(!b.clear_term("shoe", "nope", 1).unwrap());
    assert_eq!(
        b.listings_with_terms(&["shoe".to_string()], None, 10)
            .unwrap(),
        ["l-2"]
    );
    assert_eq!(
        b.listings_with_terms(&["other".to_string()], None, 10)
            .unwrap(),
        ["l-1"]
    );
    // Two versions in one batch: only the last is indexed, and the next
    // batch's version replaces exactly its terms.
    a.record_screenings(&[
        with_terms(
            screened("l-4", "s", 1, "Alpha beta", Action::Approve),
            &["alpha", "beta"],
        ),
        with_terms(
            screened("l-4", "s", 2, "Beta gamma", Action::Approve),
            &["beta", "gamma"],
        ),
    ])
    .unwrap();
    let find = |t: &str| b.listings_with_terms(&[t.to_string()], None, 10).unwrap();
    assert!(find("alpha").is_empty());
    assert_eq!(find("beta"), ["l-4"]);
    assert_eq!(find("gamma"), ["l-4"]);
    a.record_screenings(&[with_terms(
        screened("l-4", "s", 3, "Delta", Action::Approve),
        &["delta"],
    )])
    .unwrap();
    assert!(find("beta").is_empty() && find("gamma").is_empty());
    assert_eq!(find("delta"), ["l-4"]);
    // A version without terms leaves the index.
    a.record_screenings(&[screened("l-3", "s", 2, "Zorbex hat", Action::Reject)])
        .unwrap();
    assert!(b.listings_with_terms(&z, None, 10).unwrap().is_empty());
    // A failed batch writes no terms.
    let stale = with_terms(
        screened("l-2", "s", 1, "Zorbex again", Action::Approve),
        &["zorbex"],
    );
    assert!(is_conflict(a.record_screenings(&[stale])));
    assert!(b.listings_with_terms(&z, None, 10).unwrap().is_empty());
    // Latest versions with their decisions, in the order asked.
    let got = b
        .latest_decided(&["l-3".to_string(), "nope".to_string(), "l-1".to_string()])
        .unwrap();
    let ids: Vec<(&str, u32, Action)> = got
        .iter()
        .map(|(l, d)| (l.listing.id.as_str(), l.version, d.action))
        .collect();
    assert_eq!(
        ids,
        [("l-3", 2, Action::Reject), ("l-1", 2, Action::Approve)]
    );
}

fn sweep_rec(id: &str) -> SweepRecord {
    SweepRecord {
        id: id.into(),
        cause: shopshield_model::Cause {
            change: "right_created".into(),
            right_id: Some("r-1".into()),
            rule_ids: vec![],
            shop_id: None,
            version: "3".into(),
            by: id.into(),
            why: "right r-1 was registered".into(),
        },
        state: SweepState::Open,
        created_at: t(0),
        finished_at: None,
        cursor: None,
        counts: SweepCounts::default(),
        claimed_by: None,
        claim_until: None,
    }
}

/// Sweeps are opened once with the watermark (a stale watermark writes
/// nothing), claimed by one process at a time, and their progress saved
/// only by the holder.
pub fn sweeps_open_once_and_claims_are_exclusive(a: &dyn Store, b: &dyn Store) {
    let start = a.sweep_watermark().unwrap();
    assert_eq!(start.registry_version, 0);
    let next = SweepWatermark {
        registry_version: 3,
        rules_checked_at: Some(t(5)),
    };
    a.open_sweeps(Some((&start, &next)), &[sweep_rec("s-1")])
        .unwrap();
    // The other handle computed from the old watermark: refused, nothing written.
    assert!(is_conflict(
        b.open_sweeps(Some((&start, &next)), &[sweep_rec("s-2")])
    ));
    assert!(b.sweep("s-2").unwrap().is_none());
    assert_eq!(b.sweep_watermark().unwrap(), next);
    // An id that exists is skipped.
    b.open_sweeps(None, &[sweep_rec("s-1"), sweep_rec("s-2")])
        .unwrap();
    let listed: Vec<String> = a
        .sweeps(&Page::first(10))
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(listed, ["s-2", "s-1"]);
    let after: Vec<String> = a
        .sweeps(&Page {
            after: Some("s-2".into()),
            limit: 10,
        })
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(after, ["s-1"]);

    // Claims: oldest first, one holder at a time, `skip` honoured.
    let mut got = a.claim_sweep(t(10), "p-a", t(70), &[]).unwrap().unwrap();
    assert_eq!(got.id, "s-1");
    let other = b.claim_sweep(t(10), "p-b", t(70), &[]).unwrap().unwrap();
    assert_eq!(other.id, "s-2");
    assert!(b.claim_sweep(t(11), "p-c", t(70), &[]).unwrap().is_none());
    assert!(
        a.claim_sweep(t(11), "p-a", t(70), &["s-1".to_string()])
            .unwrap()
            .is_none()
    );
    // Progress by the holder is saved; by anyone else refused.
    got.cursor = Some("l-9".into());
    got.counts.looked_at = 9;
    a.save_sweep(&got, "p-a").unwrap();
    assert!(is_conflict(b.save_sweep(&got, "p-b")));
    let seen = b.sweep("s-1").unwrap().unwrap();
    assert_eq!(seen.cursor.as_deref(), Some("l-9"));
    assert_eq!(seen.counts.looked_at, 9);
    // A lapsed claim is taken over, with the progress saved so far.
    let taken = b.claim_sweep(t(71), "p-b", t(130), &[]).unwrap().unwrap();
    assert_eq!(taken.id, "s-1");
    assert_eq!(taken.cursor.as_deref(), Some("l-9"));
    assert!(is_conflict(a.save_sweep(&got, "p-a")));
    // Finished: never claimed again.
    let mut done = taken;
    done.state = SweepState::Done;
    done.claimed_by = None;
    done.claim_until = None;
    b.save_sweep(&done, "p-b").unwrap();
    let mut second = other;
    second.state = SweepState::Done;
    b.save_sweep(&second, "p-b").unwrap();
    assert!(a.claim_sweep(t(500), "p-a", t(560), &[]).unwrap().is_none());
    assert_eq!(a.sweep("s-1").unwrap().unwrap().state, SweepState::Done);
}

fn stored_video(id: &str, creator: &str, version: u32, caption: &str) -> StoredVideo {
    let video: shopshield_model::Video = serde_json::from_value(serde_json::json!({
        "id": id, "creator_id": creator, "region": "US", "caption": caption,
        "transcript": [{"start": 72.0, "end": 79.0, "text": "hello"}]
    }))
    .expect("valid video");
    let subject = video.subject_id();
    StoredVideo {
        content_hash: video.content_hash(),
        decision: Decision {
            id: subject.clone(),
            decision_id: Decision::decision_id(&subject, version),
            listing_version: version,
            action: Action::Review,
            score: 0.7,
            violations: vec![],
            registry_version: 3,
            policy_versions: BTreeMap::new(),
            decided_at: t(i64::from(version)),
            source: Default::default(),
            cause: None,
        },
        video,
        version,
        submitted_at: t(i64::from(version)),
    }
}

/// A `copyright_video` right keeps its vPDQ hash list, and no image.
pub fn video_clips_round_trip(a: &dyn Store, b: &dyn Store) {
    a.insert_holder(&holder("studio", "Studio")).unwrap();
    let mut r = right("r-clip", "studio", "Clip");
    r.right.kind = shopshield_model::RightKind::CopyrightVideo;
    r.right.mark = None;
    let lines = "0,100,e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c,0.000\n";
    r.right.vpdq = Some(lines.into());
    a.insert_right(&r).unwrap();
    let back = b.right("r-clip").unwrap().unwrap();
    assert_eq!(back.right, r.right);
    assert_eq!(back.image, None);
    let changed = b.rights_changed_since(0).unwrap();
    assert_eq!(changed[0].right.vpdq.as_deref(), Some(lines));
}

/// Video versions follow each other across handles; a stale version or
/// another creator's id writes nothing.
pub fn videos_versions_hold_across_handles(a: &dyn Store, b: &dyn Store) {
    assert!(a.latest_video("v-1").unwrap().is_none());
    let v1 = stored_video("v-1", "c-1", 1, "first");
    a.record_video(&v1).unwrap();
    assert_eq!(b.latest_video("v-1").unwrap().unwrap(), v1);
    // The same version again, from the other handle: refused.
    assert!(is_conflict(
        b.record_video(&stored_video("v-1", "c-1", 1, "again"))
    ));
    // Another creator cannot take the id.
    let taken = b.record_video(&stored_video("v-1", "c-2", 2, "mine"));
    assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");
    // Skipping a version: refused.
    assert!(is_conflict(
        b.record_video(&stored_video("v-1", "c-1", 3, "skip"))
    ));
    let v2 = stored_video("v-1", "c-1", 2, "second");
    b.record_video(&v2).unwrap();
    assert_eq!(a.latest_video("v-1").unwrap().unwrap(), v2);
    let history = a.video_history("v-1").unwrap();
    assert_eq!(history, [v1, v2]);
    assert!(a.video_history("v-2").unwrap().is_empty());
}

/// A stream's document is replaced while it is live; once stopped, no
/// handle can write to it again.
pub fn stopped_streams_stay_stopped(a: &dyn Store, b: &dyn Store) {
    let mut s = StoredStream {
        id: "s-1".into(),
        host_id: "c-1".into(),
        status: "live".into(),
        doc: serde_json::json!({"events": 0}),
        updated_at: t(1),
    };
    a.insert_stream(&s).unwrap();
    assert!(is_conflict(b.insert_stream(&s)));
    s.doc = serde_json::json!({"events": 5});
    s.updated_at = t(2);
    b.update_stream(&s).unwrap();
    assert_eq!(a.stream("s-1").unwrap().unwrap(), s);
    s.status = "stopped".into();
    s.doc = serde_json::json!({"events": 6, "stopped": true});
    a.update_stream(&s).unwrap();
    let mut revived = s.clone();
    revived.status = "live".into();
    assert!(is_conflict(b.update_stream(&revived)));
    assert_eq!(a.stream("s-1").unwrap().unwrap(), s);
    assert!(is_conflict(a.update_stream(&StoredStream {
        id: "s-none".into(),
        ..s.clone()
    })));
    assert!(b.stream("s-none").unwrap().is_none());
}

/// Reports page through every video version in `(id, version)` order and
/// through the stopped streams in id order, whichever handle wrote them.
pub fn content_pages_for_reports(a: &dyn Store, b: &dyn Store) {
    assert!(a.video_versions_after(None, 10).unwrap().is_empty());
    assert!(a.stopped_streams_after(None, 10).unwrap().is_empty());
    let v_b1 = stored_video("v-b", "c-1", 1, "b one");
    let v_a1 = stored_video("v-a", "c-1", 1, "a one");
    let v_b2 = stored_video("v-b", "c-1", 2, "b two");
    let v_c1 = stored_video("v-c", "c-2", 1, "c one");
    a.record_video(&v_b1).unwrap();
    b.record_video(&v_a1).unwrap();
    a.record_video(&v_b2).unwrap();
    b.record_video(&v_c1).unwrap();
    let first = b.video_versions_after(None, 2).unwrap();
    assert_eq!(first, [v_a1.clone(), v_b1.clone()]);
    let rest = a.video_versions_after(Some(("v-b", 1)), 2).unwrap();
    assert_eq!(rest, [v_b2, v_c1]);
    assert!(
        a.video_versions_after(Some(("v-c", 1)), 2)
            .unwrap()
            .is_empty()
    );

    let stream = |id: &str, status: &str| StoredStream {
        id: id.into(),
        host_id: "c-1".into(),
        status: status.into(),
        doc: serde_json::json!({"id": id}),
        updated_at: t(1),
    };
    for (id, handle) in [("s-3", a), ("s-1", b), ("s-2", a), ("s-4", b)] {
        handle.insert_stream(&stream(id, "live")).unwrap();
    }
    for (id, handle) in [("s-3", b), ("s-1", a), ("s-4", a)] {
        handle.update_stream(&stream(id, "stopped")).unwrap();
    }
    let ids = |v: Vec<StoredStream>| v.into_iter().map(|s| s.id).collect::<Vec<_>>();
    assert_eq!(
        ids(b.stopped_streams_after(None, 2).unwrap()),
        ["s-1", "s-3"]
    );
    assert_eq!(
        ids(a.stopped_streams_after(Some("s-3"), 2).unwrap()),
        ["s-4"]
    );
    assert_eq!(
        a.stopped_streams_after(None, 10).unwrap()[0],
        stream("s-1", "stopped")
    );
}

fn notice(id: &str, holder: &str, items: &[&str]) -> (StoredNotice, Vec<NoticeItemRecord>) {
    use shopshield_model::{Complainant, NewNotice, NoticeItem, NoticeItemKind, NoticeStatements};
    let n = NewNotice {
        id: id.into(),
        right_id: format!("r-{holder}"),
        work: "the mark".into(),
        items: items
            .iter()
            .map(|i| NoticeItem {
                kind: Some(NoticeItemKind::Listing),
                id: (*i).into(),
                material: "the title".into(),
            })
            .collect(),
        explanation: "fake".into(),
        complainant: Complainant {
            name: "Ann".into(),
            email: "ann@example.com".into(),
            address: Some("1 Main St".into()),
            phone: None,
        },
        statements: NoticeStatements {
            good_faith: true,
            accuracy_under_penalty_of_perjury: true,
            bona_fide: true,
        },
        signature: "Ann".into(),
    };
    let received_at = t(10);
    let recs = items
        .iter()
        .map(|i| {
            NoticeItemRecord::pending(
                id,
                i,
                NoticeItemKind::Listing,
                format!("shop-{i}"),
                received_at,
            )
        })
        .collect();
    (
        StoredNotice {
            notice: n,
            holder_id: holder.into(),
            filed_by: format!("p-{holder}"),
            content_hash: format!("hash-{id}"),
            received_at,
        },
        recs,
    )
}

/// A notice is filed once by its id: the same content answers the stored
/// notice on either handle, other content is a conflict that changes
/// nothing; lists filter by holder, shop and item state.
pub fn notices_file_once_by_id(a: &dyn Store, b: &dyn Store) {
    use shopshield_model::NoticeItemState;
    let (n1, items1) = notice("n-1", "h1", &["l-1", "l-2"]);
    let first = match a.file_notice(&n1, &items1).unwrap() {
        Filed::New(r) => r,
        Filed::Existing(_) => panic!("a new notice answered as existing"),
    };
    assert_eq!(first.items.len(), 2);
    match b.file_notice(&n1, &items1).unwrap() {
        Filed::Existing(r) => assert_eq!(r, first),
        Filed::New(_) => panic!("filed twice"),
    }
    let mut other = n1.clone();
    other.content_hash = "something else".into();
    other.notice.work = "another work".into();
    assert!(is_conflict(b.file_notice(&other, &items1)));
    assert_eq!(a.notice("n-1").unwrap().unwrap(), first);
    assert!(b.notice("n-9").unwrap().is_none());
    // Two holders file at once on one listing: both are stored.
    let (n2, items2) = notice("n-2", "h2", &["l-2"]);
    let (n3, items3) = notice("n-3", "h3", &["l-2"]);
    std::thread::scope(|s| {
        let x = s.spawn(|| a.file_notice(&n2, &items2).unwrap());
        let y = s.spawn(|| b.file_notice(&n3, &items3).unwrap());
        assert!(matches!(x.join().expect("a"), Filed::New(_)));
        assert!(matches!(y.join().expect("b"), Filed::New(_)));
    });
    let all = |f: NoticeFilter| -> Vec<String> {
        b.notices(&f)
            .unwrap()
            .into_iter()
            .map(|n| n.stored.notice.id)
            .collect()
    };
    assert_eq!(
        all(NoticeFilter {
            limit: 10,
            ..NoticeFilter::default()
        }),
        ["n-1", "n-2", "n-3"]
    );
    assert_eq!(
        all(NoticeFilter {
            holder_id: Some("h2".into()),
            limit: 10,
            ..NoticeFilter::default()
        }),
        ["n-2"]
    );
    assert_eq!(
        all(NoticeFilter {
            shop_id: Some("shop-l-1".into()),
            limit: 10,
            ..NoticeFilter::default()
        }),
        ["n-1"]
    );
    assert_eq!(
        all(NoticeFilter {
            after: Some("n-1".into()),
            limit: 1,
            ..NoticeFilter::default()
        }),
        ["n-2"]
    );
    let pending = a
        .notice_items_in_state(NoticeItemState::Pending, 10)
        .unwrap();
    let ids: Vec<(&str, &str)> = pending
        .iter()
        .map(|i| (i.notice_id.as_str(), i.item_id.as_str()))
        .collect();
    assert_eq!(
        ids,
        [
            ("n-1", "l-1"),
            ("n-1", "l-2"),
            ("n-2", "l-2"),
            ("n-3", "l-2")
        ]
    );
    assert!(
        a.notice_items_in_state(NoticeItemState::Accepted, 10)
            .unwrap()
            .is_empty()
    );
}

/// An item changes only from the version it was read at: of two handles
/// deciding one item at once exactly one wins, and the loser writes
/// nothing (its webhook rows neither). Work due is found by time.
pub fn notice_items_change_once_per_version(a: &dyn Store, b: &dyn Store) {
    use shopshield_model::NoticeItemState;
    let (n, items) = notice("n-1", "h1", &["l-1"]);
    a.file_notice(&n, &items).unwrap();
    let base = items[0].clone();
    let decide = |state: NoticeItemState, who: &str| {
        let mut it = base.clone();
        it.state = state;
        it.version = 2;
        it.updated_at = t(20);
        it.due_at = Some(t(20));
        it.review = Some(crate::ItemReview {
            accepted: state == NoticeItemState::Accepted,
            reason: format!("by {who}"),
            reviewer: who.into(),
            decided_at: t(20),
        });
        it
    };
    let acc = decide(NoticeItemState::Accepted, "rev-a");
    let rej = decide(NoticeItemState::Rejected, "rev-b");
    let (ra, rb) = std::thread::scope(|s| {
        let x = s.spawn(|| a.update_notice_item(&acc, &[out("notice-a", 0)]));
        let y = s.spawn(|| b.update_notice_item(&rej, &[out("notice-b", 0)]));
        (x.join().expect("a"), y.join().expect("b"))
    });
    assert!(
        ra.is_ok() != rb.is_ok(),
        "exactly one decision wins: {ra:?} {rb:?}"
    );
    assert!(is_conflict(if ra.is_ok() { rb } else { ra }));
    let stored = b.notice("n-1").unwrap().unwrap().items[0].clone();
    let winner = if stored.state == NoticeItemState::Accepted {
        &acc
    } else {
        &rej
    };
    assert_eq!(&stored, winner);
    // Only the winner's webhook was written.
    assert_eq!(a.outbox_counts().unwrap().pending, 1);
    // A stale version is refused; the right one is taken.
    assert!(is_conflict(a.update_notice_item(&acc, &[])));
    let mut next = stored.clone();
    next.version = 3;
    next.due_at = Some(t(500));
    next.state = NoticeItemState::Countered;
    b.update_notice_item(&next, &[]).unwrap();
    assert!(a.notice_items_due(t(499), 10).unwrap().is_empty());
    assert_eq!(a.notice_items_due(t(500), 10).unwrap(), vec![next.clone()]);
    // Accepted items count against the shop.
    assert_eq!(b.accepted_notice_items("shop-l-1").unwrap(), 1);
    assert_eq!(b.accepted_notice_items("shop-other").unwrap(), 0);
    let mut missing = next;
    missing.item_id = "l-9".into();
    missing.version = 4;
    assert!(is_conflict(a.update_notice_item(&missing, &[])));
}

fn authorization(id: &str, right: &str, shop: &str) -> shopshield_model::Authorization {
    use shopshield_model::{Authorization, AuthorizationState, Relationship};
    Authorization {
        id: id.into(),
        right_id: right.into(),
        holder_id: "h1".into(),
        shop_id: shop.into(),
        requested_by: format!("seller-{shop}"),
        relationship: Relationship::Retailer,
        message: "we sell genuine goods from the EU distributor".into(),
        document: Some("invoice INV-1".into()),
        state: AuthorizationState::Pending,
        decision: None,
        revocation: None,
        registry_version: None,
        created_at: t(10),
        updated_at: t(10),
        version: 1,
    }
}

/// A shop has at most one pending request on a right (a second is a
/// conflict that writes nothing, its webhook included); requests are read
/// back by id and listed by holder, shop, right and state.
pub fn authorizations_one_pending_per_shop_and_right(a: &dyn Store, b: &dyn Store) {
    use shopshield_model::AuthorizationState;
    a.insert_holder(&holder("h1", "Zorbex")).unwrap();
    a.insert_right(&right("r-1", "h1", "Zorbex")).unwrap();
    a.insert_right(&right("r-2", "h1", "Quellax")).unwrap();
    let first = authorization("auth-1", "r-1", "shop-1");
    a.insert_authorization(&first, &[out("auth-1-v1", 0)])
        .unwrap();
    assert_eq!(b.authorization("auth-1").unwrap(), Some(first.clone()));
    assert_eq!(
        b.pending_authorization("r-1", "shop-1").unwrap(),
        Some(first.clone())
    );
    // Same shop and right, another id: refused while the first is pending.
    let dup = authorization("auth-2", "r-1", "shop-1");
    assert!(is_conflict(
        b.insert_authorization(&dup, &[out("auth-2-v1", 0)])
    ));
    // The same id again: refused.
    assert!(is_conflict(b.insert_authorization(&first, &[])));
    assert_eq!(a.outbox_counts().unwrap().pending, 1);
    // Another right, another shop: fine.
    b.insert_authorization(&authorization("auth-3", "r-2", "shop-1"), &[])
        .unwrap();
    a.insert_authorization(&authorization("auth-4", "r-1", "shop-2"), &[])
        .unwrap();
    // A request on a right that does not exist is refused.
    assert!(
        b.insert_authorization(&authorization("auth-5", "r-9", "shop-1"), &[])
            .is_err()
    );
    let ids = |f: AuthorizationFilter| -> Vec<String> {
        b.authorizations(&AuthorizationFilter { limit: 10, ..f })
            .unwrap()
            .into_iter()
            .map(|x| x.id)
            .collect()
    };
    assert_eq!(
        ids(AuthorizationFilter::default()),
        ["auth-1", "auth-3", "auth-4"]
    );
    assert_eq!(
        ids(AuthorizationFilter {
            shop_id: Some("shop-1".into()),
            ..AuthorizationFilter::default()
        }),
        ["auth-1", "auth-3"]
    );
    assert_eq!(
        ids(AuthorizationFilter {
            right_id: Some("r-1".into()),
            after: Some("auth-1".into()),
            ..AuthorizationFilter::default()
        }),
        ["auth-4"]
    );
    assert!(
        ids(AuthorizationFilter {
            holder_id: Some("h2".into()),
            ..AuthorizationFilter::default()
        })
        .is_empty()
    );
    // Once the first is refused, the shop may ask again.
    let mut refused = first.clone();
    refused.state = AuthorizationState::Refused;
    refused.version = 2;
    a.update_authorization(&refused, None, &[]).unwrap();
    assert!(
        ids(AuthorizationFilter {
            state: Some(AuthorizationState::Pending),
            ..AuthorizationFilter::default()
        }) == ["auth-3", "auth-4"]
    );
    b.insert_authorization(&dup, &[]).unwrap();
    // A refused request cannot be made pending beside the new one.
    let mut back = refused;
    back.state = AuthorizationState::Pending;
    back.version = 3;
    assert!(is_conflict(a.update_authorization(&back, None, &[])));
}

/// Two decisions computed from one version: one wins, the other is a
/// conflict that writes nothing. An approval adds the shop to the right's
/// authorised sellers and bumps the registry version in the same
/// transaction (the right's change carries it, and the change log names
/// the request); a revocation removes it the same way.
pub fn authorization_decisions_change_the_right_once(a: &dyn Store, b: &dyn Store) {
    use shopshield_model::AuthorizationState;
    a.insert_holder(&holder("h1", "Zorbex")).unwrap();
    a.insert_right(&right("r-1", "h1", "Zorbex")).unwrap();
    let base = authorization("auth-1", "r-1", "shop-1");
    a.insert_authorization(&base, &[]).unwrap();
    let v0 = a.registry_version().unwrap();
    let mut approve = base.clone();
    approve.state = AuthorizationState::Approved;
    approve.version = 2;
    approve.updated_at = t(20);
    let mut refuse = approve.clone();
    refuse.state = AuthorizationState::Refused;
    let (ra, rb) = std::thread::scope(|s| {
        let x = s.spawn(|| {
            a.update_authorization(&approve, Some(SellerChange::Add), &[out("auth-a", 0)])
        });
        let y = s.spawn(|| b.update_authorization(&refuse, None, &[out("auth-b", 0)]));
        (x.join().expect("a"), y.join().expect("b"))
    });
    assert!(
        ra.is_ok() != rb.is_ok(),
        "exactly one decision wins: {ra:?} {rb:?}"
    );
    assert_eq!(a.outbox_counts().unwrap().pending, 1);
    let stored = b.authorization("auth-1").unwrap().unwrap();
    let r = b.right("r-1").unwrap().unwrap().right;
    if let Ok(won) = ra {
        // The approval won: the shop is authorised at a new version.
        assert_eq!(stored, won);
        assert_eq!(stored.state, AuthorizationState::Approved);
        let v1 = b.registry_version().unwrap();
        assert_eq!(v1, v0 + 1);
        assert_eq!(stored.registry_version, Some(v1));
        assert_eq!(r.authorized_sellers, ["shop-1"]);
        let changed = b.rights_changed_since(v0).unwrap();
        assert_eq!(changed.len(), 1);
        assert_eq!(changed[0].version, v1);
        let log = b.authorization_changes_since(v0).unwrap();
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].registry_version, v1);
        assert_eq!(log[0].authorization_id, "auth-1");
        assert_eq!(log[0].shop_id, "shop-1");
        assert_eq!(log[0].change, SellerChange::Add);
        // A stale version is refused and the right is left alone.
        assert!(is_conflict(a.update_authorization(
            &approve,
            Some(SellerChange::Add),
            &[]
        )));
        assert_eq!(a.registry_version().unwrap(), v1);
        // Revocation removes the shop at the next version.
        let mut revoke = stored;
        revoke.state = AuthorizationState::Revoked;
        revoke.version = 3;
        let revoked = a
            .update_authorization(&revoke, Some(SellerChange::Remove), &[])
            .unwrap();
        assert_eq!(revoked.registry_version, Some(v1 + 1));
        assert!(
            b.right("r-1")
                .unwrap()
                .unwrap()
                .right
                .authorized_sellers
                .is_empty()
        );
        let log = b.authorization_changes_since(v1).unwrap();
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].change, SellerChange::Remove);
        assert_eq!(b.authorization_changes_since(v0).unwrap().len(), 2);
    } else {
        // The refusal won: nothing else changed.
        assert_eq!(stored.state, AuthorizationState::Refused);
        assert_eq!(stored.registry_version, None);
        assert!(r.authorized_sellers.is_empty());
        assert_eq!(b.registry_version().unwrap(), v0);
        assert!(b.authorization_changes_since(0).unwrap().is_empty());
    }
    // A request whose right vanished cannot approve: missing id.
    let mut missing = authorization("auth-9", "r-1", "shop-9");
    missing.version = 2;
    assert!(is_conflict(a.update_authorization(
        &missing,
        Some(SellerChange::Add),
        &[]
    )));
    assert!(!b.right("r-1").unwrap().unwrap().right.authorizes("shop-9"));
}
