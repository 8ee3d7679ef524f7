//! Livestreams on a real SQLite file: a stream that starts honest, is
//! warned for a counterfeit pitch, and is stopped on the next one; the
//! stop is stored (a restarted process refuses the stream's events too),
//! enforced against the host, appealable, and the log still verifies.
//! Pinned products are unpinned when their own listing was rejected.

use std::sync::Arc;

use shopshield_app::{App, AppConfig, AppError, StreamStatus, SystemClock};
use shopshield_intake::ImageBase;
use shopshield_model::{
    Action, NewRight, NewStream, Principal, Role, StreamActionKind, StreamEvent,
};
use shopshield_store::SqliteStore;

fn open(dir: &std::path::Path, config: AppConfig) -> App {
    let store = SqliteStore::open(&dir.join("shopshield.db")).unwrap();
    App::new(Arc::new(store), config, Arc::new(SystemClock)).unwrap()
}

fn op() -> Principal {
    Principal::operator("t")
}

fn register(app: &App) {
    let right: NewRight = serde_json::from_value(serde_json::json!({
        "id": "r-rolex", "holder": "Rolex", "kind": "trademark", "mark": "Rolex",
        "nice_classes": [14], "regions": ["*"],
        "price_floor": {"amount": 5000, "currency": "USD"}
    }))
    .unwrap();
    app.registry()
        .import_rights(&op(), vec![(right, None)])
        .unwrap();
}

fn stream(id: &str, creator: &str, shop: Option<&str>) -> NewStream {
    serde_json::from_value(serde_json::json!({
        "id": id, "creator_id": creator, "shop_id": shop, "region": "US"
    }))
    .unwrap()
}

fn said(t: f64, text: &str) -> StreamEvent {
    StreamEvent::Transcript {
        t,
        text: text.into(),
        end: Some(t + 4.0),
    }
}

#[test]
fn a_counterfeit_pitch_is_warned_then_stopped_for_good() {
    let data = tempfile::tempdir().unwrap();
    let mut config = AppConfig::default();
    config.stream.warnings_before_stop = 1;
    let app = open(data.path(), config.clone());
    register(&app);
    let streams = app.streams();
    let view = streams.open(&op(), stream("s-1", "c-1", None)).unwrap();
    assert_eq!(view.status, StreamStatus::Live);
    let send = |e: StreamEvent| streams.event(&op(), "s-1", e, ImageBase::DataOnly);

    let a = send(said(0.0, "welcome back everyone, lovely watches today")).unwrap();
    assert_eq!(a.action, StreamActionKind::Continue, "{a:?}");
    assert_eq!(a.score, 0.0);

    // Minute two: the pitch. A warning with a reason naming the time.
    let a = send(said(120.0, "this replica Rolex is a perfect 1:1 copy")).unwrap();
    assert_eq!(a.action, StreamActionKind::Warn, "{a:?}");
    assert_eq!(a.warnings, 1);
    let reason = a.reason.clone().unwrap();
    assert!(reason.contains("00:02:00"), "{reason}");
    assert!(reason.contains("Rolex"), "{reason}");
    assert_eq!(a.violations[0].evidence.time, Some([120.0, 124.0]));

    // Honest words after it: the window still holds the pitch, but
    // nothing new was said.
    let a = send(said(126.0, "and the strap is leather")).unwrap();
    assert_eq!(a.action, StreamActionKind::Continue, "{a:?}");
    assert!(a.score >= 0.85, "{a:?}");

    // The pitch again: stopped, with a decision whose evidence has times.
    let a = send(said(131.0, "only fifty dollars for the replica Rolex")).unwrap();
    assert_eq!(a.action, StreamActionKind::Stop, "{a:?}");
    let d = a.decision.clone().unwrap();
    assert_eq!(d.id, "stream:s-1");
    assert_eq!(d.action, Action::Reject);
    let times: Vec<_> = d.violations.iter().map(|v| v.evidence.time).collect();
    assert!(times.iter().all(Option::is_some), "{d:#?}");

    // Stopped stays stopped: this process, and a restarted one.
    let e = send(said(140.0, "hello again")).unwrap_err();
    assert!(
        matches!(&e, AppError::Conflict(m) if m.contains("stopped")),
        "{e:?}"
    );
    drop(app);
    let app = open(data.path(), config);
    let e = app
        .streams()
        .event(&op(), "s-1", said(141.0, "back"), ImageBase::DataOnly)
        .unwrap_err();
    assert!(
        matches!(&e, AppError::Conflict(m) if m.contains("stopped")),
        "{e:?}"
    );
    let stored = app.streams().stream(&op(), "s-1").unwrap();
    assert_eq!(stored.status, StreamStatus::Stopped);
    assert_eq!(stored.decision.unwrap().decision_id, d.decision_id);
    // The id cannot be opened again.
    let e = app
        .streams()
        .open(&op(), stream("s-1", "c-1", None))
        .unwrap_err();
    assert!(matches!(e, AppError::Conflict(_)), "{e:?}");

    // The host answers for it: a violation with points, appealable.
    let record = app
        .review()
        .record(
            &op(),
            &shopshield_app::enforce::Party::Creator("c-1".into()),
        )
        .unwrap();
    let json = serde_json::to_value(&record).unwrap().to_string();
    assert!(json.contains("v:stream:s-1@v1"), "{json}");
    assert!(record.points > 0, "{json}");
    let host = Principal {
        id: "creator:c-1".into(),
        role: Role::Creator,
        holder_id: None,
        shop_id: None,
        creator_id: Some("c-1".into()),
        label: "host".into(),
    };
    let appeal = app
        .review()
        .file_appeal(&host, "v:stream:s-1@v1", "it was a genuine watch")
        .unwrap();
    let appeal = serde_json::to_value(&appeal).unwrap().to_string();
    assert!(appeal.contains("v:stream:s-1@v1"), "{appeal}");

    // The enforcement log, stop and appeal included, verifies.
    let store = SqliteStore::open(&data.path().join("shopshield.db")).unwrap();
    shopshield_app::audit_log(&store).unwrap();
}

