//! Sweeps over the real SQLite file: a new right takes live listings down,
//! a disabled right closes its cases and sends its removals back to review,
//! and a sweep cut off mid-way is resumed by another process after its
//! lease, with time injected.

use std::path::Path;
use std::sync::Arc;

use chrono::TimeZone;
use shopshield_app::{App, AppConfig, AppError, FixedClock, Principal, enforce::Verdict};
use shopshield_intake::ImageBase;
use shopshield_model::{Action, DecisionSource, Listing, NewRight, ViolationType};
use shopshield_store::{SqliteStore, SweepState};

fn clock() -> Arc<FixedClock> {
    Arc::new(FixedClock::new(
        chrono::Utc
            .with_ymd_and_hms(2026, 3, 2, 9, 0, 0)
            .single()
            .unwrap(),
    ))
}

fn open(db: &Path, config: AppConfig, clock: Arc<FixedClock>) -> App {
    let store = SqliteStore::open(db).unwrap();
    App::new(Arc::new(store), config, clock).unwrap()
}

fn op() -> Principal {
    Principal::operator("t")
}

fn mark(id: &str, mark: &str) -> NewRight {
    serde_json::from_value(serde_json::json!({
        "id": id, "holder": "Zorbex Inc", "kind": "trademark", "mark": mark,
        "nice_classes": [25], "regions": ["*"],
        "price_floor": {"amount": 80.0, "currency": "USD"}
    }))
    .unwrap()
}

fn listing(id: &str, title: &str, price: &str) -> Listing {
    serde_json::from_value(serde_json::json!({
        "id": id, "shop_id": format!("shop-{id}"), "region": "US",
        "category": "apparel/shoes", "title": title,
        "price": {"amount": price.parse::<f64>().unwrap(), "currency": "USD"}
    }))
    .unwrap()
}

/// Fakes of a mark not registered yet, and honest listings.
fn catalogue() -> Vec<Listing> {
    let mut v = Vec::new();
    for i in 0..6 {
        v.push(listing(
            &format!("fake-{i}"),
            &format!("Zorbex replica sneakers 1:1 copy size {i}"),
            "12",
        ));
    }
    v.push(listing("glued", "ZorbexShoes fake trainers replica", "9"));
    for i in 0..5 {
        v.push(listing(
            &format!("plain-{i}"),
            &format!("Canvas walking shoe model {i}"),
            "45",
        ));
    }
    v
}

fn status(app: &App, id: &str) -> String {
    app.screening()
        .listing_status(&op(), id)
        .unwrap()
        .status
        .to_string()
}

#[test]
fn a_new_mark_takes_down_live_fakes_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shopshield.db");
    let app = open(&db, AppConfig::default(), clock());
    let got = app
        .screening()
        .submit_batch(&op(), catalogue(), ImageBase::DataOnly)
        .unwrap();
    assert!(
        got.iter()
            .all(|r| r.as_ref().unwrap().decision.action == Action::Approve)
    );
    // Nothing changed yet: nothing to sweep.
    let idle = app.sweeps().run_now(&op(), None).unwrap();
    assert_eq!(idle.counts.looked_at, 0);

    app.registry()
        .import_rights(&op(), vec![(mark("r-zorbex", "Zorbex"), None)])
        .unwrap();
    let report = app.sweeps().run_now(&op(), None).unwrap();
    assert_eq!(report.sweeps.len(), 1);
    let s = &report.sweeps[0];
    assert_eq!(s.cause.change, "right_created");
    assert_eq!(s.state, SweepState::Done);
    // Only listings holding the mark's words (or a spelling within its
    // budget) were looked at: the seven fakes, none of the plain shoes.
    assert_eq!(report.counts.looked_at, 7, "{report:?}");
    assert_eq!(report.counts.rescreened, 7);
    assert_eq!(report.counts.taken_down, 7);
    assert_eq!(report.decisions.len(), 7);
    for d in &report.decisions {
        assert_eq!(d.source, DecisionSource::Sweep);
        assert_eq!(d.action, Action::Reject);
        assert_eq!(d.listing_version, 2);
        let cause = d.cause.as_ref().unwrap();
        assert_eq!(cause.right_id.as_deref(), Some("r-zorbex"));
        assert!(cause.why.contains("r-zorbex"), "{}", cause.why);
        assert!(!cause.version.is_empty());
        assert!(
            d.violations
                .iter()
                .any(|v| v.right_id.as_deref() == Some("r-zorbex"))
        );
        assert_eq!(status(&app, &d.id), "removed");
    }
    assert_eq!(status(&app, "glued"), "removed");
    assert_eq!(status(&app, "plain-0"), "live");
    // The decisions are the listings' history; the first one stands.
    let history = app
        .screening()
        .decisions_for_listing(&op(), "fake-0")
        .unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].source, DecisionSource::Screen);
    // Counted apart from pre-listing rejections.
    let metrics = app.metrics().render();
    assert!(
        metrics.contains("shopshield_takedowns_after_listing_total{source=\"sweep\"} 7"),
        "{metrics}"
    );
    // Enforcement treats them like any decision: violations with points.
    let record = app
        .review()
        .record(
            &op(),
            &shopshield_app::enforce::Party::Shop("shop-fake-0".into()),
        )
        .unwrap();
    assert_eq!(record.violations.len(), 1);
    // Run again: nothing is due, nothing is taken down twice.
    let again = app.sweeps().run_now(&op(), None).unwrap();
    assert!(again.sweeps.is_empty());
    assert_eq!(
        app.sweeps()
            .list(&op(), &shopshield_store::Page::first(10))
            .unwrap()
            .len(),
        1
    );
    // A seller's key may not run sweeps.
    let seller = Principal {
        role: shopshield_model::Role::Seller,
        shop_id: Some("shop-fake-0".into()),
        ..Principal::operator("s")
    };
    assert!(matches!(
        app.sweeps().run_now(&seller, None),
        Err(AppError::Forbidden(_))
    ));
}

