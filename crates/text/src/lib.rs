//! Trademark and counterfeit text detection for shopshield.
//!
//! * [`normalize`]: NFKC, case folding, UTS #39 skeletons, diacritics,
//!   invisible characters, leetspeak, spelled-out words and repeated letters,
//!   with a map back to the original text;
//! * [`MarkMatcher`]: exact (one Aho–Corasick automaton), spacing, repetition
//!   and fuzzy (deletion index) matching of word marks, scoped by region,
//!   Nice class and authorised sellers, weighed with counterfeit cues in 15
//!   languages, nominative use, brand claims and price;
//! * [`eval`]: precision, recall and false-positive rate on a labelled corpus.
//!
//! Pure code: no HTTP, no SQL, no file I/O (data files are embedded).

pub mod config;
pub mod eval;
pub mod fuzzy;
mod fxhash;
pub mod inflect;
pub mod matcher;
pub mod normalize;
pub mod phrases;

pub use config::{FuzzyConfig, FxTable, PriceConfig, TextConfig, Weights};
pub use matcher::{BuildError, Field, MarkMatcher, NormalizedFields, score_to_action};
pub use normalize::{Flags, Normalized, normalize};
