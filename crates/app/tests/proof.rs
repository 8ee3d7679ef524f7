//! Proof of rights over the real SQLite file, with time injected: a right
//! whose registration expired is not enforced (the engine is rebuilt when
//! the clock passes the expiry, without any registry change) and a sweep
//! closes its cases and sends its removals back to review; a duplicate mark
//! of another holder is held for review until an admin approves it.

use std::path::Path;
use std::sync::Arc;

use chrono::TimeZone;
use shopshield_app::{App, AppConfig, AppError, FixedClock, Principal, enforce::Verdict};
use shopshield_intake::ImageBase;
use shopshield_model::{
    Action, DecisionSource, Listing, NewRight, RightReviewInput, RightReviewOutcome,
    RightReviewState, Role, ViolationType,
};
use shopshield_store::SqliteStore;

fn clock() -> Arc<FixedClock> {
    Arc::new(FixedClock::new(
        chrono::Utc
            .with_ymd_and_hms(2026, 3, 2, 9, 0, 0)
            .single()
            .unwrap(),
    ))
}

fn open(db: &Path, clock: Arc<FixedClock>) -> App {
    let store = SqliteStore::open(db).unwrap();
    App::new(Arc::new(store), AppConfig::default(), clock).unwrap()
}

fn op() -> Principal {
    Principal::operator("t")
}

fn trademark(id: &str, holder: &str, mark: &str, classes: &[u16], regions: &[&str]) -> NewRight {
    serde_json::from_value(serde_json::json!({
        "id": id, "holder": holder, "kind": "trademark", "mark": mark,
        "nice_classes": classes, "regions": regions,
        "price_floor": {"amount": 80.0, "currency": "USD"}
    }))
    .unwrap()
}

fn registered(id: &str, mark: &str, expires_on: &str) -> NewRight {
    let mut r = trademark(id, "Zorbex Inc", mark, &[25], &["*"]);
    r.registration = Some(shopshield_model::Registration {
        number: "5,123,456".into(),
        office: "USPTO".into(),
        registered_on: Some("2016-03-02".parse().unwrap()),
        expires_on: expires_on.parse().unwrap(),
    });
    r
}

fn listing(id: &str, title: &str, price: &str) -> Listing {
    serde_json::from_value(serde_json::json!({
        "id": id, "shop_id": format!("shop-{id}"), "region": "US",
        "category": "apparel/shoes", "title": title,
        "price": {"amount": price.parse::<f64>().unwrap(), "currency": "USD"}
    }))
    .unwrap()
}

fn submit(app: &App, id: &str, title: &str, price: &str) -> shopshield_model::Decision {
    app.screening()
        .submit(&op(), listing(id, title, price), ImageBase::DataOnly)
        .unwrap()
        .decision
}

fn status(app: &App, id: &str) -> String {
    app.screening()
        .listing_status(&op(), id)
        .unwrap()
        .status
        .to_string()
}

fn reviewer() -> Principal {
    Principal {
        role: Role::Reviewer,
        ..Principal::operator("rev-1")
    }
}

