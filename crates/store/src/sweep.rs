//! Sweeps: the index from normalised terms to live listings, and the
//! durable record of each sweep's progress.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shopshield_model::{Cause, Decision};

use crate::{Page, Result, StoredListing};

/// Whether a sweep still has work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SweepState {
    Open,
    Done,
}

impl SweepState {
    pub fn as_str(self) -> &'static str {
        match self {
            SweepState::Open => "open",
            SweepState::Done => "done",
        }
    }
}

/// What a sweep did so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SweepCounts {
    /// Listings the index named as possibly affected.
    pub looked_at: u64,
    /// Of those, the live or pending ones screened again.
    pub rescreened: u64,
    /// Live listings taken down (a new `reject` decision).
    pub taken_down: u64,
    /// Listings sent to human review (a new `review` decision).
    pub to_review: u64,
    /// Open cases closed because the right they rested on was disabled.
    pub cases_closed: u64,
    /// Listings put back live (a closed case whose listing no longer
    /// violates anything).
    pub restored: u64,
}

/// One sweep: why it runs, how far it got.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SweepRecord {
    /// Unique and derived from what changed, so two processes that notice
    /// the same change open one sweep.
    pub id: String,
    pub cause: Cause,
    pub state: SweepState,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    /// The last listing id handled: a resumed sweep goes on after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    pub counts: SweepCounts,
    /// The process working on it, and until when its claim holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_until: Option<DateTime<Utc>>,
}

/// How far the opening of sweeps has got: registry changes up to this
/// version have their sweeps, and rule effective dates up to this instant.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SweepWatermark {
    pub registry_version: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules_checked_at: Option<DateTime<Utc>>,
}

/// The sweep index and the sweeps.
///
/// The index maps terms (normalised words of a listing's text, its
/// category as `cat:CATEGORY`, and `right:ID` for each right its decision
/// names) to listing ids. Its entries for a listing are written in the
/// same transaction as the listing's version and decision
/// ([`Screened::terms`](crate::Screened)), so it never lags the catalogue.
pub trait SweepStore: Send + Sync {
    /// Distinct indexed terms in byte order, after `after`, at most `limit`.
    fn index_terms(&self, after: Option<&str>, limit: usize) -> Result<Vec<String>>;
    /// Ids of listings indexed under any of `terms`, in id order, after
    /// `after`, at most `limit`, each once.
    fn listings_with_terms(
        &self,
        terms: &[String],
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>>;
    /// Removes `term` from a listing's index entries if the listing's
    /// latest stored version is still `version` (a newer version has terms
    /// of its own, which stay). Returns whether an entry was removed.
    fn clear_term(&self, term: &str, listing_id: &str, version: u32) -> Result<bool>;
    /// The latest versions of these listings with their decisions (absent
    /// ids are left out), in the order asked.
    fn latest_decided(&self, ids: &[String]) -> Result<Vec<(StoredListing, Decision)>>;
    /// The watermark of opened sweeps.
    fn sweep_watermark(&self) -> Result<SweepWatermark>;
    /// Adds sweeps (ids that exist are skipped) and, when `watermark` is
    /// given as `(expected, new)`, moves the watermark, all in one
    /// transaction. `Conflict` if the watermark is no longer `expected`
    /// (another process opened these sweeps first).
    fn open_sweeps(
        &self,
        watermark: Option<(&SweepWatermark, &SweepWatermark)>,
        sweeps: &[SweepRecord],
    ) -> Result<()>;
    /// Claims the oldest open sweep nobody holds (or whose claim ran out)
    /// for `claimer` until `until`; `skip` names sweeps the caller cannot
    /// run. Two processes never hold one sweep.
    fn claim_sweep(
        &self,
        now: DateTime<Utc>,
        claimer: &str,
        until: DateTime<Utc>,
        skip: &[String],
    ) -> Result<Option<SweepRecord>>;
    /// Saves a claimed sweep's progress (and its state, claim and
    /// counts). `Conflict` if `claimer` no longer holds it.
    fn save_sweep(&self, sweep: &SweepRecord, claimer: &str) -> Result<()>;
    fn sweep(&self, id: &str) -> Result<Option<SweepRecord>>;
    /// Sweeps, newest first, after `page.after` (a sweep id).
    fn sweeps(&self, page: &Page) -> Result<Vec<SweepRecord>>;
}
