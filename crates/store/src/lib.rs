//! Storage for shopshield.
//!
//! [`Store`] is the one interface the rest of the system uses to keep the
//! rights registry, listings with their history, decisions and API keys.
//! [`SqliteStore`] implements it on an embedded SQLite file (WAL, full
//! fsync on commit, versioned migrations); a PostgreSQL implementation can
//! satisfy the same trait without changing its callers.
//!
//! Every method that writes does so in one transaction: it either happens
//! entirely or not at all.

mod log;
mod sqlite;
mod sqlite_enforce;
mod types;

pub use log::{BacklogItem, LogAnchor, LogRecord, OutboxRow, OutboxStatus};
pub use sqlite::SqliteStore;
pub use types::{ApiKey, Page, RightRecord, Screened, StoreError, StoredListing};

use shopshield_model::{Decision, Right, RightsHolder};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Persistent state of a shopshield deployment.
///
/// Implementations are shared between threads; each call is atomic.
pub trait Store: EnforcementStore + Send + Sync {
    // ---- rights registry ----

    /// A counter bumped by every change to the rights registry. Engines
    /// record the version they were built from.
    fn registry_version(&self) -> Result<u64>;
    fn holder(&self, id: &str) -> Result<Option<RightsHolder>>;
    fn holder_by_name(&self, name: &str) -> Result<Option<RightsHolder>>;
    fn holders(&self) -> Result<Vec<RightsHolder>>;
    /// Adds a holder; [`StoreError::Conflict`] if the id or name is taken.
    fn insert_holder(&self, holder: &RightsHolder) -> Result<()>;
    /// Adds a right; [`StoreError::Conflict`] if the id is taken. Returns
    /// the new registry version.
    fn insert_right(&self, right: &RightRecord) -> Result<u64>;
    /// Adds the holders and adds or replaces the rights, all or nothing.
    /// A replaced right keeps its `created_at`. Returns the new registry
    /// version.
    fn import_rights(&self, holders: &[RightsHolder], rights: &[RightRecord]) -> Result<u64>;
    fn right(&self, id: &str) -> Result<Option<RightRecord>>;
    /// Rights of one holder, or all rights, ordered by id.
    fn rights(&self, holder_id: Option<&str>) -> Result<Vec<Right>>;
    /// Every right with its image bytes, for building detectors.
    fn right_records(&self) -> Result<Vec<RightRecord>>;
    /// Enables or disables a right. Returns the updated right and the new
    /// registry version, or `None` if there is no such right.
    fn set_right_enabled(
        &self,
        id: &str,
        enabled: bool,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<(Right, u64)>>;

    // ---- listings and decisions ----

    /// The latest version of a listing.
    fn latest_listing(&self, id: &str) -> Result<Option<StoredListing>>;
    /// Every stored version of a listing, oldest first.
    fn listing_history(&self, id: &str) -> Result<Vec<StoredListing>>;
    /// Stores screened listings and their decisions, all or nothing. Each
    /// entry's `version` must be exactly one more than the stored latest
    /// version (1 for a new listing), otherwise nothing is written and
    /// [`StoreError::Conflict`] names the listing: another writer got there
    /// first, and the caller re-reads and retries.
    fn record_screenings(&self, batch: &[Screened]) -> Result<()>;
    /// Latest versions of a shop's listings, ordered by id, after `page.after`.
    fn listings_by_shop(&self, shop_id: &str, page: &Page) -> Result<Vec<StoredListing>>;
    fn decision(&self, decision_id: &str) -> Result<Option<Decision>>;
    /// Every decision about a listing, oldest first.
    fn decisions_for_listing(&self, listing_id: &str) -> Result<Vec<Decision>>;
    /// Decisions in storage order, after `page.after` (a decision id).
    fn decisions(&self, page: &Page) -> Result<Vec<Decision>>;

    // ---- qualifications ----

    /// Records (or replaces) a shop's qualification for a region.
    fn put_qualification(
        &self,
        q: &shopshield_model::Qualification,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<()>;
    /// A shop's qualifications, expired ones included (screening checks
    /// expiry against its own clock).
    fn qualifications(&self, shop_id: &str) -> Result<Vec<shopshield_model::Qualification>>;

    // ---- access ----

    fn insert_api_key(&self, key: &ApiKey) -> Result<()>;
    /// Looks a key up by the SHA-256 (hex) of its secret.
    fn api_key(&self, key_hash: &str) -> Result<Option<ApiKey>>;
    fn api_keys(&self) -> Result<Vec<ApiKey>>;
}

/// Enforcement's part of the store: the hash-chained event log with its
/// anchor, the webhook outbox, and the cursor of decisions handed to
/// enforcement. Part of every [`Store`].
pub trait EnforcementStore {
    /// Appends sealed log entries and their outbox rows in one transaction,
    /// and moves the anchor to the last entry. `expected_head` is the `seq`
    /// of the last entry the caller computed the entries from (0 for an
    /// empty log); if another writer appended since, nothing is written and
    /// [`StoreError::Conflict`] is returned: reload and retry. Outbox rows
    /// whose idempotency key exists are skipped.
    fn append_log(
        &self,
        expected_head: u64,
        entries: &[LogRecord],
        outbox: &[OutboxRow],
    ) -> Result<()>;
    /// Log entries after `after`, in `seq` order, at most `limit`.
    fn log_records(&self, after: u64, limit: Option<usize>) -> Result<Vec<LogRecord>>;
    /// The `seq` of the last entry (0 when empty).
    fn log_head_seq(&self) -> Result<u64>;
    /// The head as of the last append, kept apart from the entries.
    fn log_anchor(&self) -> Result<Option<LogAnchor>>;
    /// Pending deliveries due at `now`, oldest first.
    fn due_deliveries(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        limit: usize,
    ) -> Result<Vec<OutboxRow>>;
    /// Outbox rows of entries after `after_seq`, in order.
    fn outbox_rows(&self, after_seq: u64, limit: usize) -> Result<Vec<OutboxRow>>;
    /// Saves a delivery attempt's outcome (status, failures, schedule).
    fn update_delivery(&self, row: &OutboxRow) -> Result<()>;
    /// Stored `review` and `reject` decisions after position `after`, with
    /// their listing versions, in storage order.
    fn enforcement_backlog(&self, after: u64, limit: usize) -> Result<Vec<BacklogItem>>;
    /// The position of the last stored decision.
    fn decisions_end(&self) -> Result<u64>;
    /// Decisions up to this position were handed to enforcement.
    fn enforcement_cursor(&self) -> Result<u64>;
    fn set_enforcement_cursor(&self, position: u64) -> Result<()>;
}
