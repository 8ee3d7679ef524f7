//! vPDQ matching of two videos: unique, quality-filtered frames; a frame matches when some
//! frame of the other video is within the distance threshold; the video pair matches when the
//! shares of matched frames on both sides reach their thresholds.
//!
//! Semantics and defaults follow python-threatexchange (`threatexchange/extensions/vpdq/`):
//! `vpdq_util.py` sets `VPDQ_QUALITY_THRESHOLD = 50`, `VPDQ_DISTANCE_THRESHOLD = 31`,
//! `VPDQ_QUERY_MATCH_THRESHOLD_PERCENT = 80.0` and `VPDQ_INDEX_MATCH_THRESHOLD_PERCENT = 0.0`;
//! `vpdq_brute_matcher.py` counts a frame as matched when its distance to some frame of the
//! other video is `<= distance_tolerance`, and reports `matched * 100 / unique_frames` for each
//! side; `vpdq_index.py` (`prepare_vpdq_feature`) drops frames below the quality threshold and
//! then keeps the first frame of each distinct hash. This crate uses that order (filter, then
//! deduplicate). Meta's C++ `matchTwoHashBrute` (`vpdq/cpp/vpdq/cpp/hashing/matchTwoHash.cpp`)
//! compares with a strict `<`, so its "tolerance 31" is this crate's distance threshold 30.
//!
//! Beyond the percentages, a result names the matched time ranges on both sides: the frames
//! that passed the quality filter, in frame order, with consecutive matched frames merged into
//! one range. Frames below the quality threshold are not on that timeline, so they neither
//! break nor extend a range.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use shopshield_pdq::Hash256;

use crate::frame::{FrameHash, MAX_QUALITY};

/// python-threatexchange's `VPDQ_QUALITY_THRESHOLD`: frames below this quality are ignored.
pub const DEFAULT_QUALITY_THRESHOLD: u8 = 50;
/// python-threatexchange's `VPDQ_DISTANCE_THRESHOLD`: frames match at distance `<=` this.
pub const DEFAULT_DISTANCE_THRESHOLD: u32 = 31;
/// python-threatexchange's `VPDQ_QUERY_MATCH_THRESHOLD_PERCENT`.
pub const DEFAULT_QUERY_MATCH_PERCENT: f64 = 80.0;
/// python-threatexchange's `VPDQ_INDEX_MATCH_THRESHOLD_PERCENT` (share of the compared video).
pub const DEFAULT_COMPARED_MATCH_PERCENT: f64 = 0.0;
/// At most this many range pairs are listed in a [`VideoMatch`].
pub const MAX_RANGE_PAIRS: usize = 256;

/// Matching thresholds. The default is python-threatexchange's.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MatchConfig {
    /// Frames with a lower PDQ quality are ignored on both sides (0..=100).
    pub quality_threshold: u8,
    /// Two frames match when their Hamming distance is at most this (0..=256).
    pub distance_threshold: u32,
    /// Share of the query's unique frames that must match, in percent (0..=100).
    pub query_match_percent: f64,
    /// Share of the compared (registered) video's unique frames that must match, in percent.
    pub compared_match_percent: f64,
}

impl Default for MatchConfig {
    fn default() -> Self {
        MatchConfig {
            quality_threshold: DEFAULT_QUALITY_THRESHOLD,
            distance_threshold: DEFAULT_DISTANCE_THRESHOLD,
            query_match_percent: DEFAULT_QUERY_MATCH_PERCENT,
            compared_match_percent: DEFAULT_COMPARED_MATCH_PERCENT,
        }
    }
}

/// An invalid [`MatchConfig`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// `quality_threshold` above 100.
    #[error("quality_threshold is between 0 and 100, got {0}")]
    Quality(u8),
    /// `distance_threshold` above 256.
    #[error("distance_threshold is between 0 and 256, got {0}")]
    Distance(u32),
    /// A percentage outside 0..=100 (or not a number).
    #[error("{field} is a percentage between 0 and 100, got {value}")]
    Percent {
        /// `query_match_percent` or `compared_match_percent`.
        field: &'static str,
        /// The value given.
        value: f64,
    },
    /// A bank's frames were filtered with one quality threshold and a search asked for another.
    #[error(
        "this bank keeps frames of quality >= {bank}; a search with quality_threshold {requested} needs a bank built with it"
    )]
    QualityMismatch {
        /// The bank's threshold.
        bank: u8,
        /// The threshold asked for.
        requested: u8,
    },
}

