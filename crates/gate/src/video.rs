//! The video detector: a video's vPDQ frame hashes against the bank of
//! registered clips (`copyright_video` rights), through the bank's frame
//! index (never a scan of every clip).
//!
//! Like the image banks, the video bank is shared by every engine and
//! updated in place by the application as rights change.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};
use shopshield_model::{
    Evidence, Region, RegionSet, Right, RightKind, Violation, ViolationType, format_time_range,
};
use shopshield_vpdq::{BankMatch, FrameHash, MatchConfig, VideoBank, VideoMatch};

use crate::content::{ContentInput, ContentUnit};
use crate::{Detector, ScreenInput};

/// vPDQ thresholds and the confidences given to matches. The matching
/// defaults are python-threatexchange's: frames of quality 50 and up, frame
/// distance at most 31, 80% of the submitted video's unique frames matched.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VideoMatchConfig {
    /// Frames of lower PDQ quality are ignored on both sides (0..=100).
    pub quality_threshold: u8,
    /// Two frames match at this Hamming distance or less (of 256 bits).
    pub distance_threshold: u32,
    /// Share of the submitted video's unique frames that must match a
    /// registered clip for a copy (percent): rejects.
    pub query_match_percent: f64,
    /// Share of the registered clip's unique frames that must be matched (percent).
    pub compared_match_percent: f64,
    /// A video that reuses a registered clip for less of its length than
    /// `query_match_percent`, but at least this share, goes to review
    /// (percent; set it equal to `query_match_percent` to switch the lane off).
    pub review_query_match_percent: f64,
    /// Confidence of a copy (at or above `query_match_percent`).
    pub copy_confidence: f64,
    /// Confidence of a partial reuse (the review lane).
    pub partial_confidence: f64,
}

impl Default for VideoMatchConfig {
    fn default() -> Self {
        VideoMatchConfig {
            quality_threshold: shopshield_vpdq::DEFAULT_QUALITY_THRESHOLD,
            distance_threshold: shopshield_vpdq::DEFAULT_DISTANCE_THRESHOLD,
            query_match_percent: shopshield_vpdq::DEFAULT_QUERY_MATCH_PERCENT,
            compared_match_percent: shopshield_vpdq::DEFAULT_COMPARED_MATCH_PERCENT,
            review_query_match_percent: 30.0,
            copy_confidence: 0.95,
            partial_confidence: 0.7,
        }
    }
}

impl VideoMatchConfig {
    /// The bank's configuration: the review lane's (lower) query share, so
    /// one indexed search finds both lanes.
    pub fn bank_config(&self) -> MatchConfig {
        MatchConfig {
            quality_threshold: self.quality_threshold,
            distance_threshold: self.distance_threshold,
            query_match_percent: self.review_query_match_percent,
            compared_match_percent: self.compared_match_percent,
        }
    }

