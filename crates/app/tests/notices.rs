//! The notices service over a real SQLite file with time injected: an
//! accepted item whose takedown was not stored (a crash in between) is
//! taken down by the due-work round, once; restoration waits the
//! configured business days and happens once; a listing changed after
//! its takedown is not put back by the counter-notice; the repeat
//! infringer count follows accepted items.

use std::sync::Arc;

use chrono::TimeZone;
use shopshield_app::{App, AppConfig, AppError, FixedClock, ItemDecisionInput, ItemOutcome};
use shopshield_intake::ImageBase;
use shopshield_model::{
    Action, CounterNotice, DecisionSource, Listing, NewNotice, NoticeItemState, Principal, Role,
};
use shopshield_store::{NoticeStore, SqliteStore};

/// Monday 2026-11-30, 09:00 UTC.
fn monday() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc
        .with_ymd_and_hms(2026, 11, 30, 9, 0, 0)
        .single()
        .unwrap()
}

fn principal(role: Role, id: &str, holder: Option<&str>, shop: Option<&str>) -> Principal {
    Principal {
        id: id.into(),
        role,
        holder_id: holder.map(str::to_string),
        shop_id: shop.map(str::to_string),
        creator_id: None,
        label: id.into(),
    }
}

fn listing(id: &str, title: &str) -> Listing {
    serde_json::from_value(serde_json::json!({
        "id": id, "shop_id": "shop-1", "region": "DE",
        "category": "apparel/shoes", "title": title,
        "price": {"amount": 45.0, "currency": "EUR"}
    }))
    .unwrap()
}

fn notice(id: &str, items: &[&str]) -> NewNotice {
    serde_json::from_value(serde_json::json!({
        "id": id, "right_id": "r-1", "work": "our catalogue photo",
        "items": items.iter().map(|i| serde_json::json!({"kind": "listing", "id": i, "material": "the photo"})).collect::<Vec<_>>(),
        "explanation": "copied from our catalogue",
        "complainant": {"name": "Ann", "email": "ann@example.com", "phone": "+49 30 1234"},
        "statements": {"good_faith": true, "accuracy_under_penalty_of_perjury": true, "bona_fide": true},
        "signature": "Ann"
    }))
    .unwrap()
}

fn counter() -> CounterNotice {
    serde_json::from_value(serde_json::json!({
        "material": "my photo", "location": "my listing", "name": "Sam",
        "address": "2 High St", "phone": "+49 30 5678",
        "statements": {"mistake_under_penalty_of_perjury": true, "consent_to_jurisdiction": true, "accept_service": true},
        "signature": "Sam"
    }))
    .unwrap()
}

struct World {
    app: App,
    store: Arc<SqliteStore>,
    clock: Arc<FixedClock>,
    _dir: tempfile::TempDir,
}

fn world(config: &str) -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("db.sqlite")).unwrap());
    let clock = Arc::new(FixedClock::new(monday()));
    let app = App::new(
        store.clone(),
        AppConfig::parse(config).unwrap(),
        clock.clone(),
    )
    .unwrap();
    let op = Principal::operator("t");
    app.registry()
        .create_holder(&op, Some("h1".into()), "Holder One")
        .unwrap();
    app.registry()
        .create_right(
            &op,
            serde_json::from_value(serde_json::json!({
                "id": "r-1", "holder": "h1", "kind": "trademark", "mark": "Qqholdermark",
                "nice_classes": [25], "regions": ["*"]
            }))
            .unwrap(),
            None,
        )
        .unwrap();
    World {
        app,
        store,
        clock,
        _dir: dir,
    }
}

fn reviewer() -> Principal {
    principal(Role::Reviewer, "rev-1", None, None)
}

fn accept() -> ItemDecisionInput {
    ItemDecisionInput {
        outcome: Some(ItemOutcome::Accept),
        reason: "the photo is the holder's".into(),
    }
}