impl MatchConfig {
    /// Checks every field's range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.quality_threshold > MAX_QUALITY {
            return Err(ConfigError::Quality(self.quality_threshold));
        }
        if self.distance_threshold > 256 {
            return Err(ConfigError::Distance(self.distance_threshold));
        }
        for (field, value) in [
            ("query_match_percent", self.query_match_percent),
            ("compared_match_percent", self.compared_match_percent),
        ] {
            if !(0.0..=100.0).contains(&value) {
                return Err(ConfigError::Percent { field, value });
            }
        }
        Ok(())
    }
}

/// One sampled frame on a video's timeline (quality-filtered, in frame order).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Sample {
    frame_number: u64,
    timestamp: f64,
    /// Index into [`PreparedVideo::hashes`].
    unique: u32,
}

/// A video's frames ready for matching: frames below the quality threshold dropped, the rest
/// in frame order, and each distinct hash kept once.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedVideo {
    hashes: Vec<Hash256>,
    timeline: Vec<Sample>,
    quality_threshold: u8,
    input_frames: usize,
}

impl PreparedVideo {
    /// Filters by quality (`>= quality_threshold`), orders by frame number (stable), and
    /// deduplicates hashes (first occurrence wins).
    pub fn new(frames: &[FrameHash], quality_threshold: u8) -> PreparedVideo {
        let mut kept: Vec<&FrameHash> = frames
            .iter()
            .filter(|f| f.quality >= quality_threshold)
            .collect();
        kept.sort_by_key(|f| f.frame_number);
        let mut hashes = Vec::new();
        let mut seen: HashMap<Hash256, u32> = HashMap::with_capacity(kept.len());
        let timeline = kept
            .iter()
            .map(|f| {
                let unique = *seen.entry(f.hash).or_insert_with(|| {
                    hashes.push(f.hash);
                    (hashes.len() - 1) as u32
                });
                Sample {
                    frame_number: f.frame_number,
                    timestamp: f.timestamp,
                    unique,
                }
            })
            .collect();
        PreparedVideo {
            hashes,
            timeline,
            quality_threshold,
            input_frames: frames.len(),
        }
    }

    /// The distinct hashes of frames that passed the quality filter, in order of first
    /// appearance. These are what the percentages count.
    pub fn unique_hashes(&self) -> &[Hash256] {
        &self.hashes
    }

    /// Number of frames that passed the quality filter (with repeats).
    pub fn kept_frames(&self) -> usize {
        self.timeline.len()
    }

    /// Number of frames given to [`PreparedVideo::new`].
    pub fn input_frames(&self) -> usize {
        self.input_frames
    }

    /// The quality threshold the frames were filtered with.
    pub fn quality_threshold(&self) -> u8 {
        self.quality_threshold
    }

    /// Whether no frame passed the quality filter.
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }
}

/// A stretch of consecutive matched frames on one video's timeline.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TimeRange {
    /// Timestamp of the first matched frame, in seconds.
    pub start_seconds: f64,
    /// Timestamp of the last matched frame, in seconds (equal to the start for one frame).
    pub end_seconds: f64,
    /// Frame number of the first matched frame.
    pub start_frame: u64,
    /// Frame number of the last matched frame.
    pub end_frame: u64,
    /// Number of sampled frames in the range.
    pub frames: usize,
    /// Smallest Hamming distance from a frame in the range to the other video.
    pub min_distance: u32,
}

impl TimeRange {
    /// `"m:ss.mmm-m:ss.mmm"`, e.g. `"0:03.000-0:07.000"`, for evidence a person reads.
    pub fn describe(&self) -> String {
        format!("{}-{}", clock(self.start_seconds), clock(self.end_seconds))
    }
}

fn clock(seconds: f64) -> String {
    let ms = (seconds * 1000.0).round().max(0.0) as u64;
    let (h, rest) = (ms / 3_600_000, ms % 3_600_000);
    let (m, rest) = (rest / 60_000, rest % 60_000);
    let (s, ms) = (rest / 1000, rest % 1000);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}.{ms:03}")
    } else {
        format!("{m}:{s:02}.{ms:03}")
    }
}

