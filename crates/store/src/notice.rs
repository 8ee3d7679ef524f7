//! Rights holders' notices and the state of each of their items.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shopshield_model::{CounterNotice, CourtAction, NewNotice, NoticeItemKind, NoticeItemState};

use crate::{OutboxRow, Result};

/// A notice as stored: what was filed, by whom, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StoredNotice {
    pub notice: NewNotice,
    /// The holder of the right relied on.
    pub holder_id: String,
    /// The principal that filed it.
    pub filed_by: String,
    /// SHA-256 of the notice's canonical JSON: a re-filing with the same
    /// id is the same notice only when this matches.
    pub content_hash: String,
    pub received_at: DateTime<Utc>,
}

/// A reviewer's decision on an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ItemReview {
    pub accepted: bool,
    pub reason: String,
    /// The reviewer's principal id.
    pub reviewer: String,
    pub decided_at: DateTime<Utc>,
}

/// A counter-notice as filed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FiledCounterNotice {
    pub counter_notice: CounterNotice,
    /// The seller principal that filed it.
    pub filed_by: String,
    pub filed_at: DateTime<Utc>,
    /// When the listing is restored unless a court action is recorded.
    pub restore_at: DateTime<Utc>,
}

/// A court action as recorded by the holder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RecordedCourtAction {
    pub court_action: CourtAction,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

/// One item of a notice and where it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NoticeItemRecord {
    pub notice_id: String,
    /// The item's id (a listing id), unique within its notice.
    pub item_id: String,
    pub kind: NoticeItemKind,
    /// The shop the listing belonged to when the notice was filed.
    pub shop_id: String,
    pub state: NoticeItemState,
    /// Bumped by every change: a change names the version it was computed
    /// from, so two reviewers never both decide one item.
    pub version: u32,
    pub updated_at: DateTime<Utc>,
    /// When the item has work due: its takedown (accepted, not yet taken
    /// down) or its restoration (countered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<ItemReview>,
    /// The takedown decision, once stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub takedown_decision_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counter_notice: Option<FiledCounterNotice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub court_action: Option<RecordedCourtAction>,
    /// The decision that put the listing back, once stored (absent after a
    /// restoration when a later decision on the listing stands).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_decision_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restored_at: Option<DateTime<Utc>>,
    /// Filed by a holder with self-service removal: the listing is taken
    /// down at filing while the item waits for review; a rejection puts
    /// it back (`restore_decision_id`, the item staying `rejected`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub self_service: bool,
    /// For a video: its creator, who may answer with a counter-notice
    /// (`shop_id` is then the shop whose products it showcases, or empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator_id: Option<String>,
}

impl NoticeItemRecord {
    /// A newly filed item: pending, version 1, nothing decided yet.
    pub fn pending(
        notice_id: &str,
        item_id: &str,
        kind: NoticeItemKind,
        shop_id: String,
        received_at: DateTime<Utc>,
    ) -> NoticeItemRecord {
        NoticeItemRecord {
            notice_id: notice_id.to_string(),
            item_id: item_id.to_string(),
            kind,
            shop_id,
            state: NoticeItemState::Pending,
            version: 1,
            updated_at: received_at,
            due_at: None,
            review: None,
            takedown_decision_id: None,
            counter_notice: None,
            court_action: None,
            restore_decision_id: None,
            restored_at: None,
            self_service: false,
            creator_id: None,
        }
    }
}

/// A notice with its items, in the order filed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NoticeRecord {
    #[serde(flatten)]
    pub stored: StoredNotice,
    pub items: Vec<NoticeItemRecord>,
}

/// What filing did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filed {
    /// Stored now.
    New(NoticeRecord),
    /// The same notice (id and content) was stored before: as it stands.
    Existing(NoticeRecord),
}

/// Which notices to list.
#[derive(Debug, Clone, Default)]
pub struct NoticeFilter {
    /// Only this holder's notices.
    pub holder_id: Option<String>,
    /// Only notices with an item on this shop's listings.
    pub shop_id: Option<String>,
    /// Only notices with an item in this state.
    pub state: Option<NoticeItemState>,
    /// Notices after this id, in id order.
    pub after: Option<String>,
    pub limit: usize,
}

/// Notices and their items.
pub trait NoticeStore: Send + Sync {
    /// Stores a notice with its items. Idempotent by notice id: the same
    /// id with the same `content_hash` answers the stored notice
    /// (`Filed::Existing`); with another content it is a `Conflict` that
    /// changes nothing.
    fn file_notice(&self, notice: &StoredNotice, items: &[NoticeItemRecord]) -> Result<Filed>;
    fn notice(&self, id: &str) -> Result<Option<NoticeRecord>>;
    /// Notices in id order with all their items.
    fn notices(&self, filter: &NoticeFilter) -> Result<Vec<NoticeRecord>>;
    /// Items in a state, oldest notice first (then notice id, then the
    /// order the notice names them), at most `limit`.
    fn notice_items_in_state(
        &self,
        state: NoticeItemState,
        limit: usize,
    ) -> Result<Vec<NoticeItemRecord>>;
    /// Replaces an item with `item` (whose `version` must be one more than
    /// the stored one) and writes its webhook rows, in one transaction.
    /// `Conflict`, writing nothing, when the stored version is not
    /// `item.version - 1` (someone changed it first).
    fn update_notice_item(&self, item: &NoticeItemRecord, outbox: &[OutboxRow]) -> Result<()>;
    /// Items with work due at `now` (`due_at <= now`), soonest first.
    fn notice_items_due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<NoticeItemRecord>>;
    /// How many items on a shop's listings reviewers accepted (accepted,
    /// countered, restored or upheld), across notices.
    fn accepted_notice_items(&self, shop_id: &str) -> Result<u64>;
}
