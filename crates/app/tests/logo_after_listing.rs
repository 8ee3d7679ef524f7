//! `[images] logo_search = "after_listing"` on the real SQLite file: a
//! listing is decided at once on its text and whole-image hashes, and the
//! search for registered logos inside its photos follows through a sweep,
//! which stores a new decision when it finds one and takes every listing
//! it handled out of its queue.

use std::sync::Arc;

use shopshield_app::{App, AppConfig, LogoSearch, Principal, SystemClock};
use shopshield_intake::ImageBase;
use shopshield_model::{Action, DecisionSource, Listing, NewRight};
use shopshield_store::SqliteStore;

const IMAGES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/demo/images");
/// A photo with no logo in it (a bridge, from the PDQ test images).
const PLAIN: &str = "../../../crates/pdq/tests/data/images/bridge-mods__aaa-orig.jpg";

fn op() -> Principal {
    Principal::operator("t")
}

fn data_url(file: &str) -> String {
    use base64::Engine as _;
    let bytes = std::fs::read(format!("{IMAGES}/{file}")).unwrap();
    let mime = if file.ends_with(".png") {
        "png"
    } else {
        "jpeg"
    };
    format!(
        "data:image/{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

fn listing(id: &str, images: Vec<String>) -> Listing {
    serde_json::from_value(serde_json::json!({
        "id": id, "shop_id": "shop-1", "region": "US", "category": "apparel/shoes",
        "title": format!("Cork coaster {id}"),
        "price": {"amount": 12.0, "currency": "USD"}, "images": images
    }))
    .unwrap()
}

fn app(mode: LogoSearch) -> (tempfile::TempDir, App) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("shopshield.db")).unwrap();
    let mut config = AppConfig::default();
    config.images.logo_search = mode;
    let app = App::new(Arc::new(store), config, Arc::new(SystemClock)).unwrap();
    let right: NewRight = serde_json::from_value(serde_json::json!({
        "id": "r-logo", "holder": "Puma", "kind": "logo", "image": "puma-logo.png",
        "nice_classes": [18, 25], "regions": ["*"]
    }))
    .unwrap();
    let logo = std::fs::read(format!("{IMAGES}/puma-logo.png")).unwrap();
    app.registry()
        .import_rights(&op(), vec![(right, Some(logo))])
        .unwrap();
    // The right's own sweep runs first, so the runs below are logo sweeps.
    app.sweeps().run_now(&op(), None).unwrap();
    (dir, app)
}

fn submit(app: &App, l: Listing) -> shopshield_model::Decision {
    app.screening()
        .submit(&op(), l, ImageBase::DataOnly)
        .unwrap()
        .decision
}

#[test]
fn the_logo_search_follows_listing_as_a_sweep_decision() {
    let (_dir, app) = app(LogoSearch::AfterListing);
    // The printed coaster shows the registered logo (found only by the
    // keypoint search); the bridge shows none.
    let printed = submit(
        &app,
        listing("printed", vec![data_url("coaster-with-puma-print.jpg")]),
    );
    let plain = submit(&app, listing("plain", vec![data_url(PLAIN)]));
    assert_eq!(
        printed.action,
        Action::Approve,
        "decided without the search"
    );
    assert!(printed.violations.is_empty(), "{printed:?}");
    assert_eq!(plain.action, Action::Approve);

    let report = app.sweeps().run_now(&op(), None).unwrap();
    assert_eq!(report.sweeps.len(), 1, "{report:?}");
    assert_eq!(report.counts.looked_at, 2, "{report:?}");
    assert_eq!(report.counts.rescreened, 2);
    assert_eq!(report.counts.to_review, 1);
    assert_eq!(report.decisions.len(), 1, "{report:?}");
    let d = &report.decisions[0];
    assert_eq!(d.id, "printed");
    assert_eq!(d.listing_version, 2);
    assert_eq!(d.action, Action::Review);
    assert_eq!(d.source, DecisionSource::Sweep);
    let cause = d.cause.as_ref().unwrap();
    assert_eq!(cause.change, "logo_search");
    assert!(cause.why.contains("after_listing"), "{cause:?}");
    let v = &d.violations[0];
    assert_eq!(v.right_id.as_deref(), Some("r-logo"));
    assert_eq!(
        serde_json::to_value(&v.evidence).unwrap()["method"],
        "keypoints",
        "{v:?}"
    );
    assert_eq!(
        app.screening()
            .listing_status(&op(), "printed")
            .unwrap()
            .status
            .to_string(),
        "pending_review"
    );
    assert_eq!(
        app.screening()
            .listing_status(&op(), "plain")
            .unwrap()
            .status
            .to_string(),
        "live"
    );

    // Both left the queue: the next run opens nothing.
    let again = app.sweeps().run_now(&op(), None).unwrap();
    assert!(again.sweeps.is_empty(), "{again:?}");

    // A new version of the plain listing with the printed photo queues it
    // again, and the next sweep finds the logo.
    let changed = submit(
        &app,
        listing(
            "plain",
            vec![data_url("coaster-with-puma-print.jpg"), data_url(PLAIN)],
        ),
    );
    assert_eq!(changed.action, Action::Approve);
    let report = app.sweeps().run_now(&op(), None).unwrap();
    assert_eq!(report.decisions.len(), 1, "{report:?}");
    assert_eq!(report.decisions[0].id, "plain");
    assert_eq!(report.decisions[0].action, Action::Review);
}

#[test]
fn inline_is_the_default_and_decides_with_the_search() {
    assert_eq!(AppConfig::default().images.logo_search, LogoSearch::Inline);
    let (_dir, app) = app(LogoSearch::Inline);
    let d = submit(
        &app,
        listing("printed", vec![data_url("coaster-with-puma-print.jpg")]),
    );
    assert_eq!(d.action, Action::Review, "{d:?}");
    assert_eq!(
        serde_json::to_value(&d.violations[0].evidence).unwrap()["method"],
        "keypoints"
    );
    let report = app.sweeps().run_now(&op(), None).unwrap();
    assert!(report.sweeps.is_empty(), "nothing waits: {report:?}");
}