#[test]
fn a_disabled_right_closes_its_cases_and_sends_its_removals_back_to_review() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shopshield.db");
    let app = open(&db, AppConfig::default(), clock());
    app.registry()
        .import_rights(&op(), vec![(mark("r-zorbex", "Zorbex"), None)])
        .unwrap();
    app.sweeps().run_now(&op(), None).unwrap();
    let fake = app
        .screening()
        .submit(
            &op(),
            listing("fake", "Zorbex replica sneakers 1:1 copy", "12"),
            ImageBase::DataOnly,
        )
        .unwrap();
    assert_eq!(fake.decision.action, Action::Reject);
    let mention = app
        .screening()
        .submit(
            &op(),
            listing("mention", "Zorbex sneakers", "120"),
            ImageBase::DataOnly,
        )
        .unwrap();
    assert_eq!(
        mention.decision.action,
        Action::Review,
        "{:?}",
        mention.decision
    );
    assert_eq!(status(&app, "fake"), "removed");
    assert_eq!(status(&app, "mention"), "pending_review");

    let reviewer = Principal {
        role: shopshield_model::Role::Reviewer,
        ..Principal::operator("rev-1")
    };
    app.review().claim(&reviewer, "mention@v1").unwrap();
    app.registry()
        .set_right_enabled(&op(), "r-zorbex", false)
        .unwrap();
    // A case resting only on the disabled right cannot be upheld.
    let refused = app.review().decide(
        &reviewer,
        "mention@v1",
        Verdict::Uphold {
            kind: ViolationType::Trademark,
            severity: shopshield_app::enforce::Severity::Moderate,
            knock_off: false,
        },
        "fake",
    );
    assert!(
        matches!(refused, Err(AppError::Conflict(ref m)) if m.contains("r-zorbex")),
        "{refused:?}"
    );

    let report = app.sweeps().run_now(&op(), None).unwrap();
    assert_eq!(report.sweeps[0].cause.change, "right_disabled");
    assert_eq!(report.counts.looked_at, 2, "{report:?}");
    assert_eq!(report.counts.cases_closed, 1);
    assert_eq!(report.counts.restored, 1);
    assert_eq!(report.counts.to_review, 1);
    // The pending listing is live again; its case is closed.
    assert_eq!(status(&app, "mention"), "live");
    let case = app.review().case(&reviewer, "mention@v1").unwrap();
    assert!(!case.is_open() && case.closed.is_some());
    // The removed one is back in review, with the right named in the cause.
    assert_eq!(status(&app, "fake"), "pending_review");
    let back = app.screening().decision(&op(), "fake@v2").unwrap();
    assert_eq!(back.action, Action::Review);
    assert_eq!(back.source, DecisionSource::Sweep);
    assert_eq!(back.cause.unwrap().change, "right_disabled");
}

