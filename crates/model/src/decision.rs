use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What the gate does with a listing.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// The listing goes live.
    Approve,
    /// A human reviewer decides.
    Review,
    /// The listing does not go live.
    Reject,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Approve => "approve",
            Action::Review => "review",
            Action::Reject => "reject",
        }
    }
}

/// The kind of harm a violation describes.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ViolationType {
    /// Use of someone else's mark.
    Trademark,
    /// A fake of a branded product.
    Counterfeit,
    /// Use of a copyrighted image.
    Copyright,
    /// Goods that may not be sold in the region.
    Prohibited,
    /// Goods that need a qualification the seller lacks.
    Restricted,
}

impl ViolationType {
    pub const ALL: [ViolationType; 5] = [
        ViolationType::Trademark,
        ViolationType::Counterfeit,
        ViolationType::Copyright,
        ViolationType::Prohibited,
        ViolationType::Restricted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ViolationType::Trademark => "trademark",
            ViolationType::Counterfeit => "counterfeit",
            ViolationType::Copyright => "copyright",
            ViolationType::Prohibited => "prohibited",
            ViolationType::Restricted => "restricted",
        }
    }
}

/// Why a violation was found: enough for a seller to see what was matched,
/// where, against which right or rule, and how.
///
/// Only `why` is always present; each detector fills the fields that apply.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Evidence {
    /// The listing field the evidence is in: `title`, `description`,
    /// `brand`, `price`, `images[0]`...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Byte offsets `[start, end)` into that field's original UTF-8 text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span: Option<[usize; 2]>,
    /// The text at `span`, exactly as the seller wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The registered mark (or alias) that matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mark: Option<String>,
    /// How it matched: `exact`, `homoglyph`, `leet`, `edit distance 1`...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Counterfeit cue words found near the mark.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cues: Vec<String>,
    /// Listing price divided by the right's price floor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_ratio: Option<f64>,
    /// Hamming distance between the image hash and the registered hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distance: Option<u32>,
    /// Which dihedral variant of the listing image matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// A logo found inside a photo: where its registered artwork lies, as
    /// four corners `[x, y]` in the photo's pixels (the artwork's top-left,
    /// top-right, bottom-right and bottom-left; turned or skewed with it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quad: Option<[[f32; 2]; 4]>,
    /// The size `[width, height]` in pixels of the photo `quad` is in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_size: Option<[u32; 2]>,
    /// PDQ quality of the listing image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<u8>,
    /// PDQ quality of the registered image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_quality: Option<u8>,
    /// Policy pack and version that produced a policy violation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pack: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pack_version: Option<String>,
    /// The law or public policy a rule follows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub citation: Option<String>,
    /// The qualification a restricted item needs and the seller lacks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qualification: Option<String>,
    /// Where in a video or livestream the evidence is: `[start, end]` in
    /// seconds from its start (a frame: start = end).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<[f64; 2]>,
    /// The matching time range of the registered clip, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_time: Option<[f64; 2]>,
    /// vPDQ: share of the submitted video's unique frames that match the
    /// registered clip, in percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_percent: Option<f64>,
    /// vPDQ: share of the registered clip's unique frames matched, in percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_match_percent: Option<f64>,
    /// A sentence a seller can read.
    pub why: String,
}

/// `h:mm:ss` (or `m:ss` under an hour) with tenths when not whole: how
/// evidence names a moment in a video or livestream.
pub fn format_time(seconds: f64) -> String {
    let s = if seconds.is_finite() && seconds > 0.0 {
        seconds
    } else {
        0.0
    };
    let tenths = (s * 10.0).round() as u64;
    let (whole, frac) = (tenths / 10, tenths % 10);
    let (h, m, sec) = (whole / 3600, (whole / 60) % 60, whole % 60);
    let mut out = format!("{h:02}:{m:02}:{sec:02}");
    if frac != 0 {
        out.push_str(&format!(".{frac}"));
    }
    out
}

/// `00:01:12–00:01:19`, or one time when start and end are equal.
pub fn format_time_range(range: [f64; 2]) -> String {
    let (a, b) = (format_time(range[0]), format_time(range[1]));
    if a == b { a } else { format!("{a}–{b}") }
}