#[test]
fn an_expired_right_is_not_enforced_and_a_sweep_takes_its_decisions_back() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shopshield.db");
    let t = clock();
    let app = open(&db, t.clone());
    // In force through 2026-03-02 (UTC); not from 2026-03-03 00:00 UTC.
    app.registry()
        .import_rights(
            &op(),
            vec![(registered("r-zorbex", "Zorbex", "2026-03-02"), None)],
        )
        .unwrap();
    app.sweeps().run_now(&op(), None).unwrap();
    assert_eq!(
        app.registry()
            .next_lapse()
            .map(|t| t.to_rfc3339())
            .as_deref(),
        Some("2026-03-03T00:00:00+00:00")
    );
    let fake = submit(&app, "fake", "Zorbex replica sneakers 1:1 copy", "12");
    assert_eq!(fake.action, Action::Reject);
    let mention = submit(&app, "mention", "Zorbex sneakers", "120");
    assert_eq!(mention.action, Action::Review, "{mention:?}");
    app.review().claim(&reviewer(), "mention@v1").unwrap();

    // The last second of the expiry day: still in force.
    t.set(
        chrono::Utc
            .with_ymd_and_hms(2026, 3, 2, 23, 59, 59)
            .single()
            .unwrap(),
    );
    let version = app.registry().version();
    assert_eq!(
        submit(&app, "late", "Zorbex replica trainers copy", "12").action,
        Action::Reject
    );
    // Midnight UTC: expired. The engine is rebuilt without any registry
    // change; the same fake is approved now.
    t.set(
        chrono::Utc
            .with_ymd_and_hms(2026, 3, 3, 0, 0, 1)
            .single()
            .unwrap(),
    );
    let after = submit(&app, "after", "Zorbex replica trainers copy", "12");
    assert_eq!(after.action, Action::Approve, "{after:?}");
    assert!(after.violations.is_empty());
    assert_eq!(app.registry().version(), version, "no registry change");
    assert_eq!(app.registry().next_lapse(), None);

    // A case resting only on the expired right cannot be upheld.
    let refused = app.review().decide(
        &reviewer(),
        "mention@v1",
        Verdict::Uphold {
            kind: ViolationType::Trademark,
            severity: shopshield_app::enforce::Severity::Moderate,
            knock_off: false,
        },
        "fake",
    );
    assert!(
        matches!(refused, Err(AppError::Conflict(ref m)) if m.contains("r-zorbex") && m.contains("expired")),
        "{refused:?}"
    );

    // The sweep: like a right disabled, its case closes and its removal
    // goes back to review.
    let report = app.sweeps().run_now(&op(), None).unwrap();
    assert_eq!(report.sweeps.len(), 1, "{report:?}");
    let s = &report.sweeps[0];
    assert_eq!(s.id, "right-expired:r-zorbex@2026-03-02");
    assert_eq!(s.cause.change, "right_expired");
    assert_eq!(s.cause.right_id.as_deref(), Some("r-zorbex"));
    assert!(
        s.cause.why.contains("USPTO 5,123,456") && s.cause.why.contains("2026-03-02"),
        "{}",
        s.cause.why
    );
    assert_eq!(report.counts.cases_closed, 1, "{report:?}");
    assert_eq!(status(&app, "mention"), "live");
    assert_eq!(status(&app, "fake"), "pending_review");
    let back = app.screening().decision(&op(), "fake@v2").unwrap();
    assert_eq!(back.source, DecisionSource::Sweep);
    assert_eq!(back.cause.unwrap().change, "right_expired");

    // Once only, in this process and in another one on the same database.
    assert!(app.sweeps().run_now(&op(), None).unwrap().sweeps.is_empty());
    let other = open(&db, t.clone());
    t.advance(chrono::Duration::minutes(5));
    assert!(
        other
            .sweeps()
            .run_now(&op(), None)
            .unwrap()
            .sweeps
            .is_empty()
    );
    // Another process's engine leaves the expired right out too.
    assert_eq!(
        other
            .screening()
            .submit(
                &op(),
                listing("other", "Zorbex replica copy", "12"),
                ImageBase::DataOnly
            )
            .unwrap()
            .decision
            .action,
        Action::Approve
    );
}

