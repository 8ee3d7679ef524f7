//! Brand authorisation over a real SQLite file: a seller's listing caught
//! by a holder's mark is restored when the holder authorises the shop
//! (only that shop's listings are rescreened, and the sweep opened for the
//! change is scoped to the shop); refusals change nothing; two decisions
//! on one request: one wins; revocation catches the listing again; scope
//! and permissions follow the one table.

use std::sync::Arc;

use chrono::TimeZone;
use shopshield_app::{App, AppConfig, AppError, AuthorizationOutcome, DecisionInput, FixedClock};
use shopshield_intake::ImageBase;
use shopshield_model::{
    Action, AuthorizationState, DecisionSource, Listing, NewAuthorization, Principal, Relationship,
    Role,
};
use shopshield_store::{OutboxStore, RegistryStore, SqliteStore};

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

fn op() -> Principal {
    Principal::operator("t")
}

fn seller(shop: &str) -> Principal {
    principal(Role::Seller, &format!("p-{shop}"), None, Some(shop))
}

fn holder(h: &str) -> Principal {
    principal(Role::RightsHolder, &format!("p-{h}"), Some(h), None)
}

fn listing(id: &str, shop: &str, title: &str) -> Listing {
    serde_json::from_value(serde_json::json!({
        "id": id, "shop_id": shop, "region": "US",
        "category": "apparel/shoes", "title": title,
        "price": {"amount": 120.0, "currency": "USD"}
    }))
    .unwrap()
}

fn ask(message: &str) -> NewAuthorization {
    NewAuthorization {
        shop_id: None,
        relationship: Some(Relationship::Retailer),
        message: message.into(),
        document: Some("invoice INV-7".into()),
    }
}

fn decision(outcome: AuthorizationOutcome, reason: &str) -> DecisionInput {
    DecisionInput {
        outcome: Some(outcome),
        reason: reason.into(),
    }
}

struct World {
    app: App,
    store: Arc<SqliteStore>,
    _dir: tempfile::TempDir,
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("db.sqlite")).unwrap());
    let clock = Arc::new(FixedClock::new(
        chrono::Utc
            .with_ymd_and_hms(2026, 3, 2, 9, 0, 0)
            .single()
            .unwrap(),
    ));
    let app = App::new(store.clone(), AppConfig::default(), clock).unwrap();
    for (h, r, m) in [
        ("h-zorbex", "r-zorbex", "Zorbex"),
        ("h-other", "r-other", "Quellax"),
    ] {
        app.registry()
            .create_holder(&op(), Some(h.into()), &format!("{m} Inc"))
            .unwrap();
        app.registry()
            .create_right(
                &op(),
                serde_json::from_value(serde_json::json!({
                    "id": r, "holder": h, "kind": "trademark", "mark": m,
                    "nice_classes": [25], "regions": ["*"]
                }))
                .unwrap(),
                None,
            )
            .unwrap();
    }
    app.sweeps().run_now(&op(), None).unwrap();
    World {
        app,
        store,
        _dir: dir,
    }
}

fn status(app: &App, id: &str) -> String {
    app.screening()
        .listing_status(&op(), id)
        .unwrap()
        .status
        .to_string()
}