#[test]
fn a_sweep_cut_off_mid_way_is_resumed_by_another_process_after_its_lease() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shopshield.db");
    let config = AppConfig::parse("[sweep]\npage = 2\nlease_secs = 30\n").unwrap();
    let t = clock();
    let first = open(&db, config.clone(), t.clone());
    first
        .screening()
        .submit_batch(&op(), catalogue(), ImageBase::DataOnly)
        .unwrap();
    first
        .registry()
        .import_rights(&op(), vec![(mark("r-zorbex", "Zorbex"), None)])
        .unwrap();
    // One page of two listings, then the process is gone.
    let part = first.sweeps().run_now(&op(), Some(1)).unwrap();
    assert_eq!(part.counts.looked_at, 2);
    assert_eq!(part.counts.taken_down, 2);
    drop(first);

    // Another process on the same file: the dead one's claim holds until
    // its lease ends.
    let second = open(&db, config, t.clone());
    let early = second.sweeps().run_now(&op(), None).unwrap();
    assert!(early.sweeps.is_empty(), "{early:?}");
    t.advance(chrono::Duration::seconds(31));
    let rest = second.sweeps().run_now(&op(), None).unwrap();
    assert_eq!(rest.sweeps.len(), 1);
    assert_eq!(
        rest.counts.looked_at, 5,
        "resumed after the cursor: {rest:?}"
    );
    assert_eq!(rest.counts.taken_down, 5);
    let done = &rest.sweeps[0];
    assert_eq!(done.state, SweepState::Done);
    let stored = second.sweeps().get(&op(), &done.id).unwrap();
    assert_eq!(stored.counts.looked_at, 7);
    assert_eq!(stored.counts.taken_down, 7);
    // Every fake has exactly one sweep decision.
    for l in catalogue().iter().filter(|l| !l.id.starts_with("plain")) {
        let ds = second
            .screening()
            .decisions_for_listing(&op(), &l.id)
            .unwrap();
        let swept = ds
            .iter()
            .filter(|d| d.source == DecisionSource::Sweep)
            .count();
        assert_eq!(swept, 1, "{}", l.id);
    }
}

/// A textured test photo (PDQ needs structure to hash with quality):
/// `seed` changes the pattern, `size` the pixel size of the same scene.
fn photo(seed: u32, size: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(size, size, |x, y| {
        let (u, v) = (x as f32 / size as f32, y as f32 / size as f32);
        let s = seed as f32;
        let a = ((u * (7.0 + s) + v * 3.0).sin() * 0.5 + 0.5) * 255.0;
        let b = ((v * (11.0 + 2.0 * s) - u * 5.0).cos() * 0.5 + 0.5) * 255.0;
        let c = if (u - 0.3 - 0.05 * s).abs() < 0.15 && (v - 0.6).abs() < 0.2 {
            30.0
        } else {
            220.0
        };
        image::Rgb([a as u8, b as u8, c as u8])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

fn data_url(png: &[u8]) -> String {
    use base64::Engine as _;
    format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(png)
    )
}

#[test]
fn a_new_photo_right_takes_down_live_copies_found_by_their_image_hash() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shopshield.db");
    let app = open(&db, AppConfig::default(), clock());
    let with_image = |id: &str, png: &[u8]| -> Listing {
        let mut l = listing(id, &format!("Ceramic coaster set {id}"), "18");
        l.images = vec![data_url(png)];
        l
    };
    // A copy of the photo (smaller, re-encoded), a different photo, and a
    // listing without images; nothing is registered yet: all go live.
    let got = app
        .screening()
        .submit_batch(
            &op(),
            vec![
                with_image("copy", &photo(1, 240)),
                with_image("other", &photo(4, 256)),
                listing("text", "Ceramic coaster set", "18"),
            ],
            ImageBase::DataOnly,
        )
        .unwrap();
    assert!(
        got.iter()
            .all(|r| r.as_ref().unwrap().decision.action == Action::Approve)
    );
    // The holder registers the original photo. It has no word mark: only
    // the image hashes in the index can name the copy.
    let right: NewRight = serde_json::from_value(serde_json::json!({
        "id": "r-photo", "holder": "Coasterco", "kind": "copyright_image",
        "image": "photo.png", "regions": ["*"]
    }))
    .unwrap();
    app.registry()
        .import_rights(&op(), vec![(right, Some(photo(1, 256)))])
        .unwrap();
    let report = app.sweeps().run_now(&op(), None).unwrap();
    assert_eq!(report.sweeps.len(), 1, "{report:?}");
    assert_eq!(report.counts.looked_at, 1, "{report:?}");
    assert_eq!(report.counts.rescreened, 1);
    assert_eq!(report.counts.taken_down, 1, "{report:?}");
    let d = &report.decisions[0];
    assert_eq!(d.id, "copy");
    assert_eq!(d.source, DecisionSource::Sweep);
    assert!(
        d.violations
            .iter()
            .any(|v| v.right_id.as_deref() == Some("r-photo")
                && v.evidence.field.as_deref() == Some("images[0]")),
        "{d:?}"
    );
    assert_eq!(status(&app, "copy"), "removed");
    assert_eq!(status(&app, "other"), "live");
    assert_eq!(status(&app, "text"), "live");
}
