//! Local features for finding a registered logo inside a larger product
//! photo, where a whole-image perceptual hash cannot see it: FAST corners
//! and oriented binary descriptors over a scale pyramid (the ORB recipe),
//! matched through a vocabulary tree of binary words (`shopshield-hamming`)
//! whose cost does not grow with the number of logos, and verified
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
    LocalBank, LocalConfig, LocalError, LocalMatch, Query, REFERENCE_FORMAT_VERSION, Reference,
    ReferenceBytesError, query_features, reference_features,
};
pub use describe::{ExtractOptions, Features, Keypoint, extract, extract_with_negatives};
pub use gray::Gray;
