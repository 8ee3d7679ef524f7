//! Storage for shopshield, behind one trait per aggregate.
//!
//! * [`RegistryStore`]: holders, rights, their images and features, and the
//!   registry version that tells every process what changed.
//! * [`CatalogStore`]: listings with their versions, and the decisions on
//!   them in an explicit sequence.
//! * [`QualificationStore`] and [`KeyStore`]: shops' licences, API keys.
//! * [`EnforcementStore`]: the hash-chained event log, its anchor, state
//!   snapshots, case leases, the cursor of decisions handed over.
//! * [`OutboxStore`]: webhook deliveries, claimed before they are sent.
//! * [`ContentStore`]: short videos with their versions and decisions, and
//!   livestream sessions (a stopped stream stays stopped).
//! * [`NoticeStore`]: rights holders' notices and the state of each item
//!   (pending, accepted, rejected, countered, restored, upheld), changed
//!   only against the version it was read at.
//! * [`AuthorizationStore`]: sellers' requests for brand authorisation;
//!   an approval or revocation changes the right's authorised sellers and
//!   the registry version in the same transaction.
//! * [`ChangeFeed`]: how a process hears that another changed the registry.
//!
//! [`Store`] is all of them. [`SqliteStore`] implements it on an embedded
//! SQLite file; `shopshield-postgres` implements it on PostgreSQL. Both pass
//! the same [`conformance`] suite (feature `conformance`).
//!
//! Every method that writes does so in one transaction: it either happens
//! entirely or not at all, and a clash with what another writer stored is a
//! [`StoreError::Conflict`].

mod authorization;
#[cfg(feature = "conformance")]
pub mod conformance;
mod log;
mod notice;
mod sqlite;
mod sweep;
mod traits;
mod types;

pub use authorization::{
    AuthorizationChange, AuthorizationFilter, AuthorizationStore, SellerChange,
};
pub use log::{
    BacklogItem, LeaseChange, LogAnchor, LogRecord, OutboxCounts, OutboxRow, OutboxStatus, Snapshot,
};
pub use notice::{
    Filed, FiledCounterNotice, ItemReview, NoticeFilter, NoticeItemRecord, NoticeRecord,
    NoticeStore, RecordedCourtAction, StoredNotice,
};
pub use sqlite::SqliteStore;
pub use sweep::{SweepCounts, SweepRecord, SweepState, SweepStore, SweepWatermark};
pub use traits::{
    CatalogStore, ChangeFeed, ContentStore, ContextKey, EnforcementStore, KeyStore, OutboxStore,
    Prior, QualificationStore, RegistryStore, ScreeningContext, Store,
};
pub use types::{
    ApiKey, Page, RightChange, RightRecord, Screened, StoreError, StoredListing, StoredStream,
    StoredVideo,
};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