#[test]
fn rejected_products_are_unpinned_and_bad_events_name_the_field() {
    let data = tempfile::tempdir().unwrap();
    let app = open(data.path(), AppConfig::default());
    register(&app);
    let listing: shopshield_model::Listing = serde_json::from_value(serde_json::json!({
        "id": "l-fake", "shop_id": "shop-1", "region": "US", "category": "jewelry/watches",
        "title": "Replica Rolex Submariner 1:1 copy",
        "price": {"amount": 50, "currency": "USD"}
    }))
    .unwrap();
    let d = app
        .screening()
        .submit(&op(), listing, ImageBase::DataOnly)
        .unwrap()
        .decision;
    assert_eq!(d.action, Action::Reject, "{d:#?}");
    let streams = app.streams();
    streams
        .open(&op(), stream("s-2", "c-2", Some("shop-1")))
        .unwrap();
    let a = streams
        .event(
            &op(),
            "s-2",
            StreamEvent::Product {
                t: 30.0,
                listing_id: "l-fake".into(),
            },
            ImageBase::DataOnly,
        )
        .unwrap();
    assert_eq!(a.action, StreamActionKind::Unpin, "{a:?}");
    assert_eq!(a.listing_id.as_deref(), Some("l-fake"));
    assert!(a.reason.unwrap().contains("l-fake"));

    let bad = |e: StreamEvent| match streams
        .event(&op(), "s-2", e, ImageBase::DataOnly)
        .unwrap_err()
    {
        AppError::Invalid(v) => v.field,
        AppError::Intake(i) => i.field().unwrap_or_default().to_string(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        bad(StreamEvent::Product {
            t: 31.0,
            listing_id: "l-none".into()
        }),
        "listing_id"
    );
    assert_eq!(
        bad(StreamEvent::Frame {
            t: 32.0,
            image: None,
            pdq: Some("zz".into())
        }),
        "pdq"
    );
    assert_eq!(
        bad(StreamEvent::Frame {
            t: 33.0,
            image: Some("frame.png".into()),
            pdq: None
        }),
        "image"
    );
    let e = streams
        .event(&op(), "s-none", said(1.0, "hi"), ImageBase::DataOnly)
        .unwrap_err();
    assert!(matches!(e, AppError::NotFound { .. }), "{e:?}");
}

#[test]
fn stopped_streams_and_removed_videos_are_in_the_transparency_report() {
    let data = tempfile::tempdir().unwrap();
    let mut config = AppConfig::default();
    config.stream.warnings_before_stop = 1;
    let app = open(data.path(), config);
    register(&app);
    let mut live: NewStream = stream("s-de", "c-9", Some("shop-9"));
    live.region = shopshield_model::Region::parse("region", "DE").unwrap();
    live.title = Some("Uhren am Abend".into());
    app.streams().open(&op(), live).unwrap();
    let send = |e: StreamEvent| {
        app.streams()
            .event(&op(), "s-de", e, ImageBase::DataOnly)
            .unwrap()
    };
    assert_eq!(
        send(said(120.0, "this replica Rolex is a perfect 1:1 copy")).action,
        StreamActionKind::Warn
    );
    let stop = send(said(131.0, "only fifty euros for the replica Rolex"));
    assert_eq!(stop.action, StreamActionKind::Stop);
    // A live stream that was never stopped is not counted.
    app.streams()
        .open(&op(), stream("s-honest", "c-8", None))
        .unwrap();
    // A short video rejected for its caption, and one approved.
    for (id, caption) in [
        ("v-fake", "replica Rolex, a perfect 1:1 copy, cheap"),
        ("v-fine", "my grandmother's garden in spring"),
    ] {
        let video: shopshield_model::Video = serde_json::from_value(serde_json::json!({
            "id": id, "creator_id": "c-7", "region": "FR", "caption": caption
        }))
        .unwrap();
        app.videos()
            .submit(&op(), video, ImageBase::DataOnly)
            .unwrap();
    }
    assert_eq!(
        app.videos().video(&op(), "v-fake").unwrap().decision.action,
        Action::Reject
    );

    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let q = shopshield_app::ReportQuery {
        from: today.clone(),
        to: today,
        region: None,
    };
    let report = app.reports().transparency(&op(), &q).unwrap();
    assert_eq!(report.totals.livestreams_stopped, 1, "{report:#?}");
    assert_eq!(report.totals.videos_removed, 1, "{report:#?}");
    assert_eq!(report.by_content_type["livestream"].restrictions, 1);
    assert_eq!(report.by_content_type["video"].restrictions, 1);
    // The stop was taken while the stream was live, by our own detection.
    assert_eq!(report.totals.taken_down_after_listing.found_by_us, 1);
    assert_eq!(report.totals.rejected_before_listing, 1);

    // Both are in the EU: each gets a statement of reasons that passes the
    // transparency database's rules and says what happened.
    let statements = app.reports().statements(&op(), &q).unwrap();
    assert_eq!(statements.len(), 2, "{statements:#?}");
    for s in &statements {
        let v = serde_json::to_value(s).unwrap();
        let problems = shopshield_app::report::sor::rules::validate(&v);
        assert!(problems.is_empty(), "{problems:?}\n{v:#}");
        assert_eq!(v["content_type"][0], "CONTENT_TYPE_VIDEO", "{v:#}");
    }
    let facts: Vec<String> = statements
        .iter()
        .map(|s| serde_json::to_value(s).unwrap()["decision_facts"].to_string())
        .collect();
    assert!(
        facts.iter().any(|f| f
            .contains("livestream \\\"Uhren am Abend\\\" (stream:s-de, shop shop-9)")
            && f.contains("stopped while it was live")),
        "{facts:#?}"
    );
    assert!(
        facts
            .iter()
            .any(|f| f.contains("video:v-fake") && f.contains("refused before it went live")),
        "{facts:#?}"
    );
}
