//! Content screening: transcripts and captions through the listing
//! detectors with time locators, and registered clips through the vPDQ bank.

use std::sync::{Arc, RwLock};

use chrono::{TimeZone, Utc};
use shopshield_gate::{
    Action, ContentInput, ContentKind, EngineBuilder, GateConfig, Parties, TextDetector, TextField,
    VideoBanks, VideoDetector, VideoMatchConfig,
};
use shopshield_model::{NewRight, Region, Right, ViolationType};
use shopshield_vpdq::{FrameHash, Hash256, format_hash_list};

fn right(json: &str) -> Right {
    let new: NewRight = serde_json::from_str(json).unwrap();
    new.validate().unwrap();
    Right::from_new(new, "h".into(), Utc.timestamp_opt(0, 0).unwrap())
}

/// A pseudo-random hash per seed (xorshift), far from every other seed's.
fn scene(seed: u64) -> Hash256 {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut w = [0u64; 4];
    for x in &mut w {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        *x = s;
    }
    Hash256(w)
}

/// One frame a second, one scene per second from `seeds`, starting at `t0`.
fn clip(seeds: impl IntoIterator<Item = u64>, t0: u64) -> Vec<FrameHash> {
    seeds
        .into_iter()
        .enumerate()
        .map(|(i, s)| FrameHash {
            frame_number: (t0 + i as u64) * 25,
            quality: 100,
            hash: scene(s),
            timestamp: (t0 + i as u64) as f64,
        })
        .collect()
}

fn input<'a>(
    texts: &'a [TextField],
    video: Option<&'a [FrameHash]>,
    creator: &'a str,
) -> ContentInput<'a> {
    ContentInput {
        kind: ContentKind::Video,
        id: "v-1",
        parties: Parties {
            shop: None,
            creator: Some(creator),
        },
        region: Region::parse("region", "US").unwrap(),
        texts,
        frames: &[],
        video,
        qualifications: &[],
        now: Utc.timestamp_opt(1_700_000_000, 0).unwrap(),
    }
}

fn engine(rights: &[Right]) -> shopshield_gate::Engine {
    let config = VideoMatchConfig::default();
    let mut banks = VideoBanks::new(&config).unwrap();
    for r in rights {
        banks.upsert(r).unwrap();
    }
    let matcher =
        shopshield_text::MarkMatcher::build(rights, &shopshield_text::TextConfig::default())
            .unwrap();
    EngineBuilder::new(1, GateConfig::default())
        .detector(TextDetector::new(matcher))
        .detector(VideoDetector::new(Arc::new(RwLock::new(banks)), config))
        .build()
}

fn segment(i: usize, text: &str, t: [f64; 2]) -> TextField {
    TextField {
        field: format!("transcript[{i}]"),
        label: "the transcript".into(),
        text: text.into(),
        time: Some(t),
    }
}

#[test]
fn a_mark_in_the_transcript_is_evidence_at_its_time() {
    let rolex = right(
        r#"{"id":"r-rolex","holder":"Rolex","kind":"trademark","mark":"Rolex","nice_classes":[14],"regions":["*"],"price_floor":{"amount":5000,"currency":"USD"}}"#,
    );
    let engine = engine(&[rolex]);
    let texts = [
        segment(0, "hi everyone, welcome back to the channel", [0.0, 5.0]),
        segment(
            1,
            "today I have a replica Rolex for you, fake but 1:1",
            [72.0, 79.0],
        ),
        TextField {
            field: "caption".into(),
            label: "the caption".into(),
            text: "my favourite watches".into(),
            time: None,
        },
    ];
    let v = engine.screen_content(&input(&texts, None, "c-1"));
    assert_eq!(v.action, Action::Reject, "{v:#?}");
    let top = &v.violations[0];
    assert_eq!(top.right_id.as_deref(), Some("r-rolex"));
    assert_eq!(top.evidence.field.as_deref(), Some("transcript[1]"));
    assert_eq!(top.evidence.time, Some([72.0, 79.0]));
    assert!(
        top.evidence.why.contains("00:01:12–00:01:19"),
        "{}",
        top.evidence.why
    );
    // The span points into the segment as spoken.
    let [a, b] = top.evidence.span.unwrap();
    assert_eq!(&texts[1].text[a..b], "Rolex");

    // Honest content is approved.
    let honest = [segment(0, "how I clean my watch strap", [0.0, 4.0])];
    let v = engine.screen_content(&input(&honest, None, "c-1"));
    assert_eq!(v.action, Action::Approve, "{v:#?}");
}

#[test]
fn a_reused_clip_is_found_with_time_ranges_on_both_sides() {
    // A registered 20-second clip.
    let registered = clip(1000..1020, 0);
    let mut clip_right = right(
        r#"{"id":"r-clip","holder":"Studio","kind":"copyright_video","vpdq":"x","regions":["*"]}"#,
    );
    clip_right.vpdq = Some(format_hash_list(&registered));
    let engine = engine(&[clip_right]);

    // A video that is seconds 5..15 of the clip: a copy (100% of the video).
    let copy = clip(1005..1015, 0);
    let v = engine.screen_content(&input(&[], Some(&copy), "c-2"));
    assert_eq!(v.action, Action::Reject, "{v:#?}");
    let e = &v.violations[0].evidence;
    assert_eq!(v.violations[0].kind, ViolationType::Copyright);
    assert_eq!(e.time, Some([0.0, 9.0]));
    assert_eq!(e.reference_time, Some([5.0, 14.0]));
    assert_eq!(e.match_percent, Some(100.0));
    assert_eq!(e.reference_match_percent, Some(50.0));
    assert!(
        e.why
            .contains("00:00:00–00:00:09 of the video matches 00:00:05–00:00:14 of the clip"),
        "{}",
        e.why
    );

    // A 20-second video with 8 seconds of the clip in its middle: reused
    // in part (40% of the video, under 80%): review.
    let mut partial = clip(5000..5006, 0);
    partial.extend(clip(1002..1010, 6));
    partial.extend(clip(6000..6006, 14));
    let v = engine.screen_content(&input(&[], Some(&partial), "c-2"));
    assert_eq!(v.action, Action::Review, "{v:#?}");
    let e = &v.violations[0].evidence;
    assert_eq!(e.time, Some([6.0, 13.0]));
    assert_eq!(e.reference_time, Some([2.0, 9.0]));

    // An unrelated video: nothing.
    let other = clip(7000..7030, 0);
    let v = engine.screen_content(&input(&[], Some(&other), "c-2"));
    assert_eq!(v.action, Action::Approve, "{v:#?}");
}

#[test]
fn an_authorised_creator_may_reuse_the_clip() {
    let registered = clip(1..11, 0);
    let mut r = right(
        r#"{"id":"r-clip","holder":"Studio","kind":"copyright_video","vpdq":"x","regions":["*"],"authorized_sellers":["c-partner"]}"#,
    );
    r.vpdq = Some(format_hash_list(&registered));
    let engine = engine(&[r]);
    let v = engine.screen_content(&input(&[], Some(&registered), "c-partner"));
    assert_eq!(v.action, Action::Approve, "{v:#?}");
    let v = engine.screen_content(&input(&[], Some(&registered), "c-other"));
    assert_eq!(v.action, Action::Reject, "{v:#?}");
}