/// A query range and a compared range that its frames matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RangePair {
    /// Index into [`VideoMatch::query_ranges`].
    pub query_range: usize,
    /// Index into [`VideoMatch::compared_ranges`].
    pub compared_range: usize,
    /// Smallest distance between a query frame of the range and its nearest compared frame
    /// that lies in the compared range.
    pub min_distance: u32,
}

/// The result of matching a query video against one compared (registered) video.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VideoMatch {
    /// Share of the query's unique frames with a match, in percent.
    pub query_match_percent: f64,
    /// Share of the compared video's unique frames with a match, in percent.
    pub compared_match_percent: f64,
    /// Both percentages reach their thresholds and at least one frame matched.
    pub is_match: bool,
    /// Unique frames of the query that passed the quality filter.
    pub query_unique_frames: usize,
    /// Unique frames of the compared video that passed the quality filter.
    pub compared_unique_frames: usize,
    /// Unique query frames with a match.
    pub query_matched_frames: usize,
    /// Unique compared frames with a match.
    pub compared_matched_frames: usize,
    /// Smallest distance between any matched pair of frames.
    pub min_distance: Option<u32>,
    /// Matched stretches of the query, in time order.
    pub query_ranges: Vec<TimeRange>,
    /// Matched stretches of the compared video, in time order.
    pub compared_ranges: Vec<TimeRange>,
    /// Which query range matched which compared range (through each query frame's nearest
    /// compared frame), sorted; at most [`MAX_RANGE_PAIRS`].
    pub pairs: Vec<RangePair>,
    /// More pairs existed than [`MAX_RANGE_PAIRS`].
    pub pairs_truncated: bool,
}

/// Per unique frame: the nearest frame of the other video within the threshold, as
/// `(distance, other's unique index)`, smallest distance first, then smallest index.
pub(crate) type Best = Vec<Option<(u32, u32)>>;

#[inline]
pub(crate) fn improve(slot: &mut Option<(u32, u32)>, candidate: (u32, u32)) {
    match slot {
        Some(cur) if *cur <= candidate => {}
        _ => *slot = Some(candidate),
    }
}

/// Matches two videos by comparing every unique frame pair (the reference semantics; use a
/// [`crate::VideoBank`] to match against many videos). Fails only for an invalid config.
pub fn compare(
    query: &[FrameHash],
    compared: &[FrameHash],
    config: &MatchConfig,
) -> Result<VideoMatch, ConfigError> {
    config.validate()?;
    let q = PreparedVideo::new(query, config.quality_threshold);
    let c = PreparedVideo::new(compared, config.quality_threshold);
    Ok(compare_prepared(&q, &c, config))
}

/// [`compare`] on videos already prepared (with `config.quality_threshold`; the
/// configuration is assumed valid).
pub fn compare_prepared(
    query: &PreparedVideo,
    compared: &PreparedVideo,
    config: &MatchConfig,
) -> VideoMatch {
    let (q_best, c_best) = nearest_pairs(query, compared, config.distance_threshold);
    assemble(query, compared, &q_best, &c_best, config)
}

/// For every unique frame of each side, its nearest frame on the other side within
/// `distance`, by comparing every pair.
pub(crate) fn nearest_pairs(
    query: &PreparedVideo,
    compared: &PreparedVideo,
    distance: u32,
) -> (Best, Best) {
    let mut q_best: Best = vec![None; query.hashes.len()];
    let mut c_best: Best = vec![None; compared.hashes.len()];
    for (i, qh) in query.hashes.iter().enumerate() {
        for (j, ch) in compared.hashes.iter().enumerate() {
            let d = qh.distance(ch);
            if d <= distance {
                improve(&mut q_best[i], (d, j as u32));
                improve(&mut c_best[j], (d, i as u32));
            }
        }
    }
    (q_best, c_best)
}

/// Merges consecutive matched samples into ranges; also returns, per sample, the index of
/// its range.
fn ranges(video: &PreparedVideo, best: &Best) -> (Vec<TimeRange>, Vec<Option<usize>>) {
    let mut out: Vec<TimeRange> = Vec::new();
    let mut of_sample = Vec::with_capacity(video.timeline.len());
    let mut open = false;
    for s in &video.timeline {
        match best[s.unique as usize] {
            Some((d, _)) => {
                if open {
                    if let Some(r) = out.last_mut() {
                        r.end_seconds = s.timestamp;
                        r.end_frame = s.frame_number;
                        r.frames += 1;
                        r.min_distance = r.min_distance.min(d);
                    }
                } else {
                    out.push(TimeRange {
                        start_seconds: s.timestamp,
                        end_seconds: s.timestamp,
                        start_frame: s.frame_number,
                        end_frame: s.frame_number,
                        frames: 1,
                        min_distance: d,
                    });
                    open = true;
                }
                of_sample.push(Some(out.len() - 1));
            }
            None => {
                open = false;
                of_sample.push(None);
            }
        }
    }
    (out, of_sample)
}

