//! The store seam, one trait per aggregate.
//!
//! Every method is atomic: it happens entirely or not at all, and holds
//! when several processes write to the same database. A write that clashes
//! with stored data (a taken id, a stale version, a lease another process
//! holds) fails with [`StoreError::Conflict`](crate::StoreError::Conflict)
//! and changes nothing; the caller re-reads and retries or reports it.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use shopshield_model::{Decision, Qualification, Right, RightReview, RightsHolder};

use crate::{
    ApiKey, BacklogItem, LeaseChange, LogAnchor, LogRecord, OutboxCounts, OutboxRow, Page, Result,
    RightChange, RightRecord, Screened, Snapshot, StoredListing, StoredStream, StoredVideo,
};

/// The rights registry: holders, rights, their images and features.
///
/// A registry version counts every change; each right remembers the
/// version of its last change, so a process that knows version `n` reads
/// only what changed after it ([`RegistryStore::rights_changed_since`]).
pub trait RegistryStore: Send + Sync {
    /// The registry's version: 0 when empty, bumped by every change.
    fn registry_version(&self) -> Result<u64>;
    fn holder(&self, id: &str) -> Result<Option<RightsHolder>>;
    fn holder_by_name(&self, name: &str) -> Result<Option<RightsHolder>>;
    fn holders(&self) -> Result<Vec<RightsHolder>>;
    /// Adds a holder; `Conflict` if the id or the name is taken.
    fn insert_holder(&self, holder: &RightsHolder) -> Result<()>;
    /// Adds a right; `Conflict` if the id is taken or the holder does not
    /// exist. Returns the new registry version.
    fn insert_right(&self, right: &RightRecord) -> Result<u64>;
    /// Adds the holders (existing ids are kept) and adds or replaces the
    /// rights, all or nothing, as one registry version. A replaced right
    /// keeps its `created_at`.
    fn import_rights(&self, holders: &[RightsHolder], rights: &[RightRecord]) -> Result<u64>;
    /// One right with its image and features.
    fn right(&self, id: &str) -> Result<Option<RightRecord>>;
    /// Rights of one holder, or all rights, ordered by id.
    fn rights(&self, holder_id: Option<&str>) -> Result<Vec<Right>>;
    /// Every right changed after registry version `after` (0: every right),
    /// with its features but without its image, ordered by id.
    fn rights_changed_since(&self, after: u64) -> Result<Vec<RightChange>>;
    /// The registered image of a right.
    fn right_image(&self, id: &str) -> Result<Option<Vec<u8>>>;
    /// Enables or disables a right. Returns the updated right and the new
    /// registry version, or `None` if there is no such right.
    fn set_right_enabled(
        &self,
        id: &str,
        enabled: bool,
        now: DateTime<Utc>,
    ) -> Result<Option<(Right, u64)>>;
    /// Stores features computed from a right's image (for rights stored
    /// before features were kept). Not a registry change: the version
    /// stays.
    fn set_right_features(&self, id: &str, features: &[u8]) -> Result<()>;
    /// Records a reviewer's decision on a right held for review: a
    /// registry change (the version is bumped). `Conflict` if the right is
    /// not held (pending) any more, so two reviewers cannot both decide;
    /// `None` if there is no such right.
    fn set_right_review(
        &self,
        id: &str,
        review: &RightReview,
        now: DateTime<Utc>,
    ) -> Result<Option<(Right, u64)>>;
    /// Rights whose registration expires on a day from `from` to `to`
    /// (both included), ordered by id.
    fn rights_expiring(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<Right>>;
}

/// What screening needs to know about one item before deciding it.
#[derive(Debug, Clone, Copy)]
pub struct ContextKey<'a> {
    pub id: &'a str,
    pub shop_id: &'a str,
    /// The content hash of the submission: the stored decision is returned
    /// only when the latest version has this hash.
    pub content_hash: &'a str,
}

/// The stored latest version of an item.
#[derive(Debug, Clone, PartialEq)]
pub struct Prior {
    pub shop_id: String,
    pub version: u32,
    pub content_hash: String,
    /// The decision on that version, when its content hash equals the one
    /// asked about (an unchanged resubmission).
    pub same_content_decision: Option<Decision>,
}

