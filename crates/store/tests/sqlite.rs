//! The SQLite store on a real file.

use chrono::Utc;
use shopshield_model::{Action, Decision, Listing, NewRight, Right, RightsHolder, Role};
use shopshield_store::{ApiKey, Page, RightRecord, Screened, SqliteStore, Store, StoreError};

fn holder(id: &str, name: &str) -> RightsHolder {
    RightsHolder {
        id: id.into(),
        name: name.into(),
        created_at: Utc::now(),
    }
}

fn right(id: &str, holder: &str, mark: &str) -> RightRecord {
    let new: NewRight = serde_json::from_value(serde_json::json!({
        "id": id, "holder": holder, "kind": "trademark", "mark": mark,
        "nice_classes": [25], "regions": ["*"]
    }))
    .unwrap();
    RightRecord {
        right: Right::from_new(new, holder.into(), Utc::now()),
        image: None,
    }
}

fn screened(id: &str, shop: &str, version: u32, title: &str) -> Screened {
    let listing: Listing = serde_json::from_value(serde_json::json!({
        "id": id, "shop_id": shop, "region": "US", "category": "apparel/shoes", "title": title
    }))
    .unwrap();
    let hash = listing.content_hash();
    Screened {
        decision: Decision {
            id: id.into(),
            decision_id: Decision::decision_id(id, version),
            listing_version: version,
            action: Action::Approve,
            score: 0.0,
            violations: vec![],
            registry_version: 1,
            policy_versions: Default::default(),
            decided_at: Utc::now(),
        },
        listing,
        version,
        content_hash: hash,
    }
}

#[test]
fn everything_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shopshield.db");
    {
        let s = SqliteStore::open(&path).unwrap();
        s.insert_holder(&holder("nike", "Nike, Inc.")).unwrap();
        assert_eq!(s.insert_right(&right("r-nike", "nike", "Nike")).unwrap(), 1);
        s.record_screenings(&[screened("l-1", "shop-1", 1, "Shoes")])
            .unwrap();
        s.record_screenings(&[screened("l-1", "shop-1", 2, "Red shoes")])
            .unwrap();
        s.insert_api_key(&ApiKey {
            key_hash: "ab".repeat(32),
            role: Role::Seller,
            holder_id: None,
            shop_id: Some("shop-1".into()),
            label: "test".into(),
            created_at: Utc::now(),
            creator_id: None,
        })
        .unwrap();
    }
    let s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.registry_version().unwrap(), 1);
    assert_eq!(s.holder_by_name("Nike, Inc.").unwrap().unwrap().id, "nike");
    assert_eq!(
        s.rights(Some("nike")).unwrap()[0].mark.as_deref(),
        Some("Nike")
    );
    let latest = s.latest_listing("l-1").unwrap().unwrap();
    assert_eq!(latest.version, 2);
    assert_eq!(latest.listing.title, "Red shoes");
    assert_eq!(s.listing_history("l-1").unwrap().len(), 2);
    assert_eq!(s.decisions_for_listing("l-1").unwrap().len(), 2);
    assert!(s.decision("l-1@v1").unwrap().is_some());
    assert_eq!(
        s.api_key(&"ab".repeat(32)).unwrap().unwrap().role,
        Role::Seller
    );
    let page = s.listings_by_shop("shop-1", &Page::first(10)).unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(s.decisions(&Page::first(10)).unwrap().len(), 2);
    let after = s
        .decisions(&Page {
            after: Some("l-1@v1".into()),
            limit: 10,
        })
        .unwrap();
    assert_eq!(after.len(), 1);
}

#[test]
fn stale_versions_conflict_and_write_nothing() {
    let s = SqliteStore::in_memory().unwrap();
    s.record_screenings(&[screened("a", "s", 1, "x")]).unwrap();
    // A batch whose second entry is stale leaves the first unwritten too.
    let err = s
        .record_screenings(&[screened("b", "s", 1, "y"), screened("a", "s", 1, "z")])
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    assert!(s.latest_listing("b").unwrap().is_none());
    assert_eq!(s.latest_listing("a").unwrap().unwrap().listing.title, "x");
}

#[test]
fn import_is_all_or_nothing() {
    let s = SqliteStore::in_memory().unwrap();
    // The second right names a holder that does not exist: nothing lands.
    let err = s
        .import_rights(
            &[holder("h1", "Holder One")],
            &[right("r1", "h1", "Alpha"), right("r2", "missing", "Beta")],
        )
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict(_) | StoreError::Database(_)),
        "{err}"
    );
    assert!(s.holders().unwrap().is_empty());
    assert!(s.rights(None).unwrap().is_empty());
    assert_eq!(s.registry_version().unwrap(), 0);
}

#[test]
fn reimport_replaces_and_keeps_created_at() {
    let s = SqliteStore::in_memory().unwrap();
    let first = right("r1", "h1", "Alpha");
    let created = first.right.created_at;
    s.import_rights(&[holder("h1", "H")], &[first]).unwrap();
    let mut second = right("r1", "h1", "Alpha Prime");
    second.right.created_at = Utc::now() + chrono::Duration::days(1);
    assert_eq!(s.import_rights(&[holder("h1", "H")], &[second]).unwrap(), 2);
    let got = s.right("r1").unwrap().unwrap().right;
    assert_eq!(got.mark.as_deref(), Some("Alpha Prime"));
    assert_eq!(got.created_at, created);
}

#[test]
fn disabling_bumps_the_registry() {
    let s = SqliteStore::in_memory().unwrap();
    s.insert_holder(&holder("h", "H")).unwrap();
    s.insert_right(&right("r", "h", "Mark")).unwrap();
    let (r, v) = s
        .set_right_enabled("r", false, Utc::now())
        .unwrap()
        .unwrap();
    assert!(!r.enabled);
    assert_eq!(v, 2);
    assert!(
        s.set_right_enabled("nope", false, Utc::now())
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        s.insert_right(&right("r", "h", "Again")),
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        s.insert_holder(&holder("h2", "H")),
        Err(StoreError::Conflict(_))
    ));
}
