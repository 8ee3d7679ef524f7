//! vPDQ, Meta's video similarity hash: a video is the list of PDQ hashes of sampled frames,
//! each with its frame number, PDQ quality and timestamp. Pure library code: no file,
//! process or network I/O (decoding lives in `shopshield-media`).
//!
//! * [`FrameHash`] and its text form, Meta's line format `frameNumber,quality,pdqHex,timestamp`
//!   ([`parse_hash_list`], [`format_hash_list`]); python-threatexchange's JSON signal form is
//!   read too ([`parse_threatexchange_json`], [`parse_any`]).
//! * [`compare`]: the vPDQ match of two videos, returning the query-match and compared-match
//!   percentages and the matched time ranges on both sides.
//! * [`VideoBank`]: registered videos indexed by frame hash (an exact Hamming-radius index,
//!   not a scan of the bank).
//!
//! # Sources
//!
//! Read in Meta's ThreatExchange repository (github.com/facebook/ThreatExchange, snapshot of
//! 2026-07-17, commit `baefb4ed67b6`); this crate's code is written from these descriptions:
//!
//! * `vpdq/README.md`: the algorithm (unique frames, quality filter `F`, distance `D`, query
//!   and compared match percentages) and the suggestion to index frames for candidate lookup.
//! * `vpdq/cpp/vpdq/cpp/hashing/vpdqHashType.h`: the frame feature (hash, frame number,
//!   quality, timestamp).
//! * `vpdq/cpp/vpdq/cpp/io/vpdqio.cpp`: the line format and its three-decimal timestamp.
//! * `vpdq/cpp/vpdq/cpp/hashing/matchTwoHash.cpp`: the C++ brute-force matcher (distance
//!   compared with a strict `<`).
//! * `vpdq/cpp/vpdq/cpp/hashing/filehasher.cpp` and `hasher.h`: which frames are hashed
//!   (every `int(seconds_per_hash * frame_rate)`-th decoded frame) and the timestamp
//!   (`float(frame_number) / float(frame_rate)`); used by `shopshield-media`.
//! * `python-threatexchange/threatexchange/extensions/vpdq/vpdq_util.py`,
//!   `vpdq_brute_matcher.py`, `vpdq_index.py`, `vpdq.py`: the defaults (quality 50, distance
//!   `<= 31`, query 80 %, compared 0 %), filter-then-deduplicate, and the index layout.
//!
//! See `docs/video.md` for the semantics in full and measured numbers.

pub mod bank;
pub mod frame;
mod hamming;
pub mod matching;

pub use bank::{BankError, BankMatch, VideoBank};
pub use frame::{
    Field, FrameHash, MAX_QUALITY, ParseError, format_hash_list, parse_any, parse_hash_list,
    parse_hash_list_with_limit, parse_line, parse_threatexchange_json,
};
pub use matching::{
    ConfigError, DEFAULT_COMPARED_MATCH_PERCENT, DEFAULT_DISTANCE_THRESHOLD,
    DEFAULT_QUALITY_THRESHOLD, DEFAULT_QUERY_MATCH_PERCENT, MAX_RANGE_PAIRS, MatchConfig,
    PreparedVideo, RangePair, TimeRange, VideoMatch, compare, compare_prepared,
};
pub use shopshield_pdq::Hash256;