/// Everything a batch of submissions needs from the store, read in one
/// round trip: the latest versions and the shops' qualifications.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScreeningContext {
    /// By item id; absent for new items.
    pub priors: HashMap<String, Prior>,
    /// By shop id; absent for shops without any.
    pub qualifications: HashMap<String, Vec<Qualification>>,
}

/// The catalogue: listings with their versions, and the decisions on them.
pub trait CatalogStore: Send + Sync {
    /// Latest versions and qualifications for a batch, in one round trip.
    fn screening_context(&self, keys: &[ContextKey<'_>]) -> Result<ScreeningContext>;
    /// Stores screened listings and their decisions, all or nothing. Each
    /// entry's `version` must be exactly one more than the stored latest
    /// version (1 for a new listing) and must not be taken by another shop;
    /// otherwise nothing is written and `Conflict` names the listing.
    /// Returns each decision's position in the decision sequence.
    fn record_screenings(&self, batch: &[Screened]) -> Result<Vec<u64>>;
    /// The latest version of a listing.
    fn latest_listing(&self, id: &str) -> Result<Option<StoredListing>>;
    /// Every stored version of a listing, oldest first.
    fn listing_history(&self, id: &str) -> Result<Vec<StoredListing>>;
    /// Latest versions of a shop's listings, ordered by id, after `page.after`.
    fn listings_by_shop(&self, shop_id: &str, page: &Page) -> Result<Vec<StoredListing>>;
    fn decision(&self, decision_id: &str) -> Result<Option<Decision>>;
    /// Every decision about a listing, oldest first.
    fn decisions_for_listing(&self, listing_id: &str) -> Result<Vec<Decision>>;
    /// Decisions in sequence order, after `page.after` (a decision id).
    fn decisions(&self, page: &Page) -> Result<Vec<Decision>>;
    /// Stored `review` and `reject` decisions after sequence position
    /// `after`, with their listing versions, in sequence order.
    fn enforcement_backlog(&self, after: u64, limit: usize) -> Result<Vec<BacklogItem>>;
    /// The sequence position of the last stored decision (0: none).
    fn decisions_end(&self) -> Result<u64>;
}

/// Content beyond listings: short videos with their versions and
/// decisions, and livestream sessions.
pub trait ContentStore: Send + Sync {
    /// Stores a screened video version with its decision. `version` must be
    /// exactly one more than the stored latest (1 for a new video) and the
    /// creator must be the stored one; otherwise nothing is written and
    /// `Conflict` says why.
    fn record_video(&self, video: &StoredVideo) -> Result<()>;
    /// The latest version of a video.
    fn latest_video(&self, id: &str) -> Result<Option<StoredVideo>>;
    /// Every stored version of a video, oldest first.
    fn video_history(&self, id: &str) -> Result<Vec<StoredVideo>>;
    /// Creates a stream session; `Conflict` if the id is taken.
    fn insert_stream(&self, stream: &StoredStream) -> Result<()>;
    /// Replaces a stream's document and status. A stopped stream stays
    /// stopped: writing to one is a `Conflict` that changes nothing, also
    /// between processes.
    fn update_stream(&self, stream: &StoredStream) -> Result<()>;
    fn stream(&self, id: &str) -> Result<Option<StoredStream>>;
    /// Every stored video version in `(id, version)` order, after `after`
    /// (exclusive; `None`: from the first), at most `limit` (for reports).
    fn video_versions_after(
        &self,
        after: Option<(&str, u32)>,
        limit: usize,
    ) -> Result<Vec<StoredVideo>>;
    /// Stopped streams in id order, after `after` (exclusive), at most
    /// `limit` (for reports).
    fn stopped_streams_after(&self, after: Option<&str>, limit: usize)
    -> Result<Vec<StoredStream>>;
}

/// Shops' licences and registrations.
pub trait QualificationStore: Send + Sync {
    /// Records (or replaces) a shop's qualification for a region.
    fn put_qualification(&self, q: &Qualification, now: DateTime<Utc>) -> Result<()>;
    /// A shop's qualifications, expired ones included (screening checks
    /// expiry against its own clock).
    fn qualifications(&self, shop_id: &str) -> Result<Vec<Qualification>>;
}

/// API keys, stored only as hashes.
pub trait KeyStore: Send + Sync {
    /// `Conflict` if the hash is taken.
    fn insert_api_key(&self, key: &ApiKey) -> Result<()>;
    /// Looks a key up by the SHA-256 (hex) of its secret.
    fn api_key(&self, key_hash: &str) -> Result<Option<ApiKey>>;
    /// Every key, oldest first.
    fn api_keys(&self) -> Result<Vec<ApiKey>>;
}

/// Enforcement: the hash-chained event log with its anchor, state
/// snapshots, case leases and the cursor of decisions handed over.
pub trait EnforcementStore: Send + Sync {
    /// Appends sealed log entries, their outbox rows and case lease changes
    /// in one transaction, and moves the anchor to the last entry.
    /// `expected_head` is the `seq` of the last entry the caller computed
    /// the entries from (0 for an empty log). Fails with `Conflict`, writing
    /// nothing, if another writer appended since, or if a lease change
    /// clashes with a lease another reviewer holds (or is taking right now).
    /// Outbox rows whose idempotency key exists are skipped.
    fn append_log(
        &self,
        expected_head: u64,
        entries: &[LogRecord],
        outbox: &[OutboxRow],
        leases: &[LeaseChange],
    ) -> Result<()>;
    /// Log entries after `after`, in `seq` order, at most `limit`.
    fn log_records(&self, after: u64, limit: Option<usize>) -> Result<Vec<LogRecord>>;
    /// One entry.
    fn log_record(&self, seq: u64) -> Result<Option<LogRecord>>;
    /// The `seq` of the last entry (0 when empty).
    fn log_head_seq(&self) -> Result<u64>;
    /// The head as of the last append, kept apart from the entries.
    fn log_anchor(&self) -> Result<Option<LogAnchor>>;
    /// Keeps a snapshot of the folded state (replacing one at the same seq).
    fn put_snapshot(&self, snapshot: &Snapshot) -> Result<()>;
    /// The snapshot with the highest `seq`.
    fn latest_snapshot(&self) -> Result<Option<Snapshot>>;
    /// Decisions up to this position were handed to enforcement.
    fn enforcement_cursor(&self) -> Result<u64>;
    /// Moves the cursor forward (never back: several processes catch up
    /// at once).
    fn advance_enforcement_cursor(&self, position: u64) -> Result<()>;
}

/// The webhook outbox. Deliveries are claimed for a while before they are
/// sent, so two processes never send the same one at once.
pub trait OutboxStore: Send + Sync {
    /// Claims up to `limit` pending deliveries due at `now` and not claimed
    /// by anyone else (or whose claim ran out), oldest first, for
    /// `claimer` until `until`.
    fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        claimer: &str,
        until: DateTime<Utc>,
    ) -> Result<Vec<OutboxRow>>;
    /// Saves a delivery attempt's outcome and releases the claim.
    fn update_delivery(&self, row: &OutboxRow) -> Result<()>;
    /// Outbox rows of entries after `after_seq`, in order.
    fn outbox_rows(&self, after_seq: u64, limit: usize) -> Result<Vec<OutboxRow>>;
    /// How many deliveries are pending, delivered and dead, and when the
    /// oldest pending one was first due (the backlog, for metrics).
    fn outbox_counts(&self) -> Result<OutboxCounts>;
}

/// How a process learns that another process changed the registry.
pub trait ChangeFeed: Send + Sync {
    /// Blocks until the registry version is no longer `known` or `timeout`
    /// passes, and returns the version then. SQLite polls; PostgreSQL
    /// listens for the notification its writers send on commit.
    fn wait_registry_change(&self, known: u64, timeout: Duration) -> Result<u64>;
}

/// Persistent state of a shopshield deployment: every aggregate.
/// Implementations are shared between threads.
pub trait Store:
    RegistryStore
    + CatalogStore
    + QualificationStore
    + KeyStore
    + EnforcementStore
    + OutboxStore
    + ChangeFeed
    + crate::SweepStore
    + ContentStore
    + crate::NoticeStore
    + crate::AuthorizationStore
{
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
}
