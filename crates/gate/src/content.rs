//! Screening content beyond listings: short videos and livestream windows.
//!
//! A [`ContentInput`] is general: text fields with time locators (a
//! caption, hashtags, transcript segments), images or frames with times, a
//! video's vPDQ frame hashes, and the parties (shop, creator, host). The
//! engine turns it once into listing-shaped [`ContentUnit`]s (one per text
//! field, one for all the frames), so every listing detector (marks, logos
//! and photos, region policy) screens videos and streams unchanged; their
//! evidence is then relabelled with the field and the time it points at
//! ("the transcript at 00:01:12–00:01:19", "the frame at 00:00:31"). A
//! detector that understands content natively (the vPDQ detector) overrides
//! [`crate::Detector::detect_content`].

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use shopshield_model::{
    Category, Listing, Qualification, Region, Violation, format_time, format_time_range,
};
use shopshield_text::NormalizedFields;
use shopshield_vpdq::FrameHash;

use crate::{Detector, ImageSignal, ScreenInput};

/// What kind of content is screened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContentKind {
    Video,
    Stream,
}

impl ContentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ContentKind::Video => "video",
            ContentKind::Stream => "stream",
        }
    }
}

/// Who is behind the content. Points and penalties apply to them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Parties<'a> {
    /// The shop whose products are shown, if any.
    pub shop: Option<&'a str>,
    /// The creator who made the video, or the host of the stream.
    pub creator: Option<&'a str>,
}

/// A piece of text in the content and where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct TextField {
    /// `caption`, `hashtags`, `transcript[3]`...
    pub field: String,
    /// What a person reads: `the caption`, `the transcript`.
    pub label: String,
    pub text: String,
    /// Seconds from the start: `[start, end]`, when the text has a time.
    pub time: Option<[f64; 2]>,
}

/// A frame (or image) of the content, decoded and hashed, with its time.
#[derive(Debug, Clone)]
pub struct Frame {
    /// Its `field` names it as evidence does: `frames[3]`.
    pub signal: ImageSignal,
    /// Seconds from the start.
    pub time: f64,
}

/// Everything screened about one video or stream window.
#[derive(Debug, Clone, Copy)]
pub struct ContentInput<'a> {
    pub kind: ContentKind,
    /// The video's or stream's id.
    pub id: &'a str,
    pub parties: Parties<'a>,
    pub region: Region,
    pub texts: &'a [TextField],
    pub frames: &'a [Frame],
    /// The video's vPDQ frame hashes (absent for a stream window).
    pub video: Option<&'a [FrameHash]>,
    /// The shop's qualifications.
    pub qualifications: &'a [Qualification],
    pub now: DateTime<Utc>,
}

/// Where a unit's evidence points.
#[derive(Debug, Clone)]
enum Locator {
    Text {
        field: String,
        label: String,
        time: Option<[f64; 2]>,
    },
    Frames(Vec<(String, f64)>),
}

/// One listing-shaped view of the content, built once per screening and
/// shown to every listing detector.
#[derive(Debug, Clone)]
pub struct ContentUnit {
    listing: Listing,
    normalized: NormalizedFields,
    images: Vec<ImageSignal>,
    locator: Locator,
}

/// Content is not sold in one category: every Nice class applies, so a
/// mark registered in any class is looked for.
static ANY_GOODS: LazyLock<Category> = LazyLock::new(|| Category {
    id: "content".into(),
    name: "Content (video or livestream)".into(),
    nice: (1..=45).collect(),
});

fn listing_for(input: &ContentInput<'_>, title: String, images: usize) -> Listing {
    let shop = input
        .parties
        .shop
        .or(input.parties.creator)
        .unwrap_or(input.id);
    let mut listing = Listing {
        id: input.id.to_string(),
        shop_id: shop.to_string(),
        creator_id: input.parties.creator.map(str::to_string),
        region: input.region,
        category: ANY_GOODS.id.clone(),
        title,
        description: None,
        brand: None,
        price: None,
        images: Vec::new(),
        extra: serde_json::Map::new(),
    };
    listing.images = (0..images).map(|i| format!("frames[{i}]")).collect();
    listing
}