/// One problem the gate found with a listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Violation {
    #[serde(rename = "type")]
    pub kind: ViolationType,
    /// The right infringed, for IP violations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub right_id: Option<String>,
    /// The policy rule broken, for policy violations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_id: Option<String>,
    /// The detector that found it.
    pub detector: String,
    /// How sure the detector is, 0 to 1.
    pub confidence: f64,
    pub evidence: Evidence,
}

/// The gate's answer about one version of a listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Decision {
    /// The listing id.
    pub id: String,
    /// `{listing id}@v{version}`.
    pub decision_id: String,
    /// Version of the listing this decision is about (1 for the first submission).
    pub listing_version: u32,
    pub action: Action,
    /// Combined evidence score, 0 to 1.
    pub score: f64,
    pub violations: Vec<Violation>,
    /// Version of the rights registry used.
    pub registry_version: u64,
    /// Versions of the policy packs used, by pack name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub policy_versions: BTreeMap<String, String>,
    pub decided_at: DateTime<Utc>,
    /// What produced the decision: screening before listing, a sweep after
    /// a right or rule changed, or a rights holder's notice.
    #[serde(default)]
    pub source: DecisionSource,
    /// For a decision taken after listing: what changed (the right or rule
    /// and its version, or the notice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<Box<Cause>>,
}

/// What produced a decision.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum DecisionSource {
    /// Screening at submission, before the listing went live.
    #[default]
    Screen,
    /// A sweep of live listings after a right or a rule changed.
    Sweep,
    /// A rights holder's notice accepted by a reviewer (the takedown), or
    /// the restoration after the seller's counter-notice.
    Notice,
}

impl DecisionSource {
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionSource::Screen => "screen",
            DecisionSource::Sweep => "sweep",
            DecisionSource::Notice => "notice",
        }
    }

    /// Taken after the listing went live (a takedown, not a pre-listing
    /// rejection).
    pub fn is_after_listing(self) -> bool {
        self != DecisionSource::Screen
    }
}

/// What changed, for a decision taken after listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Cause {
    /// `right_created`, `right_enabled`, `right_disabled`, `policy_reloaded`,
    /// `rule_effective`, `notice`, `counter_notice`, `self_service_removal`
    /// (a notice from a holder with self-service removal, before review),
    /// `notice_rejected` (that removal undone by a reviewer),
    /// `authorization_approved`, `authorization_revoked`, `logo_search`
    /// (the search for logos inside the photos, run after listing).
    pub change: String,
    /// The right that changed (or that a notice relies on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub right_id: Option<String>,
    /// The one shop a change concerns (an authorisation of that shop on the
    /// right): only its listings are looked at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shop_id: Option<String>,
    /// The rules that changed, with their pack.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rule_ids: Vec<String>,
    /// The version of what changed: the registry version of the right's
    /// change, or the pack versions (`pack@version`).
    pub version: String,
    /// The sweep or notice that took the decision.
    pub by: String,
    /// A sentence a seller can read.
    pub why: String,
}

impl Cause {
    /// The change of a takedown on a self-service notice, before review.
    pub const SELF_SERVICE_REMOVAL: &'static str = "self_service_removal";
}

impl Decision {
    /// A provisional removal: the listing is taken down at once on a
    /// self-service notice, but nothing is recorded against anyone until a
    /// reviewer accepts the notice (a rejection puts the listing back).
    pub fn is_provisional(&self) -> bool {
        self.action == Action::Reject
            && self
                .cause
                .as_ref()
                .is_some_and(|c| c.change == Cause::SELF_SERVICE_REMOVAL)
    }

    pub fn decision_id(listing_id: &str, version: u32) -> String {
        format!("{listing_id}@v{version}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_like_a_player() {
        assert_eq!(format_time(72.0), "00:01:12");
        assert_eq!(format_time(31.0), "00:00:31");
        assert_eq!(format_time(3725.5), "01:02:05.5");
        assert_eq!(format_time(-1.0), "00:00:00");
        assert_eq!(format_time_range([72.0, 79.0]), "00:01:12–00:01:19");
        assert_eq!(format_time_range([31.0, 31.0]), "00:00:31");
    }
}