fn percent(matched: usize, total: usize) -> f64 {
    if total == 0 {
        0.0
    } else {
        matched as f64 * 100.0 / total as f64
    }
}

/// Builds the result from the nearest-frame tables of both sides.
pub(crate) fn assemble(
    query: &PreparedVideo,
    compared: &PreparedVideo,
    q_best: &Best,
    c_best: &Best,
    config: &MatchConfig,
) -> VideoMatch {
    let query_matched_frames = q_best.iter().filter(|b| b.is_some()).count();
    let compared_matched_frames = c_best.iter().filter(|b| b.is_some()).count();
    let query_match_percent = percent(query_matched_frames, query.hashes.len());
    let compared_match_percent = percent(compared_matched_frames, compared.hashes.len());
    let min_distance = q_best.iter().flatten().map(|(d, _)| *d).min();
    let (query_ranges, q_range_of) = ranges(query, q_best);
    let (compared_ranges, c_range_of) = ranges(compared, c_best);

    // Compared unique frame -> the ranges its occurrences fall in.
    let mut ranges_of_unique: Vec<Vec<usize>> = vec![Vec::new(); compared.hashes.len()];
    for (s, r) in compared.timeline.iter().zip(&c_range_of) {
        if let Some(r) = r {
            let list = &mut ranges_of_unique[s.unique as usize];
            if list.last() != Some(r) {
                list.push(*r);
            }
        }
    }
    let mut pair_dist: HashMap<(usize, usize), u32> = HashMap::new();
    for (s, r) in query.timeline.iter().zip(&q_range_of) {
        let (Some(qr), Some((d, j))) = (r, q_best[s.unique as usize]) else {
            continue;
        };
        for &cr in &ranges_of_unique[j as usize] {
            let e = pair_dist.entry((*qr, cr)).or_insert(d);
            *e = (*e).min(d);
        }
    }
    let mut pairs: Vec<RangePair> = pair_dist
        .into_iter()
        .map(|((query_range, compared_range), min_distance)| RangePair {
            query_range,
            compared_range,
            min_distance,
        })
        .collect();
    pairs.sort_unstable_by_key(|p| (p.query_range, p.compared_range));
    let pairs_truncated = pairs.len() > MAX_RANGE_PAIRS;
    pairs.truncate(MAX_RANGE_PAIRS);

    let is_match = query_matched_frames > 0
        && query_match_percent >= config.query_match_percent
        && compared_match_percent >= config.compared_match_percent;
    VideoMatch {
        query_match_percent,
        compared_match_percent,
        is_match,
        query_unique_frames: query.hashes.len(),
        compared_unique_frames: compared.hashes.len(),
        query_matched_frames,
        compared_matched_frames,
        min_distance,
        query_ranges,
        compared_ranges,
        pairs,
        pairs_truncated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(n: u64, q: u8, h: Hash256) -> FrameHash {
        FrameHash {
            frame_number: n,
            quality: q,
            hash: h,
            timestamp: n as f64,
        }
    }

    fn flip(h: Hash256, bits: usize) -> Hash256 {
        let mut out = h;
        for k in 0..bits {
            out.0[k / 64] ^= 1 << (k % 64);
        }
        out
    }

    #[test]
    fn config_validation() {
        assert!(MatchConfig::default().validate().is_ok());
        let bad = |c: MatchConfig| c.validate().unwrap_err();
        let d = MatchConfig::default();
        assert_eq!(
            bad(MatchConfig {
                quality_threshold: 101,
                ..d
            }),
            ConfigError::Quality(101)
        );
        assert_eq!(
            bad(MatchConfig {
                distance_threshold: 257,
                ..d
            }),
            ConfigError::Distance(257)
        );
        assert!(matches!(
            bad(MatchConfig {
                query_match_percent: f64::NAN,
                ..d
            }),
            ConfigError::Percent {
                field: "query_match_percent",
                ..
            }
        ));
        assert!(matches!(
            bad(MatchConfig {
                compared_match_percent: 100.5,
                ..d
            }),
            ConfigError::Percent {
                field: "compared_match_percent",
                ..
            }
        ));
    }

    #[test]
    fn distance_threshold_is_inclusive_and_quality_filters() {
        let a = Hash256([1, 2, 3, 4]);
        let q = [frame(0, 100, a)];
        let cfg = MatchConfig::default();
        let at31 = compare(&q, &[frame(0, 100, flip(a, 31))], &cfg).unwrap();
        assert_eq!(at31.query_match_percent, 100.0);
        assert_eq!(at31.min_distance, Some(31));
        assert!(at31.is_match);
        let at32 = compare(&q, &[frame(0, 100, flip(a, 32))], &cfg).unwrap();
        assert_eq!(at32.query_match_percent, 0.0);
        assert!(!at32.is_match);
        // Quality 49 is dropped, 50 is kept.
        let low = compare(&q, &[frame(0, 49, a)], &cfg).unwrap();
        assert_eq!(low.compared_unique_frames, 0);
        assert!(!low.is_match);
        let ok = compare(&q, &[frame(0, 50, a)], &cfg).unwrap();
        assert!(ok.is_match);
    }

    #[test]
    fn percentages_count_unique_frames_and_ranges_merge() {
        let hs: Vec<Hash256> = (0..6u64)
            .map(|i| Hash256([i.wrapping_mul(0x9e37_79b9_7f4a_7c15); 4]))
            .collect();
        // Query: frames 0..=5 are h0 h0 h1 h2 h4 h5; compared has h1 h2 h5 (near copies).
        let query: Vec<FrameHash> = [0, 0, 1, 2, 4, 5]
            .iter()
            .enumerate()
            .map(|(n, &k)| frame(n as u64, 100, hs[k]))
            .collect();
        let compared = vec![
            frame(10, 100, flip(hs[1], 3)),
            frame(11, 100, flip(hs[2], 4)),
            frame(12, 100, hs[3]),
            frame(13, 100, hs[5]),
        ];
        let m = compare(&query, &compared, &MatchConfig::default()).unwrap();
        // Unique query frames: h0 h1 h2 h4 h5 -> 3 of 5 matched.
        assert_eq!(m.query_unique_frames, 5);
        assert_eq!(m.query_matched_frames, 3);
        assert_eq!(m.query_match_percent, 60.0);
        assert_eq!(m.compared_match_percent, 75.0);
        assert!(!m.is_match, "60% of the query is below 80%");
        let q: Vec<(u64, u64, u32)> = m
            .query_ranges
            .iter()
            .map(|r| (r.start_frame, r.end_frame, r.min_distance))
            .collect();
        assert_eq!(q, vec![(2, 3, 3), (5, 5, 0)]);
        let c: Vec<(u64, u64)> = m
            .compared_ranges
            .iter()
            .map(|r| (r.start_frame, r.end_frame))
            .collect();
        assert_eq!(c, vec![(10, 11), (13, 13)]);
        assert_eq!(
            m.pairs,
            vec![
                RangePair {
                    query_range: 0,
                    compared_range: 0,
                    min_distance: 3
                },
                RangePair {
                    query_range: 1,
                    compared_range: 1,
                    min_distance: 0
                }
            ]
        );
        assert_eq!(m.query_ranges[0].describe(), "0:02.000-0:03.000");
    }

    #[test]
    fn empty_sides_never_match() {
        let cfg = MatchConfig {
            query_match_percent: 0.0,
            ..MatchConfig::default()
        };
        let a = [frame(0, 100, Hash256([7; 4]))];
        let m = compare(&a, &[], &cfg).unwrap();
        assert_eq!(
            (m.query_match_percent, m.compared_match_percent),
            (0.0, 0.0)
        );
        assert!(!m.is_match);
        let unrelated = [frame(0, 100, Hash256([!7; 4]))];
        assert!(!compare(&a, &unrelated, &cfg).unwrap().is_match);
    }

    #[test]
    fn clock_format() {
        assert_eq!(clock(0.0), "0:00.000");
        assert_eq!(clock(61.0333), "1:01.033");
        assert_eq!(clock(3725.5), "1:02:05.500");
    }
}