/// The listing-shaped units of `input`: one per non-empty text field, and
/// one holding every frame.
pub fn units(input: &ContentInput<'_>) -> Vec<ContentUnit> {
    let mut out = Vec::with_capacity(input.texts.len() + 1);
    for t in input.texts {
        if t.text.trim().is_empty() {
            continue;
        }
        let listing = listing_for(input, t.text.clone(), 0);
        out.push(ContentUnit {
            normalized: NormalizedFields::new(&listing),
            listing,
            images: Vec::new(),
            locator: Locator::Text {
                field: t.field.clone(),
                label: t.label.clone(),
                time: t.time,
            },
        });
    }
    if !input.frames.is_empty() {
        let listing = listing_for(input, String::new(), input.frames.len());
        out.push(ContentUnit {
            normalized: NormalizedFields::default(),
            listing,
            images: input.frames.iter().map(|f| f.signal.clone()).collect(),
            locator: Locator::Frames(
                input
                    .frames
                    .iter()
                    .map(|f| (f.signal.field.clone(), f.time))
                    .collect(),
            ),
        });
    }
    out
}

/// Runs a listing detector over every unit and relabels what it finds.
pub fn through_listings<D: Detector + ?Sized>(
    detector: &D,
    input: &ContentInput<'_>,
    units: &[ContentUnit],
    out: &mut Vec<Violation>,
) {
    let mut found = Vec::new();
    for unit in units {
        found.clear();
        detector.detect(
            &ScreenInput {
                listing: &unit.listing,
                category: &ANY_GOODS,
                normalized: &unit.normalized,
                images: &unit.images,
                qualifications: input.qualifications,
                now: input.now,
            },
            &mut found,
        );
        for mut v in found.drain(..) {
            relabel(&mut v, &unit.locator);
            out.push(v);
        }
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn relabel(v: &mut Violation, locator: &Locator) {
    let e = &mut v.evidence;
    match locator {
        Locator::Text { field, label, time } => {
            let place = match time {
                Some(t) => format!("{label} at {}", format_time_range(*t)),
                None => label.clone(),
            };
            let replaced = e
                .why
                .replacen("The title", &capitalised(&place), 1)
                .replacen("the title", &place, 1);
            e.why = if replaced != e.why {
                replaced
            } else {
                format!("{}: {}", capitalised(&place), e.why)
            };
            e.field = Some(field.clone());
            e.time = *time;
        }
        Locator::Frames(frames) => {
            let Some(field) = e.field.clone() else { return };
            let Some((_, t)) = frames.iter().find(|(f, _)| *f == field) else {
                return;
            };
            e.time = Some([*t, *t]);
            let place = format!("the frame at {} ({t:.1} s)", format_time(*t));
            let replaced = e.why.replacen(&field, &place, 1);
            e.why = if replaced != e.why {
                capitalised(&replaced)
            } else {
                format!("{}: {}", capitalised(&place), e.why)
            };
        }
    }
}

/// Keeps the strongest violation per (type, right, rule): a mark said in
/// ten transcript segments is one violation, with the strongest evidence
/// (the earliest among equals).
pub fn strongest_per_subject(found: &mut Vec<Violation>) {
    found.sort_by(|a, b| {
        (a.kind, &a.right_id, &a.rule_id)
            .cmp(&(b.kind, &b.right_id, &b.rule_id))
            .then_with(|| b.confidence.total_cmp(&a.confidence))
            .then_with(|| {
                let t = |v: &Violation| v.evidence.time.map_or(f64::INFINITY, |t| t[0]);
                t(a).total_cmp(&t(b))
            })
    });
    found.dedup_by(|later, first| {
        later.kind == first.kind
            && later.right_id == first.right_id
            && later.rule_id == first.rule_id
    });
}
