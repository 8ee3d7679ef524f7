//! Region policy for shopshield: restricted and prohibited goods per local
//! law, kept in data files ("packs") that policy staff edit.
//!
//! A [`PolicySet`] is a validated set of packs: one global pack, one EU pack,
//! and one pack per region, with EU member-state packs layered on the EU
//! pack. Each pack's rules name the categories they cover, keywords in the
//! region's languages, exceptions for honest look-alikes, the qualification a
//! restricted item needs, effective dates and the citation of the law (or
//! "platform policy") behind them. Keywords and listing text are normalised
//! the same way, and one Aho-Corasick automaton searches all of them at once.
//!
//! [`PolicySet::screen`] turns a listing into [`Violation`]s with evidence
//! naming the pack, its version, the rule, the matched text and the citation,
//! plus the version of every pack that applied. [`PolicySet::diff`] and
//! [`listings_to_rescreen`] are the seam for sweeps after a pack changes, and
//! [`run_cases`] checks packs against expected outcomes (`policy test`).
//!
//! The format and the confidence levels are documented in `docs/policy.md`.
//!
//! [`Violation`]: shopshield_model::Violation

mod builtin;
mod cases;
mod error;
mod norm;
mod pack;
mod set;
mod sweep;

pub use cases::{CaseReport, CaseResult, run_cases};
pub use error::{PackIssue, PolicyError};
pub use pack::{EU_MEMBERS, MAX_PATTERN_LEN, Pack, Rule, RuleKind, Scope, is_eu_member};
pub use set::{
    CONFIDENCE_CATEGORY, CONFIDENCE_CLEAR, CONFIDENCE_UNCERTAIN, CONFIDENCE_WEAK,
    DEFAULT_REJECT_AT, DEFAULT_REVIEW_AT, DETECTOR, ListingText, PolicyOutcome, PolicySet,
    QualifiedMatch,
};
pub use sweep::{ChangeKind, RuleChange, listings_to_rescreen};

/// The shipped packs as `(file name, text)`, as embedded in the binary.
pub fn builtin_sources() -> &'static [(&'static str, &'static str)] {
    builtin::PACKS
}