    pub fn validate(&self) -> Result<(), String> {
        let strict = MatchConfig {
            query_match_percent: self.query_match_percent,
            ..self.bank_config()
        };
        strict.validate().map_err(|e| e.to_string())?;
        self.bank_config().validate().map_err(|e| e.to_string())?;
        if self.review_query_match_percent > self.query_match_percent {
            return Err(format!(
                "review_query_match_percent ({}) must not exceed query_match_percent ({})",
                self.review_query_match_percent, self.query_match_percent
            ));
        }
        for (name, c) in [
            ("copy_confidence", self.copy_confidence),
            ("partial_confidence", self.partial_confidence),
        ] {
            if !(c.is_finite() && (0.0..=1.0).contains(&c)) {
                return Err(format!("{name} = {c}: a confidence is between 0 and 1"));
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
struct Scope {
    regions: Vec<Region>,
    authorized: Vec<String>,
}

/// Registered clips, indexed by frame hash, with each right's scope.
pub struct VideoBanks {
    bank: VideoBank<String>,
    scopes: HashMap<String, Scope>,
}

impl std::fmt::Debug for VideoBanks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VideoBanks")
            .field("clips", &self.bank.len())
            .finish()
    }
}

/// A registered clip that cannot be put in the bank.
#[derive(Debug, thiserror::Error)]
pub enum VideoBankError {
    #[error("right {right}: the vPDQ hash list is unreadable: {reason}")]
    Unreadable { right: String, reason: String },
    #[error("right {right}: {reason}")]
    Rejected { right: String, reason: String },
}

impl VideoBanks {
    pub fn new(config: &VideoMatchConfig) -> Result<VideoBanks, String> {
        config.validate()?;
        Ok(VideoBanks {
            bank: VideoBank::new(config.bank_config()).map_err(|e| e.to_string())?,
            scopes: HashMap::new(),
        })
    }

    /// Puts a `copyright_video` right in force (or takes it out when it is
    /// disabled). Returns how many of its frames are indexed.
    pub fn upsert(&mut self, right: &Right) -> Result<usize, VideoBankError> {
        self.remove(&right.id);
        if right.kind != RightKind::CopyrightVideo || !right.enabled {
            return Ok(0);
        }
        let Some(text) = right.vpdq.as_deref() else {
            return Ok(0);
        };
        let frames = shopshield_vpdq::parse_any(text, usize::MAX).map_err(|e| {
            VideoBankError::Unreadable {
                right: right.id.clone(),
                reason: e.to_string(),
            }
        })?;
        self.bank
            .insert(right.id.clone(), &frames)
            .map_err(|e| VideoBankError::Rejected {
                right: right.id.clone(),
                reason: e.to_string(),
            })?;
        self.scopes.insert(
            right.id.clone(),
            Scope {
                regions: right.regions.clone(),
                authorized: right.authorized_sellers.clone(),
            },
        );
        Ok(frames.len())
    }

    pub fn remove(&mut self, right_id: &str) {
        self.bank.remove(&right_id.to_string());
        self.scopes.remove(right_id);
    }

    /// Registered clips in the bank.
    pub fn len(&self) -> usize {
        self.bank.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bank.is_empty()
    }

    /// Clips that match `frames` (review lane and up), best first, without scoping.
    pub fn search(&self, frames: &[FrameHash]) -> Vec<BankMatch<String>> {
        self.bank.search(frames)
    }

    fn in_scope(&self, right_id: &str, input: &ContentInput<'_>) -> bool {
        let Some(s) = self.scopes.get(right_id) else {
            return false;
        };
        let authorized =
            |id: Option<&str>| id.is_some_and(|id| s.authorized.iter().any(|a| a == id));
        s.regions.covers(input.region)
            && !authorized(input.parties.shop)
            && !authorized(input.parties.creator)
    }
}

/// Matches a video's frame hashes against the registered clips.
pub struct VideoDetector {
    banks: Arc<RwLock<VideoBanks>>,
    config: VideoMatchConfig,
}

impl VideoDetector {
    pub fn new(banks: Arc<RwLock<VideoBanks>>, config: VideoMatchConfig) -> VideoDetector {
        VideoDetector { banks, config }
    }
}

impl Detector for VideoDetector {
    fn name(&self) -> &'static str {
        "video"
    }

    /// Listings carry no video.
    fn detect(&self, _input: &ScreenInput<'_>, _out: &mut Vec<Violation>) {}

    fn detect_content(
        &self,
        input: &ContentInput<'_>,
        _units: &[ContentUnit],
        out: &mut Vec<Violation>,
    ) {
        let Some(frames) = input.video else { return };
        if frames.is_empty() {
            return;
        }
        let banks = self.banks.read().unwrap_or_else(|p| p.into_inner());
        if banks.is_empty() {
            return;
        }
        for m in banks.search(frames) {
            if !banks.in_scope(&m.key, input) {
                continue;
            }
            out.push(video_violation(&m.key, &m.result, &self.config));
        }
    }
}

/// The violation for a registered clip found in a video: which stretches
/// of the video match which stretches of the clip, and how much of each.
fn video_violation(right_id: &str, m: &VideoMatch, config: &VideoMatchConfig) -> Violation {
    let copy = m.query_match_percent >= config.query_match_percent;
    let confidence = if copy {
        config.copy_confidence
    } else {
        config.partial_confidence
    };
    let range = |r: &shopshield_vpdq::TimeRange| [r.start_seconds, r.end_seconds];
    let mut pairs: Vec<String> = m
        .pairs
        .iter()
        .take(5)
        .filter_map(|p| {
            let q = m.query_ranges.get(p.query_range)?;
            let c = m.compared_ranges.get(p.compared_range)?;
            Some(format!(
                "{} of the video matches {} of the clip",
                format_time_range(range(q)),
                format_time_range(range(c))
            ))
        })
        .collect();
    if m.pairs.len() > 5 || m.pairs_truncated {
        pairs.push(format!("{} more", m.pairs.len().saturating_sub(5).max(1)));
    }
    let (time, reference_time) = match m.pairs.first() {
        Some(p) => (
            m.query_ranges.get(p.query_range).map(range),
            m.compared_ranges.get(p.compared_range).map(range),
        ),
        None => (
            m.query_ranges.first().map(range),
            m.compared_ranges.first().map(range),
        ),
    };
    let what = if copy {
        "is a copy of"
    } else {
        "reuses part of"
    };
    Violation {
        kind: ViolationType::Copyright,
        right_id: Some(right_id.to_string()),
        rule_id: None,
        detector: "video".into(),
        confidence,
        evidence: Evidence {
            field: Some("media".into()),
            method: Some("vpdq".into()),
            distance: m.min_distance,
            time,
            reference_time,
            match_percent: Some(m.query_match_percent),
            reference_match_percent: Some(m.compared_match_percent),
            why: format!(
                "The video {what} the clip registered under right {right_id}: {}. {:.0}% of the video's {} distinct frames match the clip ({:.0}% of the clip's {}), closest frames {} bits apart of 256 (vPDQ, frames of quality {} and up, distance {} or less).",
                pairs.join("; "),
                m.query_match_percent,
                m.query_unique_frames,
                m.compared_match_percent,
                m.compared_unique_frames,
                m.min_distance.unwrap_or(0),
                config.quality_threshold,
                config.distance_threshold
            ),
            ..Evidence::default()
        },
    }
}
