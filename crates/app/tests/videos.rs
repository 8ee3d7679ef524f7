//! Short videos end to end on the real SQLite store with the real ffmpeg:
//! a registered clip (`copyright_video`) found in an excerpt with time
//! ranges on both sides, a registered logo found in a frame, a mark said in
//! the transcript, the creator ladder, and clear errors for bad media.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use shopshield_app::{App, AppConfig, AppError, Principal, SystemClock};
use shopshield_intake::ImageBase;
use shopshield_model::{Action, NewRight, Video, ViolationType};
use shopshield_store::SqliteStore;

const IMAGES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/demo/images");

fn ffmpeg(args: &[&str]) {
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .status()
        .expect("ffmpeg must be installed for these tests (scripts/test installs it)");
    assert!(status.success(), "ffmpeg {args:?} failed");
}

/// Test videos, generated once per test into a temporary directory.
struct Clips {
    dir: tempfile::TempDir,
}

impl Clips {
    fn new() -> Clips {
        let dir = tempfile::tempdir().unwrap();
        let p = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
        // A registered 12-second clip: a zooming fractal, new detail every second.
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            "mandelbrot=size=160x120:rate=25",
            "-t",
            "12",
            "-pix_fmt",
            "yuv420p",
            "-c:v",
            "libx264",
            &p("clip.mp4"),
        ]);
        // Seconds 3 to 9 of it, re-encoded smaller as WebM.
        ffmpeg(&[
            "-ss",
            "3",
            "-i",
            &p("clip.mp4"),
            "-t",
            "6",
            "-vf",
            "scale=128:96",
            "-c:v",
            "libvpx",
            "-b:v",
            "300k",
            &p("excerpt.webm"),
        ]);
        // An unrelated video.
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            "life=size=160x120:rate=25:seed=7:mold=10",
            "-t",
            "6",
            "-pix_fmt",
            "yuv420p",
            "-c:v",
            "libx264",
            &p("other.mp4"),
        ]);
        // Three seconds showing the registered logo.
        ffmpeg(&[
            "-loop",
            "1",
            "-i",
            &format!("{IMAGES}/puma-logo.png"),
            "-t",
            "3",
            "-r",
            "25",
            "-vf",
            "scale=320:-2,format=yuv420p",
            "-c:v",
            "libx264",
            &p("logo.mp4"),
        ]);
        std::fs::write(dir.path().join("broken.mp4"), {
            let mut b = std::fs::read(dir.path().join("clip.mp4")).unwrap();
            b.truncate(b.len() / 3);
            b
        })
        .unwrap();
        Clips { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn open(dir: &Path) -> App {
    let store = SqliteStore::open(&dir.join("shopshield.db")).unwrap();
    App::new(Arc::new(store), AppConfig::default(), Arc::new(SystemClock)).unwrap()
}

fn op() -> Principal {
    Principal::operator("t")
}

fn new_right(v: serde_json::Value) -> NewRight {
    serde_json::from_value(v).unwrap()
}

fn video(v: serde_json::Value) -> Video {
    serde_json::from_value(v).unwrap()
}

fn register(app: &App, clips: &Clips) {
    let clip = std::fs::read(clips.path("clip.mp4")).unwrap();
    let logo = std::fs::read(format!("{IMAGES}/puma-logo.png")).unwrap();
    app.registry()
        .import_rights(
            &op(),
            vec![
                (
                    new_right(serde_json::json!({
                        "id": "r-clip", "holder": "Fractal Films", "kind": "copyright_video",
                        "video": "clip.mp4", "regions": ["*"]
                    })),
                    Some(clip),
                ),
                (
                    new_right(serde_json::json!({
                        "id": "r-logo", "holder": "Puma", "kind": "logo", "image": "puma-logo.png",
                        "nice_classes": [18, 25], "regions": ["*"]
                    })),
                    Some(logo),
                ),
                (
                    new_right(serde_json::json!({
                        "id": "r-rolex", "holder": "Rolex", "kind": "trademark", "mark": "Rolex",
                        "nice_classes": [14], "regions": ["*"],
                        "price_floor": {"amount": 5000, "currency": "USD"}
                    })),
                    None,
                ),
            ],
        )
        .unwrap();
}

#[test]
fn videos_are_screened_with_times_and_enforced_against_the_creator() {
    let clips = Clips::new();
    let data = tempfile::tempdir().unwrap();
    let app = open(data.path());
    register(&app, &clips);
    let base = ImageBase::Dir(clips.dir.path());

    // The registered clip's frames were hashed at one per second.
    let right = app.registry().right(&op(), "r-clip").unwrap();
    let lines = right.vpdq.as_deref().unwrap();
    assert_eq!(lines.lines().count(), 12, "{lines}");

    // An excerpt of the clip, re-encoded: a copy, with both time ranges.
    let s = app
        .videos()
        .submit(
            &op(),
            video(serde_json::json!({
                "id": "v-copy", "creator_id": "c-1", "region": "US",
                "caption": "fractals!", "media": "excerpt.webm"
            })),
            base,
        )
        .unwrap();
    assert!(s.created);
    assert_eq!(s.frames, 6);
    let d = &s.decision;
    assert_eq!(d.decision_id, "video:v-copy@v1");
    assert_eq!(d.action, Action::Reject, "{d:#?}");
    let v = &d.violations[0];
    assert_eq!(v.kind, ViolationType::Copyright);
    assert_eq!(v.right_id.as_deref(), Some("r-clip"));
    assert_eq!(v.detector, "video");
    let [q0, q1] = v.evidence.time.unwrap();
    let [r0, r1] = v.evidence.reference_time.unwrap();
    assert!(q0 <= 1.0 && q1 >= 4.0, "{:?}", v.evidence);
    assert!(
        (2.0..=4.5).contains(&r0) && (7.0..=9.5).contains(&r1),
        "{:?}",
        v.evidence
    );
    assert!(v.evidence.match_percent.unwrap() >= 80.0);
    assert!(v.evidence.why.contains("of the clip"), "{}", v.evidence.why);

    // The same submission again answers the stored decision.
    let again = app
        .videos()
        .submit(
            &op(),
            video(serde_json::json!({
                "id": "v-copy", "creator_id": "c-1", "region": "US",
                "caption": "fractals!", "media": "excerpt.webm"
            })),
            base,
        )
        .unwrap();
    assert!(!again.created);
    assert_eq!(again.decision, s.decision);

    // The removal is a violation against the creator alone (no shop).
    let record = app
        .review()
        .record(
            &op(),
            &shopshield_app::enforce::Party::Creator("c-1".into()),
        )
        .unwrap();
    let json = serde_json::to_value(&record).unwrap();
    assert!(json.to_string().contains("v:video:v-copy@v1"), "{json:#}");
    assert!(record.points > 0, "{json:#}");
    let v = &record.violations[0];
    let parties = serde_json::to_value(v).unwrap().to_string();
    assert!(parties.contains("\"shop_liable\":false"), "{parties}");

    // An unrelated video with honest words is approved.
    let s = app
        .videos()
        .submit(
            &op(),
            video(serde_json::json!({
                "id": "v-life", "creator_id": "c-2", "region": "US",
                "caption": "game of life", "hashtags": ["#maths"],
                "transcript": [{"start": 0, "end": 3, "text": "cells are born and die"}],
                "media": "other.mp4"
            })),
            base,
        )
        .unwrap();
    assert_eq!(s.decision.action, Action::Approve, "{:#?}", s.decision);

    // A frame showing the registered logo: evidence names the frame's time.
    let s = app
        .videos()
        .submit(
            &op(),
            video(serde_json::json!({
                "id": "v-logo", "creator_id": "c-3", "region": "US", "media": "logo.mp4"
            })),
            base,
        )
        .unwrap();
    let v = s
        .decision
        .violations
        .iter()
        .find(|v| v.right_id.as_deref() == Some("r-logo"))
        .unwrap_or_else(|| panic!("{:#?}", s.decision));
    assert_eq!(v.kind, ViolationType::Counterfeit);
    assert!(v.evidence.time.is_some(), "{:?}", v.evidence);
    assert!(
        v.evidence.why.starts_with("The frame at 00:00:0"),
        "{}",
        v.evidence.why
    );

    // A mark said in the transcript, with counterfeit cues: rejected, and
    // the evidence points at the segment's time.
    let s = app
        .videos()
        .submit(
            &op(),
            video(serde_json::json!({
                "id": "v-talk", "creator_id": "c-4", "region": "US",
                "transcript": [
                    {"start": 0, "end": 6, "text": "welcome back everyone"},
                    {"start": 72, "end": 79, "text": "this replica Rolex is a perfect 1:1 copy"}
                ]
            })),
            base,
        )
        .unwrap();
    let v = &s.decision.violations[0];
    assert_eq!(s.decision.action, Action::Reject, "{:#?}", s.decision);
    assert_eq!(v.evidence.field.as_deref(), Some("transcript[1]"));
    assert_eq!(v.evidence.time, Some([72.0, 79.0]));
    assert!(
        v.evidence.why.contains("00:01:12–00:01:19"),
        "{}",
        v.evidence.why
    );
}

#[test]
fn bad_media_gets_a_clear_error_naming_the_field() {
    let clips = Clips::new();
    let data = tempfile::tempdir().unwrap();
    let app = open(data.path());
    let base = ImageBase::Dir(clips.dir.path());
    let submit = |v: serde_json::Value| app.videos().submit(&op(), video(v), base);

    let e = submit(serde_json::json!({
        "id": "v-1", "creator_id": "c-1", "region": "US", "media": "broken.mp4"
    }))
    .unwrap_err();
    match &e {
        AppError::Invalid(v) => {
            assert_eq!(v.field, "media");
            assert!(v.reason.contains("damaged"), "{v}");
        }
        other => panic!("{other:?}"),
    }
    let e = submit(serde_json::json!({
        "id": "v-1", "creator_id": "c-1", "region": "US", "vpdq": "0,100,zz,0.000"
    }))
    .unwrap_err();
    assert!(
        matches!(&e, AppError::Invalid(v) if v.field == "vpdq"),
        "{e:?}"
    );
    let e = submit(serde_json::json!({
        "id": "v-1", "creator_id": "c-1", "region": "US",
        "transcript": [{"start": 5, "end": 1, "text": "x"}]
    }))
    .unwrap_err();
    assert!(
        matches!(&e, AppError::Invalid(v) if v.field == "transcript[0].end"),
        "{e:?}"
    );
    // Nothing was stored for the bad submissions.
    assert!(app.videos().video(&op(), "v-1").is_err());

    // Limits: a video longer than allowed.
    let store = SqliteStore::open(&data.path().join("limits.db")).unwrap();
    let mut config = AppConfig::default();
    config.video.max_duration_seconds = 5.0;
    let app = App::new(Arc::new(store), config, Arc::new(SystemClock)).unwrap();
    let e = app
        .videos()
        .submit(
            &op(),
            video(serde_json::json!({
                "id": "v-2", "creator_id": "c-1", "region": "US", "media": "clip.mp4"
            })),
            base,
        )
        .unwrap_err();
    assert!(
        matches!(&e, AppError::Invalid(v) if v.field == "media" && v.reason.contains("limit")),
        "{e:?}"
    );
}