#[test]
fn approval_restores_only_the_authorised_shops_listings() {
    let w = world();
    let app = &w.app;
    for (id, shop) in [("mine", "shop-1"), ("theirs", "shop-2")] {
        let s = app
            .screening()
            .submit(
                &op(),
                listing(id, shop, "Zorbex sneakers"),
                ImageBase::DataOnly,
            )
            .unwrap();
        assert_ne!(s.decision.action, Action::Approve, "{:?}", s.decision);
    }
    let before = status(app, "mine");
    assert_ne!(before, "live");
    assert_eq!(status(app, "theirs"), before);

    // The seller asks; the same request again answers it.
    let (created, req) = app
        .authorizations()
        .request(
            &seller("shop-1"),
            "r-zorbex",
            ask("We buy from the EU distributor."),
        )
        .unwrap();
    assert!(created);
    assert_eq!(req.state, AuthorizationState::Pending);
    assert_eq!(req.shop_id, "shop-1");
    assert_eq!(req.holder_id, "h-zorbex");
    let (again, same) = app
        .authorizations()
        .request(
            &seller("shop-1"),
            "r-zorbex",
            ask("We buy from the EU distributor."),
        )
        .unwrap();
    assert!(!again);
    assert_eq!(same.id, req.id);
    // Another request while one is pending: a conflict.
    assert!(matches!(
        app.authorizations()
            .request(&seller("shop-1"), "r-zorbex", ask("Something else.")),
        Err(AppError::Conflict(_))
    ));
    // Bad input names the field; an unknown right is a 404; another shop
    // is refused.
    match app
        .authorizations()
        .request(&seller("shop-1"), "r-zorbex", ask("  "))
    {
        Err(AppError::Invalid(e)) => assert_eq!(e.field, "message"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        app.authorizations()
            .request(&seller("shop-1"), "r-none", ask("x")),
        Err(AppError::NotFound { .. })
    ));
    let mut for_other = ask("x");
    for_other.shop_id = Some("shop-2".into());
    assert!(matches!(
        app.authorizations()
            .request(&seller("shop-1"), "r-zorbex", for_other),
        Err(AppError::Forbidden(_))
    ));

    // Scope: another seller and another holder do not see it.
    assert!(matches!(
        app.authorizations().get(&seller("shop-2"), &req.id),
        Err(AppError::NotFound { .. })
    ));
    assert!(
        app.authorizations()
            .list(&seller("shop-2"), None, None, None, 100)
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        app.authorizations()
            .list(&holder("h-zorbex"), None, None, None, 100)
            .unwrap()
            .len(),
        1
    );
    assert!(matches!(
        app.authorizations().decide(
            &holder("h-other"),
            &req.id,
            decision(AuthorizationOutcome::Approve, "")
        ),
        Err(AppError::NotFound { .. })
    ));
    assert!(matches!(
        app.authorizations().decide(
            &seller("shop-1"),
            &req.id,
            decision(AuthorizationOutcome::Approve, "")
        ),
        Err(AppError::Forbidden(_))
    ));
    match app
        .authorizations()
        .decide(&holder("h-zorbex"), &req.id, DecisionInput::default())
    {
        Err(AppError::Invalid(e)) => assert_eq!(e.field, "outcome"),
        other => panic!("{other:?}"),
    }
    match app.authorizations().decide(
        &holder("h-zorbex"),
        &req.id,
        decision(AuthorizationOutcome::Refuse, " "),
    ) {
        Err(AppError::Invalid(e)) => assert_eq!(e.field, "reason"),
        other => panic!("{other:?}"),
    }

    // The holder approves: the shop is authorised at a new registry
    // version and its listing is restored; the other shop's is not.
    let v0 = w.store.registry_version().unwrap();
    let done = app
        .authorizations()
        .decide(
            &holder("h-zorbex"),
            &req.id,
            decision(AuthorizationOutcome::Approve, "known retailer"),
        )
        .unwrap();
    assert_eq!(done.authorization.state, AuthorizationState::Approved);
    assert_eq!(done.authorization.registry_version, Some(v0 + 1));
    assert_eq!(done.decisions, ["mine@v2"], "{done:?}");
    assert_eq!(done.rescreen.restored, 1);
    let right = app.registry().right(&op(), "r-zorbex").unwrap();
    assert_eq!(right.authorized_sellers, ["shop-1"]);
    assert_eq!(app.registry().version(), v0 + 1);
    assert_eq!(status(app, "mine"), "live");
    let d = app.screening().decision(&op(), "mine@v2").unwrap();
    assert_eq!(d.action, Action::Approve);
    assert_eq!(d.source, DecisionSource::Sweep);
    let cause = d.cause.unwrap();
    assert_eq!(cause.change, "authorization_approved");
    assert_eq!(cause.shop_id.as_deref(), Some("shop-1"));
    assert!(cause.by.contains(&req.id), "{cause:?}");
    if before == "pending_review" {
        let case = app.review().case(&op(), "mine@v1").unwrap();
        assert!(!case.is_open(), "{case:?}");
    }
    assert_eq!(status(app, "theirs"), before);
    assert_eq!(
        app.screening()
            .decisions_for_listing(&op(), "theirs")
            .unwrap()
            .len(),
        1
    );
    // Deciding again: a conflict.
    assert!(matches!(
        app.authorizations().decide(
            &holder("h-zorbex"),
            &req.id,
            decision(AuthorizationOutcome::Refuse, "changed my mind")
        ),
        Err(AppError::Conflict(_))
    ));

    // The durable sweep for the change is scoped to the shop, not a
    // catalogue-wide `right_enabled` sweep, and finds nothing left to do.
    let report = app.sweeps().run_now(&op(), None).unwrap();
    let changes: Vec<&str> = report
        .sweeps
        .iter()
        .map(|s| s.cause.change.as_str())
        .collect();
    assert_eq!(changes, ["authorization_approved"], "{report:?}");
    assert_eq!(report.sweeps[0].cause.shop_id.as_deref(), Some("shop-1"));
    assert!(report.decisions.is_empty(), "{report:?}");

    // Both parties were told.
    let kinds: Vec<String> = w
        .store
        .outbox_rows(0, 100)
        .unwrap()
        .into_iter()
        .map(|r| r.kind)
        .filter(|k| k.starts_with("authorization_"))
        .collect();
    assert_eq!(kinds, ["authorization_requested", "authorization_approved"]);

    // Revocation removes the shop; the listing is caught again.
    let revoked = app
        .authorizations()
        .decide(
            &holder("h-zorbex"),
            &req.id,
            decision(AuthorizationOutcome::Revoke, "contract ended"),
        )
        .unwrap();
    assert_eq!(revoked.authorization.state, AuthorizationState::Revoked);
    assert!(
        app.registry()
            .right(&op(), "r-zorbex")
            .unwrap()
            .authorized_sellers
            .is_empty()
    );
    assert_eq!(revoked.decisions, ["mine@v3"], "{revoked:?}");
    assert_ne!(status(app, "mine"), "live");
    let report = app.sweeps().run_now(&op(), None).unwrap();
    assert_eq!(report.sweeps[0].cause.change, "authorization_revoked");
    assert!(report.decisions.is_empty());
}