#[test]
fn a_duplicate_mark_of_another_holder_is_held_until_an_admin_approves_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shopshield.db");
    let app = open(&db, clock());
    app.registry()
        .import_rights(
            &op(),
            vec![
                (
                    trademark("r-zorbex", "Zorbex Inc", "Zorbex", &[25], &["*"]),
                    None,
                ),
                (
                    trademark("r-alphor", "Alphor Ltd", "Alphor", &[9], &["US"]),
                    None,
                ),
            ],
        )
        .unwrap();
    app.sweeps().run_now(&op(), None).unwrap();
    // Another holder: the same mark as the gate normalises it (case,
    // width), a shared class, any region against `*`: held. The same
    // holder, another class, another region: not held.
    let done = app
        .registry()
        .import(
            &op(),
            vec![
                (
                    trademark("r-copy", "Copycat", "ＺＯＲＢＥＸ", &[18, 25], &["US"]),
                    None,
                ),
                (
                    trademark("r-zorbex-2", "Zorbex Inc", "Zorbex", &[25], &["*"]),
                    None,
                ),
                (
                    trademark("r-zorbex-9", "Copycat", "Zorbex", &[9], &["*"]),
                    None,
                ),
                (
                    trademark("r-alphor-gb", "Copycat", "Alphor", &[9], &["GB"]),
                    None,
                ),
                (
                    trademark("r-alphor-all", "Copycat", "Alphor", &[9, 25], &["*"]),
                    None,
                ),
            ],
        )
        .unwrap();
    assert_eq!(done.imported, 5);
    assert_eq!(done.held_for_review, 2, "{done:?}");
    assert_eq!(done.held, ["r-copy", "r-alphor-all"]);
    let held = app.registry().right(&op(), "r-copy").unwrap();
    let review = held.review.clone().unwrap();
    assert_eq!(review.state, RightReviewState::Pending);
    let ids: Vec<(&str, &str)> = review
        .conflicts
        .iter()
        .map(|c| (c.right_id.as_str(), c.holder_id.as_str()))
        .collect();
    // r-zorbex-2 comes after r-copy in the import.
    assert_eq!(ids, [("r-zorbex", "zorbex-inc")]);
    for free in ["r-zorbex-2", "r-zorbex-9", "r-alphor-gb"] {
        assert!(
            app.registry().right(&op(), free).unwrap().review.is_none(),
            "{free}"
        );
    }
    // Held: not enforced. Its holder's shop is not protected by it, and a
    // listing naming the mark is caught by the first holder's right only.
    let d = submit(&app, "fake", "Zorbex replica sneakers 1:1 copy", "12");
    assert_eq!(d.action, Action::Reject);
    assert!(
        d.violations
            .iter()
            .all(|v| v.right_id.as_deref() != Some("r-copy"))
    );
    let pending = app
        .registry()
        .rights_in_review(&op(), None, Some(RightReviewState::Pending))
        .unwrap();
    assert_eq!(pending.len(), 2);
    // Created over HTTP the same way: a single right is held too.
    let single = app
        .registry()
        .create_right(
            &op(),
            trademark("r-alphor-2", "copycat", "ALPHOR", &[9], &["US"]),
            None,
        )
        .unwrap();
    assert_eq!(
        single.review.map(|r| r.state),
        Some(RightReviewState::Pending)
    );

    // Only admins decide; a reason is required.
    let approve = |reason: &str| RightReviewInput {
        outcome: Some(RightReviewOutcome::Approve),
        reason: reason.into(),
    };
    assert!(matches!(
        app.registry()
            .review_right(&reviewer(), "r-copy", approve("ok")),
        Err(AppError::Forbidden(_))
    ));
    assert!(matches!(
        app.registry().review_right(&op(), "r-copy", approve(" ")),
        Err(AppError::Invalid(ref e)) if e.field == "reason"
    ));
    let approved = app
        .registry()
        .review_right(&op(), "r-copy", approve("coexistence agreement on file"))
        .unwrap();
    let review = approved.review.unwrap();
    assert_eq!(review.state, RightReviewState::Approved);
    assert_eq!(review.reviewed_by.as_deref(), Some("t"));
    // In force now: a sweep looks at the live listings carrying the mark,
    // and new listings are caught by it too.
    let report = app.sweeps().run_now(&op(), None).unwrap();
    assert!(
        report
            .sweeps
            .iter()
            .any(|s| s.cause.right_id.as_deref() == Some("r-copy")
                && matches!(s.cause.change.as_str(), "right_created" | "right_enabled")),
        "{report:?}"
    );
    let d = submit(&app, "fake-2", "Zorbex replica trainers copy", "12");
    assert!(
        d.violations
            .iter()
            .any(|v| v.right_id.as_deref() == Some("r-copy")),
        "{d:?}"
    );
    // Decided once.
    assert!(matches!(
        app.registry()
            .review_right(&op(), "r-copy", approve("again")),
        Err(AppError::Conflict(_))
    ));
    assert!(matches!(
        app.registry()
            .review_right(&op(), "r-zorbex", approve("never held")),
        Err(AppError::Conflict(_))
    ));
    // Refused: kept, never in force.
    let refused = app
        .registry()
        .review_right(
            &op(),
            "r-alphor-all",
            RightReviewInput {
                outcome: Some(RightReviewOutcome::Refuse),
                reason: "the earlier registration covers these goods".into(),
            },
        )
        .unwrap();
    assert_eq!(refused.review.unwrap().state, RightReviewState::Refused);
    // Re-importing an approved right keeps the decision that covered its
    // conflicts.
    let again = app
        .registry()
        .import(
            &op(),
            vec![(
                trademark("r-copy", "Copycat", "ＺＯＲＢＥＸ", &[18, 25], &["US"]),
                None,
            )],
        )
        .unwrap();
    assert_eq!(again.held_for_review, 0);
    assert_eq!(
        app.registry()
            .right(&op(), "r-copy")
            .unwrap()
            .review
            .map(|r| r.state),
        Some(RightReviewState::Approved)
    );
    // The first holder re-importing its own right is not held by the
    // approved newcomer.
    let first = app
        .registry()
        .import(
            &op(),
            vec![(
                trademark("r-zorbex", "Zorbex Inc", "Zorbex", &[25], &["*"]),
                None,
            )],
        )
        .unwrap();
    assert_eq!(
        first.held_for_review,
        0,
        "{:?}",
        app.registry().right(&op(), "r-zorbex").unwrap().review
    );
}
