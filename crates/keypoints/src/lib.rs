//! Local features for finding a registered logo inside a larger product
//! photo, where a whole-image perceptual hash cannot see it: FAST corners
//! and oriented binary descriptors over a scale pyramid (the ORB recipe),
//! matched through the PDQ crate's Hamming index and verified
//! geometrically. Pure library code: no HTTP, SQL or file I/O.
//!
//! See `docs/pdq.md` ("Logo inside a photo") for the method and the measured
//! recall and false-match rates.

pub mod bank;
pub mod describe;
pub mod eval;
pub mod fast;
pub mod geometry;
pub mod gray;

pub use bank::{
    LocalBank, LocalConfig, LocalError, LocalMatch, Query, Reference, query_features,
    reference_features,
};
pub use describe::{ExtractOptions, Features, Keypoint, extract};
pub use gray::Gray;