#[test]
fn refusal_changes_nothing_and_two_decisions_one_wins() {
    let w = world();
    let app = &w.app;
    let (_, req) = app
        .authorizations()
        .request(&seller("shop-2"), "r-zorbex", ask("reseller"))
        .unwrap();
    let v0 = w.store.registry_version().unwrap();
    let refused = app
        .authorizations()
        .decide(
            &holder("h-zorbex"),
            &req.id,
            decision(AuthorizationOutcome::Refuse, "not a partner"),
        )
        .unwrap();
    assert_eq!(refused.authorization.state, AuthorizationState::Refused);
    assert_eq!(
        refused.authorization.decision.unwrap().reason,
        "not a partner"
    );
    assert_eq!(w.store.registry_version().unwrap(), v0);
    assert!(
        app.registry()
            .right(&op(), "r-zorbex")
            .unwrap()
            .authorized_sellers
            .is_empty()
    );
    // After a refusal the shop may ask again; a withdrawn request is
    // withdrawn once.
    let (created, again) = app
        .authorizations()
        .request(&seller("shop-2"), "r-zorbex", ask("reseller"))
        .unwrap();
    assert!(created);
    let w2 = app
        .authorizations()
        .withdraw(&seller("shop-2"), &again.id)
        .unwrap();
    assert_eq!(w2.state, AuthorizationState::Withdrawn);
    assert!(matches!(
        app.authorizations().withdraw(&seller("shop-2"), &again.id),
        Err(AppError::Conflict(_))
    ));

    let (_, req) = app
        .authorizations()
        .request(&seller("shop-3"), "r-zorbex", ask("distributor"))
        .unwrap();
    let h = holder("h-zorbex");
    let (a, b) = std::thread::scope(|s| {
        let x = s.spawn(|| {
            app.authorizations()
                .decide(&h, &req.id, decision(AuthorizationOutcome::Approve, ""))
        });
        let y = s.spawn(|| {
            app.authorizations().decide(
                &op(),
                &req.id,
                decision(AuthorizationOutcome::Refuse, "no"),
            )
        });
        (x.join().unwrap(), y.join().unwrap())
    });
    assert!(a.is_ok() != b.is_ok(), "{a:?} {b:?}");
    assert!(matches!(
        if a.is_ok() { b } else { a },
        Err(AppError::Conflict(_))
    ));
    let stored = app.authorizations().get(&op(), &req.id).unwrap();
    let authorised = app
        .registry()
        .right(&op(), "r-zorbex")
        .unwrap()
        .authorizes("shop-3");
    assert_eq!(authorised, stored.state == AuthorizationState::Approved);
}