#[test]
fn takedowns_left_by_a_crash_are_done_once_and_restoration_waits_business_days() {
    let w = world("[notices]\nrestore_after_business_days = 14\n");
    let op = Principal::operator("t");
    for id in ["l-1", "l-2"] {
        let d = w
            .app
            .screening()
            .submit(&op, listing(id, "Canvas walking shoe"), ImageBase::DataOnly)
            .unwrap();
        assert_eq!(d.decision.action, Action::Approve);
    }
    let holder = principal(Role::RightsHolder, "p-h1", Some("h1"), None);
    let (created, receipt) = w
        .app
        .notices()
        .file(&holder, notice("n-1", &["l-1", "l-2"]))
        .unwrap();
    assert!(created);
    assert_eq!(receipt.item_count, 2);
    // A crash between accepting l-1 and storing its takedown: the item is
    // accepted with its work due, and no decision names it.
    let mut item = w.store.notice("n-1").unwrap().unwrap().items[0].clone();
    item.version += 1;
    item.state = NoticeItemState::Accepted;
    item.due_at = Some(monday());
    w.store.update_notice_item(&item, &[]).unwrap();
    let seller = principal(Role::Seller, "p-s1", None, Some("shop-1"));
    // No counter-notice before the takedown is stored.
    assert!(matches!(
        w.app
            .notices()
            .counter_notice(&seller, "n-1", "l-1", counter()),
        Err(AppError::Conflict(_))
    ));
    let first = w.app.notices().run_due().unwrap();
    assert_eq!(first.taken_down, 1);
    let again = w.app.notices().run_due().unwrap();
    assert_eq!(again.taken_down, 0);
    let decisions = w.app.screening().decisions_for_listing(&op, "l-1").unwrap();
    let notice_takedowns = decisions
        .iter()
        .filter(|d| d.source == DecisionSource::Notice && d.action == Action::Reject)
        .count();
    assert_eq!(notice_takedowns, 1);
    // l-2 accepted the ordinary way.
    let it = w
        .app
        .notices()
        .decide(&reviewer(), "n-1", "l-2", accept())
        .unwrap();
    assert!(it.takedown_decision_id.is_some());
    assert_eq!(
        w.app
            .notices()
            .shop_count(&seller, "shop-1")
            .unwrap()
            .accepted_items,
        2
    );
    // Counter-notices on Monday with 14 business days: due on the Thursday
    // two weeks and four days later (18 calendar days).
    let c1 = w
        .app
        .notices()
        .counter_notice(&seller, "n-1", "l-1", counter())
        .unwrap();
    assert_eq!(
        c1.counter_notice.unwrap().restore_at,
        monday() + chrono::Duration::days(18)
    );
    w.app
        .notices()
        .counter_notice(&seller, "n-1", "l-2", counter())
        .unwrap();
    // The seller edits l-2 meanwhile: a new version stands, so the
    // counter-notice does not put the old one back.
    w.app
        .screening()
        .submit(
            &op,
            listing("l-2", "Canvas walking shoe, new photo"),
            ImageBase::DataOnly,
        )
        .unwrap();
    w.clock.advance(chrono::Duration::days(17));
    assert_eq!(w.app.notices().run_due().unwrap().restored, 0);
    assert_eq!(
        w.app.screening().listing_status(&op, "l-1").unwrap().status,
        "removed"
    );
    w.clock.advance(chrono::Duration::days(1));
    assert_eq!(w.app.notices().run_due().unwrap().restored, 2);
    assert_eq!(w.app.notices().run_due().unwrap().restored, 0);
    assert_eq!(
        w.app.screening().listing_status(&op, "l-1").unwrap().status,
        "live"
    );
    let n = w.app.notices().get(&holder, "n-1").unwrap();
    assert!(n.items.iter().all(|i| i.state == NoticeItemState::Restored));
    assert!(n.items[0].restore_decision_id.is_some());
    assert!(n.items[1].restore_decision_id.is_none());
    // Restored items still count as accepted against the shop.
    assert_eq!(
        w.app
            .notices()
            .shop_count(&seller, "shop-1")
            .unwrap()
            .accepted_items,
        2
    );
    // Another shop's seller sees nothing of it.
    let stranger = principal(Role::Seller, "p-s9", None, Some("shop-9"));
    assert!(matches!(
        w.app.notices().get(&stranger, "n-1"),
        Err(AppError::NotFound { .. })
    ));
    assert!(matches!(
        w.app.notices().shop_count(&stranger, "shop-1"),
        Err(AppError::NotFound { .. })
    ));
}

#[test]
fn out_of_range_restore_days_are_refused_at_config_load() {
    for bad in ["9", "15"] {
        let e = AppConfig::parse(&format!("[notices]\nrestore_after_business_days = {bad}\n"))
            .unwrap_err();
        assert!(e.contains("notices.restore_after_business_days"), "{e}");
    }
}

#[test]
fn a_counter_notice_puts_nothing_back_while_another_notice_holds_the_listing_down() {
    let w = world("");
    let op = Principal::operator("t");
    w.app
        .screening()
        .submit(
            &op,
            listing("l-1", "Canvas walking shoe"),
            ImageBase::DataOnly,
        )
        .unwrap();
    let holder = principal(Role::RightsHolder, "p-h1", Some("h1"), None);
    let seller = principal(Role::Seller, "p-s1", None, Some("shop-1"));
    for id in ["n-a", "n-b"] {
        w.app.notices().file(&holder, notice(id, &["l-1"])).unwrap();
        w.app
            .notices()
            .decide(&reviewer(), id, "l-1", accept())
            .unwrap();
        w.app
            .notices()
            .counter_notice(&seller, id, "l-1", counter())
            .unwrap();
    }
    // The holder goes to court on n-a; n-b's waiting time passes.
    let court: shopshield_model::CourtAction = serde_json::from_value(
        serde_json::json!({"court": "LG Berlin", "reference": "15 O 123/26"}),
    )
    .unwrap();
    let upheld = w
        .app
        .notices()
        .court_action(&holder, "n-a", "l-1", court)
        .unwrap();
    assert_eq!(upheld.state, NoticeItemState::Upheld);
    w.clock.advance(chrono::Duration::days(14));
    assert_eq!(w.app.notices().run_due().unwrap().restored, 1);
    let b = w.app.notices().get(&holder, "n-b").unwrap();
    assert_eq!(b.items[0].state, NoticeItemState::Restored);
    assert!(b.items[0].restore_decision_id.is_none());
    assert_eq!(
        w.app.screening().listing_status(&op, "l-1").unwrap().status,
        "removed"
    );
    // A court action after the waiting time is refused.
    assert!(matches!(
        w.app.notices().court_action(
            &holder,
            "n-b",
            "l-1",
            serde_json::from_value(serde_json::json!({"court": "x", "reference": "y"})).unwrap()
        ),
        Err(AppError::Conflict(_))
    ));
}
