//! The notices service: rights holders' notices, their review, sellers'
//! counter-notices and restoration.
//!
//! A rights holder files a notice on one of its own rights naming 1 to
//! 300 listings (all must exist: an unknown one refuses the whole notice
//! with 422 naming `items[i].id`). Each item waits in the notice queue,
//! where a reviewer sees the listing, the right, the holder's explanation
//! and our own detectors' latest decision on it, and accepts or rejects
//! it. An accepted item takes the listing down: a decision with source
//! `notice`, action `reject` and a finding on the right (confidence 1), the
//! next version of the listing, stored and handed to enforcement like a
//! sweep's takedown, so points and the "taken down after listing" counts
//! follow. The seller may answer with a counter-notice; the listing is
//! restored `[notices] restore_after_business_days` business days later
//! (Monday to Friday; no holiday calendar) by a decision with source
//! `notice` and action `approve`, unless the holder records a court
//! action first. Every change of an item is checked against the version
//! it was computed from, so two reviewers never both decide one item, and
//! writes its webhook to the outbox in the same transaction.
//!
//! Work due (a takedown not yet stored, a restoration) is done by
//! [`Notices::run_due`], run by the duties of long-lived processes with
//! the application's clock; it is idempotent: each decision names its
//! item in `cause.by`, and an item's stored decisions are looked up
//! before a new one is taken.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use shopshield_model::{
    Action, Cause, CounterNotice, CourtAction, Decision, DecisionSource, Evidence, Listing,
    NewNotice, NoticeItemKind, NoticeItemState, Permission, Principal, RightKind, Role,
    ValidationError, Violation, ViolationType, add_business_days, validate_id,
};
use shopshield_store::{
    Filed, FiledCounterNotice, ItemReview, NoticeFilter, NoticeItemRecord, NoticeRecord, OutboxRow,
    RecordedCourtAction, Screened, Store, StoreError, StoredNotice, StoredVideo,
};

use shopshield_enforce::reporter::{self, ReporterRecord, Standing};

use crate::config::NoticesConfig;
use crate::review::Review;
use crate::screening::Screening;
use crate::{AppError, Clock};

/// Items handled per round of due work.
const DUE_PAGE: usize = 200;
/// Tries to store a decision when the listing changes meanwhile.
const TRIES: usize = 4;
/// Longest reviewer's reason, in bytes.
const MAX_REASON_LEN: usize = 4_096;

/// What a reviewer decides about an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemOutcome {
    /// The item infringes: the listing is taken down.
    Accept,
    /// It does not: nothing is taken down.
    Reject,
}

/// A reviewer's decision on one notice item.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemDecisionInput {
    /// `accept` or `reject`.
    #[serde(default)]
    pub outcome: Option<ItemOutcome>,
    /// Why; shown to both parties.
    #[serde(default)]
    pub reason: String,
}

/// One item in a receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ReceiptItem {
    pub kind: NoticeItemKind,
    pub id: String,
    pub state: NoticeItemState,
}

/// What a holder gets back for a notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct NoticeReceipt {
    pub notice_id: String,
    pub received_at: DateTime<Utc>,
    pub item_count: usize,
    pub items: Vec<ReceiptItem>,
    /// Filed with self-service removal: the listings were taken down at
    /// filing and a reviewer checks them afterwards.
    pub self_service: bool,
}

impl NoticeReceipt {
    fn of(n: &NoticeRecord) -> NoticeReceipt {
        NoticeReceipt {
            notice_id: n.stored.notice.id.clone(),
            received_at: n.stored.received_at,
            item_count: n.items.len(),
            items: n
                .items
                .iter()
                .map(|i| ReceiptItem {
                    kind: i.kind,
                    id: i.item_id.clone(),
                    state: i.state,
                })
                .collect(),
            self_service: n.items.iter().any(|i| i.self_service),
        }
    }
}

/// The right a notice relies on, as a reviewer needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RightSummary {
    pub id: String,
    pub holder_id: String,
    pub kind: RightKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mark: Option<String>,
    pub enabled: bool,
    /// Enabled, not expired and not held for review: a notice on it can
    /// be accepted.
    pub in_force: bool,
    /// The office's registration, when the holder gave it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration: Option<shopshield_model::Registration>,
}

/// Our own detectors' latest decision on the listing (screening or a
/// sweep, not a notice).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DetectorView {
    pub decision_id: String,
    pub action: Action,
    pub score: f64,
    pub source: DecisionSource,
    pub violations: Vec<Violation>,
}

/// One pending item in the notice queue.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct QueueEntry {
    pub notice_id: String,
    pub received_at: DateTime<Utc>,
    pub item: NoticeItemRecord,
    /// What the holder says infringes in this item.
    pub material: String,
    /// The listing's latest version (a listing item).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listing: Option<Listing>,
    /// The video's latest version (a video item).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub video: Option<shopshield_model::Video>,
    /// The livestream as stored: live or stopped (a stream item).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<crate::StreamView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub right: Option<RightSummary>,
    /// The work the holder names.
    pub work: String,
    /// The holder's explanation.
    pub explanation: String,
    /// Our detectors' latest decision on the listing, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detectors: Option<DetectorView>,
}

/// How many notice items reviewers accepted against a shop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ShopNoticeCount {
    pub shop_id: String,
    /// Items accepted across all notices (whatever happened after: a
    /// counter-notice and restoration do not take it back).
    pub accepted_items: u64,
}

/// What one round of due work did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DueReport {
    pub taken_down: u64,
    pub restored: u64,
}

/// A rights holder's accuracy as a reporter and the standing it earns
/// (`[notices.reporters]`; see `shopshield_enforce::reporter`).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ReporterStanding {
    pub holder_id: String,
    #[serde(flatten)]
    pub record: ReporterRecord,
}

fn removal_tag(notice_id: &str, item_id: &str) -> String {
    format!("self-service removal, notice {notice_id} item {item_id}")
}

fn reversal_tag(notice_id: &str, item_id: &str) -> String {
    format!("rejected self-service removal, notice {notice_id} item {item_id}")
}

/// The notices service.
pub struct Notices {
    store: Arc<dyn Store>,
    screening: Arc<Screening>,
    review: Arc<Review>,
    streams: Arc<crate::Streams>,
    clock: Arc<dyn Clock>,
    config: NoticesConfig,
}

fn takedown_tag(notice_id: &str, item_id: &str) -> String {
    format!("notice {notice_id} item {item_id}")
}

fn restore_tag(notice_id: &str, item_id: &str) -> String {
    format!("counter-notice to notice {notice_id} item {item_id}")
}

fn violation_type(kind: RightKind) -> ViolationType {
    match kind {
        RightKind::Trademark | RightKind::Logo => ViolationType::Trademark,
        RightKind::CopyrightImage | RightKind::CopyrightVideo => ViolationType::Copyright,
    }
}

impl Notices {
    pub(crate) fn new(
        store: Arc<dyn Store>,
        screening: Arc<Screening>,
        review: Arc<Review>,
        streams: Arc<crate::Streams>,
        clock: Arc<dyn Clock>,
        config: NoticesConfig,
    ) -> Notices {
        Notices {
            store,
            screening,
            review,
            streams,
            clock,
            config,
        }
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    // ------------------------------------------------------------- filing

    /// Files a notice. A rights holder files only on its own holder's
    /// rights (403 otherwise); admins on any. Answers the receipt and
    /// whether it was stored now (`true`) or is an identical re-filing.
    pub fn file(
        &self,
        p: &Principal,
        notice: NewNotice,
    ) -> Result<(bool, NoticeReceipt), AppError> {
        p.require(Permission::FileNotices)?;
        notice.validate()?;
        let right = self
            .store
            .right(&notice.right_id)?
            .ok_or_else(|| {
                ValidationError::new(
                    "right_id",
                    format!("no right {:?} is registered", notice.right_id),
                )
            })?
            .right;
        if !p.manages_holder(&right.holder_id) {
            return Err(AppError::Forbidden(format!(
                "right {:?} belongs to another holder; a rights holder files notices only on its own rights",
                right.id
            )));
        }
        let now = self.now();
        // Only a right in force is enforced: not disabled, not expired
        // (through its expires_on day, UTC), not held for review.
        if let Some(why) = right.not_in_force(now) {
            return Err(ValidationError::new(
                "right_id",
                format!("{why}; a notice must rely on a right in force"),
            )
            .into());
        }
        // A re-filing of a stored notice answers its receipt whatever the
        // holder's standing is now; a new one is refused while the holder
        // is restricted, and taken down at once with self-service.
        let self_service = if self.store.notice(&notice.id)?.is_some() {
            false
        } else {
            let record = self.record_of(&right.holder_id)?;
            match record.standing {
                Standing::Restricted => {
                    return Err(AppError::Forbidden(format!(
                        "holder {:?} may not file notices now: {}",
                        right.holder_id, record.why
                    )));
                }
                Standing::SelfService => true,
                Standing::Standard | Standing::Warned => false,
            }
        };
        let mut items = Vec::with_capacity(notice.items.len());
        for (i, it) in notice.items.iter().enumerate() {
            let kind = it.kind.unwrap_or(NoticeItemKind::Listing);
            let missing = || -> AppError {
                ValidationError::new(
                    format!("items[{i}].id"),
                    format!("no {} {:?} exists", kind.as_str(), it.id),
                )
                .into()
            };
            let (shop_id, creator_id) = match kind {
                NoticeItemKind::Listing => {
                    let stored = self.store.latest_listing(&it.id)?.ok_or_else(missing)?;
                    (stored.listing.shop_id, None)
                }
                NoticeItemKind::Video => {
                    let stored = self.store.latest_video(&it.id)?.ok_or_else(missing)?;
                    (
                        stored.video.shop_id.unwrap_or_default(),
                        Some(stored.video.creator_id),
                    )
                }
                NoticeItemKind::Stream => {
                    let view = self.streams.stored(&it.id)?.ok_or_else(missing)?;
                    (
                        view.stream.shop_id.unwrap_or_default(),
                        Some(view.stream.creator_id),
                    )
                }
            };
            let mut item = NoticeItemRecord::pending(&notice.id, &it.id, kind, shop_id, now);
            item.creator_id = creator_id;
            // A stream's stop is final, so it waits for a reviewer even
            // from a self-service holder: a provisional stop could not be
            // undone.
            if self_service && kind != NoticeItemKind::Stream {
                item.self_service = true;
                item.due_at = Some(now);
            }
            items.push(item);
        }
        let body = serde_json::to_string(&notice)
            .map_err(|e| AppError::Store(StoreError::Database(format!("cannot encode: {e}"))))?;
        let mut h = Sha256::new();
        h.update(right.holder_id.as_bytes());
        h.update([0]);
        h.update(body.as_bytes());
        let stored = StoredNotice {
            notice,
            holder_id: right.holder_id,
            filed_by: p.id.clone(),
            content_hash: hex::encode(h.finalize()),
            received_at: now,
        };
        match self.store.file_notice(&stored, &items)? {
            Filed::New(mut r) => {
                tracing::info!(notice = %r.stored.notice.id, items = r.items.len(), self_service, "notice filed");
                if self_service {
                    let filed = r.clone();
                    for item in &mut r.items {
                        // Not stored now: the due-work round takes it down.
                        match self.take_down(&filed, item.clone()) {
                            Ok(done) => *item = done,
                            Err(e) => {
                                tracing::error!(notice = %item.notice_id, item = %item.item_id, error = %e, "self-service removal left to the next round")
                            }
                        }
                    }
                }
                Ok((true, NoticeReceipt::of(&r)))
            }
            Filed::Existing(r) => Ok((false, NoticeReceipt::of(&r))),
        }
    }

    // -------------------------------------------------------------- reads

    /// The notices the caller sees: a rights holder its own, a seller those
    /// naming its shop's listings (only those items), reviewers and admins
    /// all. `state` keeps the items in that state (and notices with one).
    pub fn list(
        &self,
        p: &Principal,
        state: Option<NoticeItemState>,
        after: Option<String>,
        limit: usize,
    ) -> Result<Vec<NoticeRecord>, AppError> {
        p.require(Permission::ReadNotices)?;
        if let Some(a) = &after {
            validate_id("after", a)?;
        }
        let mut f = NoticeFilter {
            state,
            after,
            limit: limit.clamp(1, 1_000),
            ..NoticeFilter::default()
        };
        (f.holder_id, f.shop_id) = p.own_parties();
        let scope = |n: &mut NoticeRecord| {
            if let Some(shop) = &f.shop_id {
                n.items
                    .retain(|i| &i.shop_id == shop && i.kind == NoticeItemKind::Listing);
            }
            if p.role == Role::Creator {
                n.items
                    .retain(|i| i.creator_id.is_some() && i.creator_id == p.creator_id);
            }
            if let Some(s) = state {
                n.items.retain(|i| i.state == s);
            }
        };
        if p.role != Role::Creator {
            let mut out = self.store.notices(&f)?;
            out.iter_mut().for_each(scope);
            return Ok(out);
        }
        // The store has no creator filter: a creator's notices are read
        // page by page until the page is full or the notices run out, so
        // `after` paging never skips any.
        let mut out = Vec::new();
        loop {
            let page = self.store.notices(&f)?;
            let full = page.len() == f.limit;
            for mut n in page {
                f.after = Some(n.stored.notice.id.clone());
                scope(&mut n);
                if !n.items.is_empty() && out.len() < f.limit {
                    out.push(n);
                }
            }
            if !full || out.len() >= f.limit {
                return Ok(out);
            }
        }
    }

    /// One notice within the caller's scope (404 outside it).
    pub fn get(&self, p: &Principal, id: &str) -> Result<NoticeRecord, AppError> {
        p.require(Permission::ReadNotices)?;
        if validate_id("id", id).is_err() {
            return Err(AppError::not_found("notice", id));
        }
        let mut n = self
            .store
            .notice(id)?
            .ok_or_else(|| AppError::not_found("notice", id))?;
        match p.role {
            Role::RightsHolder if !p.manages_holder(&n.stored.holder_id) => {
                return Err(AppError::not_found("notice", id));
            }
            Role::Seller => {
                let shop = p.shop_id.as_deref().unwrap_or_default();
                n.items
                    .retain(|i| i.shop_id == shop && i.kind == NoticeItemKind::Listing);
                if n.items.is_empty() {
                    return Err(AppError::not_found("notice", id));
                }
            }
            Role::Creator => {
                n.items
                    .retain(|i| i.creator_id.is_some() && i.creator_id == p.creator_id);
                if n.items.is_empty() {
                    return Err(AppError::not_found("notice", id));
                }
            }
            _ => {}
        }
        Ok(n)
    }

    /// Pending items, oldest first, with what a reviewer needs to decide.
    pub fn queue(&self, p: &Principal, limit: usize) -> Result<Vec<QueueEntry>, AppError> {
        p.require(Permission::ReviewNotices)?;
        let items = self
            .store
            .notice_items_in_state(NoticeItemState::Pending, limit.clamp(1, 1_000))?;
        let mut notices: HashMap<String, Option<NoticeRecord>> = HashMap::new();
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            if !notices.contains_key(&item.notice_id) {
                let n = self.store.notice(&item.notice_id)?;
                notices.insert(item.notice_id.clone(), n);
            }
            let Some(Some(n)) = notices.get(&item.notice_id) else {
                continue;
            };
            let notice = &n.stored.notice;
            let material = notice
                .items
                .iter()
                .find(|i| i.id == item.item_id)
                .map(|i| i.material.clone())
                .unwrap_or_default();
            let now = self.now();
            let right = self.store.right(&notice.right_id)?.map(|r| RightSummary {
                in_force: r.right.in_force(now),
                id: r.right.id,
                holder_id: r.right.holder_id,
                kind: r.right.kind,
                mark: r.right.mark,
                enabled: r.right.enabled,
                registration: r.right.registration,
            });
            let (listing, video) = match item.kind {
                NoticeItemKind::Listing => (
                    self.store.latest_listing(&item.item_id)?.map(|s| s.listing),
                    None,
                ),
                NoticeItemKind::Video => (
                    None,
                    self.store.latest_video(&item.item_id)?.map(|s| s.video),
                ),
                NoticeItemKind::Stream => (None, None),
            };
            let stream = match item.kind {
                NoticeItemKind::Stream => self.streams.stored(&item.item_id)?,
                _ => None,
            };
            let detectors = self
                .decisions_of(&item)?
                .into_iter()
                .rev()
                .find(|d| d.source != DecisionSource::Notice)
                .map(|d| DetectorView {
                    decision_id: d.decision_id,
                    action: d.action,
                    score: d.score,
                    source: d.source,
                    violations: d.violations,
                });
            out.push(QueueEntry {
                notice_id: item.notice_id.clone(),
                received_at: n.stored.received_at,
                material,
                listing,
                video,
                stream,
                right,
                work: notice.work.clone(),
                explanation: notice.explanation.clone(),
                detectors,
                item,
            });
        }
        Ok(out)
    }

    /// How many items reviewers accepted against a shop, across notices
    /// (the shop's seller, reviewers, admins).
    pub fn shop_count(&self, p: &Principal, shop_id: &str) -> Result<ShopNoticeCount, AppError> {
        p.require(Permission::ReadNotices)?;
        if !p.sees_shop_record(shop_id) || validate_id("shop_id", shop_id).is_err() {
            return Err(AppError::not_found("shop", shop_id));
        }
        Ok(ShopNoticeCount {
            shop_id: shop_id.to_string(),
            accepted_items: self.store.accepted_notice_items(shop_id)?,
        })
    }

    /// A holder's accuracy as a reporter and its standing now: the holder
    /// itself, reviewers and admins.
    pub fn standing(&self, p: &Principal, holder_id: &str) -> Result<ReporterStanding, AppError> {
        p.require(Permission::ReadNotices)?;
        if validate_id("holder_id", holder_id).is_err() || !p.sees_holder(holder_id) {
            return Err(AppError::not_found("holder", holder_id));
        }
        if self.store.holder(holder_id)?.is_none() {
            return Err(AppError::not_found("holder", holder_id));
        }
        Ok(ReporterStanding {
            holder_id: holder_id.to_string(),
            record: self.record_of(holder_id)?,
        })
    }

    /// The holder's record over the configured window, from its decided
    /// notice items.
    fn record_of(&self, holder_id: &str) -> Result<ReporterRecord, AppError> {
        let outcomes = self
            .outcomes(Some(holder_id))?
            .remove(holder_id)
            .unwrap_or_default();
        Ok(reporter::assess(
            &outcomes,
            self.now(),
            &self.config.reporters,
        ))
    }

    /// When each holder's restrictions began, for the transparency report.
    pub(crate) fn restriction_facts(&self) -> Result<Vec<DateTime<Utc>>, AppError> {
        let now = self.now();
        let mut out: Vec<DateTime<Utc>> = self
            .outcomes(None)?
            .values()
            .flat_map(|o| reporter::restrictions(o, now, &self.config.reporters))
            .collect();
        out.sort();
        Ok(out)
    }

    /// The decided items of one holder's notices (or everyone's), by
    /// holder, as the reporter record reads them.
    fn outcomes(
        &self,
        holder_id: Option<&str>,
    ) -> Result<HashMap<String, Vec<reporter::ItemOutcome>>, AppError> {
        const PAGE: usize = 500;
        let mut out: HashMap<String, Vec<reporter::ItemOutcome>> = HashMap::new();
        let mut after: Option<String> = None;
        loop {
            let page = self.store.notices(&NoticeFilter {
                holder_id: holder_id.map(str::to_string),
                after: after.clone(),
                limit: PAGE,
                ..NoticeFilter::default()
            })?;
            let Some(last) = page.last() else { break };
            after = Some(last.stored.notice.id.clone());
            let full = page.len() == PAGE;
            for n in &page {
                for i in &n.items {
                    let Some(review) = &i.review else { continue };
                    let countered =
                        i.state == NoticeItemState::Restored && i.counter_notice.is_some();
                    out.entry(n.stored.holder_id.clone()).or_default().push(
                        reporter::ItemOutcome {
                            received_at: n.stored.received_at,
                            decided_at: review.decided_at,
                            accepted: review.accepted,
                            restored_at: if countered { i.restored_at } else { None },
                        },
                    );
                }
            }
            if !full {
                break;
            }
        }
        Ok(out)
    }

    fn item(
        &self,
        notice_id: &str,
        item_id: &str,
    ) -> Result<(NoticeRecord, NoticeItemRecord), AppError> {
        // Ids that no notice can have are not looked up.
        if validate_id("id", notice_id).is_err() {
            return Err(AppError::not_found("notice", notice_id));
        }
        if validate_id("item_id", item_id).is_err() {
            return Err(AppError::not_found("notice item", item_id));
        }
        let n = self
            .store
            .notice(notice_id)?
            .ok_or_else(|| AppError::not_found("notice", notice_id))?;
        let item = n
            .items
            .iter()
            .find(|i| i.item_id == item_id)
            .cloned()
            .ok_or_else(|| AppError::not_found("notice item", item_id))?;
        Ok((n, item))
    }

    // ------------------------------------------------------------ changes

    /// A webhook row for an item's change, written with it.
    fn webhook(
        &self,
        kind: &str,
        n: &NoticeRecord,
        item: &NoticeItemRecord,
        extra: serde_json::Value,
    ) -> Result<OutboxRow, AppError> {
        let seq = self.store.log_head_seq()?;
        let key = format!(
            "notice-{}-{}-v{}",
            item.notice_id, item.item_id, item.version
        );
        let now = self.now();
        let body = serde_json::json!({
            "idempotency_key": key,
            "kind": kind,
            "seq": seq,
            "at": now,
            "payload": {
                "notice_id": item.notice_id,
                "item_id": item.item_id,
                "listing_id": item.item_id,
                "shop_id": item.shop_id,
                "holder_id": n.stored.holder_id,
                "right_id": n.stored.notice.right_id,
                "state": item.state,
                "details": extra,
            },
        });
        Ok(OutboxRow::pending(key, seq, kind, body.to_string(), now))
    }

    /// A reviewer accepts or rejects one item. Accepting takes the listing
    /// down at once. Two reviewers deciding one item: one wins, the other
    /// gets a conflict.
    pub fn decide(
        &self,
        p: &Principal,
        notice_id: &str,
        item_id: &str,
        input: ItemDecisionInput,
    ) -> Result<NoticeItemRecord, AppError> {
        p.require(Permission::ReviewNotices)?;
        let Some(outcome) = input.outcome else {
            return Err(ValidationError::new("outcome", "is required: accept or reject").into());
        };
        if input.reason.trim().is_empty() {
            return Err(ValidationError::new("reason", "is required and must not be empty").into());
        }
        if input.reason.len() > MAX_REASON_LEN || input.reason.contains('\0') {
            return Err(ValidationError::new(
                "reason",
                format!("must be at most {MAX_REASON_LEN} bytes without NUL characters"),
            )
            .into());
        }
        let (n, old) = self.item(notice_id, item_id)?;
        if old.state != NoticeItemState::Pending {
            return Err(AppError::Conflict(format!(
                "item {item_id:?} of notice {notice_id:?} was already decided: it is {}",
                old.state.as_str()
            )));
        }
        let now = self.now();
        let accepted = outcome == ItemOutcome::Accept;
        if accepted
            && let Some(why) = self
                .store
                .right(&n.stored.notice.right_id)?
                .map(|r| r.right)
                .as_ref()
                .and_then(|r| r.not_in_force(now))
        {
            return Err(AppError::Conflict(format!(
                "notice {notice_id:?} relies on a right no longer in force ({why}); it cannot be accepted, only rejected"
            )));
        }
        let mut item = old;
        item.version += 1;
        item.updated_at = now;
        item.state = if accepted {
            NoticeItemState::Accepted
        } else {
            NoticeItemState::Rejected
        };
        // Work due: the takedown of an accepted item, or putting back the
        // listing a self-service removal took down.
        item.due_at = (accepted || item.self_service).then_some(now);
        item.review = Some(ItemReview {
            accepted,
            reason: input.reason.clone(),
            reviewer: p.id.clone(),
            decided_at: now,
        });
        // A rejection is told now; an acceptance once its takedown is
        // stored (with the takedown's own change of the item).
        let rows = if accepted {
            Vec::new()
        } else {
            vec![self.webhook(
                "notice_item_rejected",
                &n,
                &item,
                serde_json::json!({"reason": input.reason}),
            )?]
        };
        self.store.update_notice_item(&item, &rows)?;
        if accepted {
            return match self.take_down(&n, item.clone()) {
                Ok(done) => Ok(done),
                Err(e) => {
                    // Accepted and stored: the due-work round takes it down.
                    tracing::error!(notice = %notice_id, item = %item_id, error = %e, "takedown left to the next round");
                    Ok(item)
                }
            };
        }
        if item.self_service {
            return match self.reverse(&n, item.clone()) {
                Ok(done) => Ok(done),
                Err(e) => {
                    tracing::error!(notice = %notice_id, item = %item_id, error = %e, "putting the listing back left to the next round");
                    Ok(item)
                }
            };
        }
        Ok(item)
    }

    /// Puts back a listing taken down by a self-service removal that a
    /// reviewer rejected (a decision with source `notice` and action
    /// `approve`), when that takedown is still what stands and no other
    /// notice holds the listing down. Idempotent like the others.
    fn reverse(
        &self,
        n: &NoticeRecord,
        mut item: NoticeItemRecord,
    ) -> Result<NoticeItemRecord, AppError> {
        let tag = reversal_tag(&item.notice_id, &item.item_id);
        let down = self.decision_by(&item, &removal_tag(&item.notice_id, &item.item_id))?;
        let reason = item
            .review
            .as_ref()
            .map(|r| r.reason.clone())
            .unwrap_or_default();
        let why = format!(
            "Restored: a reviewer rejected the self-service removal on notice {} from holder {}: {}",
            item.notice_id, n.stored.holder_id, reason
        );
        let decision_id = self.put_back(n, &item, down, &tag, "notice_rejected", why)?;
        let now = self.now();
        item.version += 1;
        item.updated_at = now;
        item.due_at = None;
        item.restored_at = decision_id.as_ref().map(|_| now);
        item.restore_decision_id = decision_id.clone();
        let row = self.webhook(
            "listing_restored",
            n,
            &item,
            serde_json::json!({"decision_id": decision_id, "after": "self_service_removal_rejected"}),
        )?;
        match self.store.update_notice_item(&item, &[row]) {
            Ok(()) => Ok(item),
            Err(StoreError::Conflict(_)) => Ok(self.item(&item.notice_id, &item.item_id)?.1),
            Err(e) => Err(e.into()),
        }
    }

    /// Stores the takedown decision of an accepted item (once: a decision
    /// naming the item is looked up first) and marks the item done.
    fn take_down(
        &self,
        n: &NoticeRecord,
        mut item: NoticeItemRecord,
    ) -> Result<NoticeItemRecord, AppError> {
        // Before review, a self-service item's takedown is provisional
        // (nothing is recorded against the seller); an accepted item's is
        // the reviewer's, a decision of its own.
        let provisional = item.state == NoticeItemState::Pending && item.self_service;
        let tag = if provisional {
            removal_tag(&item.notice_id, &item.item_id)
        } else {
            takedown_tag(&item.notice_id, &item.item_id)
        };
        let decision_id = match self.decision_by(&item, &tag)? {
            Some(id) => id,
            None => self.record_takedown(n, &item, &tag, provisional)?,
        };
        item.version += 1;
        item.updated_at = self.now();
        item.due_at = None;
        item.takedown_decision_id = Some(decision_id.clone());
        let reason = item.review.as_ref().map(|r| r.reason.clone());
        // A self-service removal is told as such; an accepted item with
        // its reviewer's reason.
        let kind = if provisional {
            "notice_item_removed"
        } else {
            "notice_item_accepted"
        };
        let row = self.webhook(
            kind,
            n,
            &item,
            serde_json::json!({"reason": reason, "decision_id": decision_id,
                               "self_service": item.self_service}),
        )?;
        match self.store.update_notice_item(&item, &[row]) {
            Ok(()) => Ok(item),
            // Another round marked it first, or a reviewer rejected the
            // self-service removal meanwhile: then it goes back up.
            Err(StoreError::Conflict(_)) => {
                let now = self.item(&item.notice_id, &item.item_id)?.1;
                if now.self_service
                    && now.state == NoticeItemState::Rejected
                    && now.restore_decision_id.is_none()
                {
                    return self.reverse(n, now);
                }
                Ok(now)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Every stored decision on the item's listing or video, oldest first.
    fn decisions_of(&self, item: &NoticeItemRecord) -> Result<Vec<Decision>, AppError> {
        Ok(match item.kind {
            NoticeItemKind::Listing => self.store.decisions_for_listing(&item.item_id)?,
            NoticeItemKind::Video => self
                .store
                .video_history(&item.item_id)?
                .into_iter()
                .map(|v| v.decision)
                .collect(),
            NoticeItemKind::Stream => self
                .streams
                .stored(&item.item_id)?
                .and_then(|v| v.decision)
                .into_iter()
                .collect(),
        })
    }

    /// The decision of the item's latest listing or video version.
    fn latest_decision_id(&self, item: &NoticeItemRecord) -> Result<Option<String>, AppError> {
        Ok(match item.kind {
            NoticeItemKind::Listing => self
                .store
                .latest_listing(&item.item_id)?
                .map(|s| Decision::decision_id(&item.item_id, s.version)),
            NoticeItemKind::Video => self
                .store
                .latest_video(&item.item_id)?
                .map(|v| Decision::decision_id(&v.video.subject_id(), v.version)),
            // A stopped stream is never live again: nothing is put back.
            NoticeItemKind::Stream => None,
        })
    }

    /// The id of a stored decision on the item's content whose cause
    /// names `tag`.
    fn decision_by(&self, item: &NoticeItemRecord, tag: &str) -> Result<Option<String>, AppError> {
        Ok(self
            .decisions_of(item)?
            .into_iter()
            .find(|d| d.cause.as_ref().is_some_and(|c| c.by == tag))
            .map(|d| d.decision_id))
    }

    fn record_takedown(
        &self,
        n: &NoticeRecord,
        item: &NoticeItemRecord,
        tag: &str,
        provisional: bool,
    ) -> Result<String, AppError> {
        let notice = &n.stored.notice;
        let right = self.store.right(&notice.right_id)?.map(|r| r.right);
        let kind = right
            .as_ref()
            .map_or(ViolationType::Trademark, |r| violation_type(r.kind));
        let reason = item
            .review
            .as_ref()
            .map(|r| r.reason.clone())
            .unwrap_or_default();
        let why = if provisional {
            format!(
                "Taken down at filing on notice {} from holder {}, relying on right {}: the holder has self-service removal (its notices were accurate). A reviewer checks the item next; nothing counts against the shop unless the reviewer accepts it",
                notice.id, n.stored.holder_id, notice.right_id
            )
        } else {
            format!(
                "Taken down on notice {} from holder {}, relying on right {}; a reviewer accepted it: {}",
                notice.id, n.stored.holder_id, notice.right_id, reason
            )
        };
        let violation = Violation {
            kind,
            right_id: Some(notice.right_id.clone()),
            rule_id: None,
            detector: "notice".into(),
            confidence: 1.0,
            evidence: Evidence {
                mark: right.as_ref().and_then(|r| r.mark.clone()),
                method: Some("notice".into()),
                why: why.clone(),
                ..Evidence::default()
            },
        };
        let cause = Cause {
            change: if provisional {
                Cause::SELF_SERVICE_REMOVAL.into()
            } else {
                "notice".into()
            },
            right_id: Some(notice.right_id.clone()),
            rule_ids: Vec::new(),
            shop_id: None,
            version: notice.id.clone(),
            by: tag.to_string(),
            why,
        };
        self.record(item, Action::Reject, vec![violation], 1.0, cause)
    }

    /// Stores a decision taken on a notice as the listing's next version
    /// (retrying when the listing changes meanwhile) and hands it to
    /// enforcement. An open case on the previous version closes.
    fn record(
        &self,
        item: &NoticeItemRecord,
        action: Action,
        violations: Vec<Violation>,
        score: f64,
        cause: Cause,
    ) -> Result<String, AppError> {
        match item.kind {
            NoticeItemKind::Listing => {}
            NoticeItemKind::Video => {
                return self.record_video(item, action, violations, score, cause);
            }
            NoticeItemKind::Stream => {
                if action != Action::Reject {
                    return Err(AppError::Conflict(format!(
                        "stream {:?}: a stopped stream is never live again",
                        item.item_id
                    )));
                }
                return self
                    .streams
                    .stop_on_notice(&item.item_id, violations, cause)?
                    .ok_or_else(|| AppError::not_found("stream", &item.item_id));
            }
        }
        let listing_id = item.item_id.as_str();
        for _ in 0..TRIES {
            // Another process may have stored it meanwhile.
            if let Some(id) = self.decision_by(item, &cause.by)? {
                return Ok(id);
            }
            let stored = self
                .store
                .latest_listing(listing_id)?
                .ok_or_else(|| AppError::not_found("listing", listing_id))?;
            let prev = Decision::decision_id(listing_id, stored.version);
            let version = stored.version + 1;
            let decision = Decision {
                id: listing_id.to_string(),
                decision_id: Decision::decision_id(listing_id, version),
                listing_version: version,
                action,
                score,
                violations: violations.clone(),
                registry_version: self.store.registry_version()?,
                policy_versions: Default::default(),
                decided_at: self.now(),
                source: DecisionSource::Notice,
                cause: Some(Box::new(cause.clone())),
            };
            let screened = Screened {
                terms: crate::sweep::listing_terms(
                    &stored.listing,
                    &decision,
                    &self.screening.image_hashes(&stored.listing),
                ),
                listing: stored.listing,
                version,
                content_hash: stored.content_hash,
                decision,
            };
            let prev_action = self.store.decision(&prev)?.map(|d| d.action);
            let kept = self.screening.record_after_listing(vec![screened])?;
            let Some(s) = kept.into_iter().next() else {
                continue;
            };
            if let Some(a) = prev_action {
                let open = self
                    .review
                    .standings(&[(prev.as_str(), a)])?
                    .first()
                    .is_some_and(|(_, open)| *open);
                if open {
                    let reason = format!("superseded by {} ({})", s.decision.decision_id, cause.by);
                    match self.review.close_case(&prev, &reason) {
                        Ok(()) | Err(AppError::Conflict(_)) => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            return Ok(s.decision.decision_id);
        }
        Err(AppError::Conflict(format!(
            "listing {listing_id:?} kept changing; try again"
        )))
    }

    /// Stores a decision taken on a notice as a video's next version (same
    /// content), retrying when the video changes meanwhile, and hands it to
    /// enforcement against the creator (a removal) like a screening's. An
    /// open case on the previous version closes.
    fn record_video(
        &self,
        item: &NoticeItemRecord,
        action: Action,
        violations: Vec<Violation>,
        score: f64,
        cause: Cause,
    ) -> Result<String, AppError> {
        for _ in 0..TRIES {
            if let Some(id) = self.decision_by(item, &cause.by)? {
                return Ok(id);
            }
            let prior = self
                .store
                .latest_video(&item.item_id)?
                .ok_or_else(|| AppError::not_found("video", &item.item_id))?;
            // Stored by another process between the two reads: it stands.
            if prior
                .decision
                .cause
                .as_ref()
                .is_some_and(|c| c.by == cause.by)
            {
                return Ok(prior.decision.decision_id);
            }
            let subject_id = prior.video.subject_id();
            let prev = prior.decision.clone();
            let version = prior.version + 1;
            let now = self.now();
            let decision = Decision {
                id: subject_id.clone(),
                decision_id: Decision::decision_id(&subject_id, version),
                listing_version: version,
                action,
                score,
                violations: violations.clone(),
                registry_version: self.store.registry_version()?,
                policy_versions: Default::default(),
                decided_at: now,
                source: DecisionSource::Notice,
                cause: Some(Box::new(cause.clone())),
            };
            let stored = StoredVideo {
                video: prior.video.clone(),
                version,
                content_hash: prior.content_hash.clone(),
                decision: decision.clone(),
                submitted_at: now,
            };
            match self.store.record_video(&stored) {
                Ok(()) => {}
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
            if action != Action::Approve {
                match shopshield_enforce::Subject::of_content(
                    "video",
                    &subject_id,
                    &prior.video.creator_id,
                    None,
                    prior.video.region,
                    &decision,
                ) {
                    Ok(subject) => {
                        if let Err(e) = self.review.ingest_subjects(&[(subject, &decision)]) {
                            tracing::error!(decision = %decision.decision_id, error = %e, "video decision stored but not enforced");
                        }
                    }
                    Err(e) => {
                        tracing::warn!(decision = %decision.decision_id, error = %e, "video decision not enforceable")
                    }
                }
            }
            let open = self
                .review
                .standings(&[(prev.decision_id.as_str(), prev.action)])?
                .first()
                .is_some_and(|(_, open)| *open);
            if open {
                let reason = format!("superseded by {} ({})", decision.decision_id, cause.by);
                match self.review.close_case(&prev.decision_id, &reason) {
                    Ok(()) | Err(AppError::Conflict(_)) => {}
                    Err(e) => return Err(e),
                }
            }
            return Ok(decision.decision_id);
        }
        Err(AppError::Conflict(format!(
            "video {:?} kept changing; try again",
            item.item_id
        )))
    }

    /// The seller of a taken-down item files a counter-notice: the listing
    /// is restored after the configured business days unless the holder
    /// records a court action.
    pub fn counter_notice(
        &self,
        p: &Principal,
        notice_id: &str,
        item_id: &str,
        counter: CounterNotice,
    ) -> Result<NoticeItemRecord, AppError> {
        p.require(Permission::FileCounterNotices)?;
        let (n, old) = self.item(notice_id, item_id)?;
        let party = match old.kind {
            NoticeItemKind::Listing => {
                p.role == Role::Seller && p.shop_id.as_deref() == Some(old.shop_id.as_str())
            }
            NoticeItemKind::Video | NoticeItemKind::Stream => {
                p.role == Role::Creator && p.creator_id.is_some() && p.creator_id == old.creator_id
            }
        };
        if !party {
            return Err(AppError::not_found("notice item", item_id));
        }
        counter.validate()?;
        if old.kind == NoticeItemKind::Stream {
            return Err(AppError::Conflict(format!(
                "item {item_id:?} is a livestream: a stopped stream is never live again, so there is nothing to restore; the creator may appeal the violation instead"
            )));
        }
        if old.state == NoticeItemState::Accepted && old.takedown_decision_id.is_none() {
            return Err(AppError::Conflict(format!(
                "item {item_id:?} is accepted but its takedown is not stored yet; try again shortly"
            )));
        }
        if old.state != NoticeItemState::Accepted {
            return Err(AppError::Conflict(format!(
                "only an accepted (taken down) item can be countered, once; item {item_id:?} is {}",
                old.state.as_str()
            )));
        }
        let now = self.now();
        let restore_at = add_business_days(now, self.config.restore_after_business_days);
        let mut item = old;
        item.version += 1;
        item.updated_at = now;
        item.state = NoticeItemState::Countered;
        item.due_at = Some(restore_at);
        item.counter_notice = Some(FiledCounterNotice {
            counter_notice: counter,
            filed_by: p.id.clone(),
            filed_at: now,
            restore_at,
        });
        let row = self.webhook(
            "counter_notice_filed",
            &n,
            &item,
            serde_json::json!({"restore_at": restore_at}),
        )?;
        self.store.update_notice_item(&item, &[row])?;
        Ok(item)
    }

    /// The holder records that it filed a court action: a countered item
    /// is not restored.
    pub fn court_action(
        &self,
        p: &Principal,
        notice_id: &str,
        item_id: &str,
        action: CourtAction,
    ) -> Result<NoticeItemRecord, AppError> {
        p.require(Permission::FileNotices)?;
        let (n, old) = self.item(notice_id, item_id)?;
        if !p.manages_holder(&n.stored.holder_id) {
            return Err(AppError::not_found("notice", notice_id));
        }
        action.validate()?;
        if old.state != NoticeItemState::Countered {
            return Err(AppError::Conflict(format!(
                "a court action is recorded on a countered item before it is restored; item {item_id:?} is {}",
                old.state.as_str()
            )));
        }
        let now = self.now();
        if let Some(at) = old.counter_notice.as_ref().map(|c| c.restore_at)
            && now >= at
        {
            return Err(AppError::Conflict(format!(
                "the waiting time ended at {at}: the item is being restored"
            )));
        }
        let mut item = old;
        item.version += 1;
        item.updated_at = now;
        item.state = NoticeItemState::Upheld;
        item.due_at = None;
        item.court_action = Some(RecordedCourtAction {
            court_action: action.clone(),
            recorded_by: p.id.clone(),
            recorded_at: now,
        });
        let row = self.webhook(
            "court_action_recorded",
            &n,
            &item,
            serde_json::json!({"court": action.court, "reference": action.reference}),
        )?;
        self.store.update_notice_item(&item, &[row])?;
        Ok(item)
    }

    // ----------------------------------------------------------- due work

    /// Does the work due now: takedowns of accepted items not yet stored
    /// (a crash between accepting and storing) and restorations whose
    /// time came. Idempotent, also across processes.
    pub fn run_due(&self) -> Result<DueReport, AppError> {
        let mut report = DueReport::default();
        let now = self.now();
        let due = self.store.notice_items_due(now, DUE_PAGE)?;
        for item in due {
            let Some(n) = self.store.notice(&item.notice_id)? else {
                continue;
            };
            let restored = match item.state {
                NoticeItemState::Accepted => {
                    self.take_down(&n, item)?;
                    report.taken_down += 1;
                    false
                }
                // A self-service removal not yet stored.
                NoticeItemState::Pending if item.self_service => {
                    self.take_down(&n, item)?;
                    report.taken_down += 1;
                    false
                }
                NoticeItemState::Countered => self.restore(&n, item)?,
                // A rejected self-service removal not yet put back.
                NoticeItemState::Rejected if item.self_service => {
                    self.reverse(&n, item)?.restore_decision_id.is_some()
                }
                _ => false,
            };
            report.restored += u64::from(restored);
        }
        Ok(report)
    }

    /// Restores a countered item's listing (a decision with source
    /// `notice` and action `approve`) when its takedown is still what
    /// stands; otherwise (a newer version or decision) the item is closed
    /// as restored without a decision. Returns whether this call did it.
    fn restore(&self, n: &NoticeRecord, mut item: NoticeItemRecord) -> Result<bool, AppError> {
        let tag = restore_tag(&item.notice_id, &item.item_id);
        let why = format!(
            "Restored: the seller filed a counter-notice to notice {} and the holder recorded no court action within {} business days",
            item.notice_id, self.config.restore_after_business_days
        );
        let down = item.takedown_decision_id.clone();
        let decision_id = self.put_back(n, &item, down, &tag, "counter_notice", why)?;
        let now = self.now();
        item.version += 1;
        item.updated_at = now;
        item.state = NoticeItemState::Restored;
        item.due_at = None;
        item.restored_at = Some(now);
        item.restore_decision_id = decision_id.clone();
        let row = self.webhook(
            "listing_restored",
            n,
            &item,
            serde_json::json!({"decision_id": decision_id}),
        )?;
        match self.store.update_notice_item(&item, &[row]) {
            Ok(()) => Ok(true),
            Err(StoreError::Conflict(_)) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Puts an item's listing or video back with an `approve` decision
    /// whose cause names `tag` (`change`, `why`), when `takedown` is still
    /// the decision that stands and no other notice holds it down. Answers
    /// the decision (also one an earlier call stored), or `None` when
    /// nothing was put back (a newer version or decision stands).
    fn put_back(
        &self,
        n: &NoticeRecord,
        item: &NoticeItemRecord,
        takedown: Option<String>,
        tag: &str,
        change: &str,
        why: String,
    ) -> Result<Option<String>, AppError> {
        if let Some(id) = self.decision_by(item, tag)? {
            return Ok(Some(id));
        }
        let stands = match (takedown, self.latest_decision_id(item)?) {
            (Some(down), Some(latest)) => down == latest,
            _ => false,
        };
        if !stands || self.other_takedown_stands(item)? {
            return Ok(None);
        }
        let cause = Cause {
            change: change.into(),
            right_id: Some(n.stored.notice.right_id.clone()),
            shop_id: None,
            rule_ids: Vec::new(),
            version: n.stored.notice.id.clone(),
            by: tag.to_string(),
            why,
        };
        Ok(Some(self.record(
            item,
            Action::Approve,
            Vec::new(),
            0.0,
            cause,
        )?))
    }

    /// Whether another notice's accepted item on the same listing still
    /// holds it down (accepted and not countered, or upheld by a court
    /// action): then a counter-notice to this one puts nothing back.
    fn other_takedown_stands(&self, item: &NoticeItemRecord) -> Result<bool, AppError> {
        const PAGE: usize = 500;
        let mut after: Option<String> = None;
        loop {
            let page = self.store.notices(&NoticeFilter {
                shop_id: Some(item.shop_id.clone()),
                after: after.clone(),
                limit: PAGE,
                ..NoticeFilter::default()
            })?;
            let Some(last) = page.last() else {
                return Ok(false);
            };
            after = Some(last.stored.notice.id.clone());
            let stands = page.iter().flat_map(|n| &n.items).any(|o| {
                o.item_id == item.item_id
                    && o.notice_id != item.notice_id
                    && (matches!(o.state, NoticeItemState::Accepted | NoticeItemState::Upheld)
                        || (o.state == NoticeItemState::Pending
                            && o.self_service
                            && o.takedown_decision_id.is_some()))
            });
            if stands {
                return Ok(true);
            }
            if page.len() < PAGE {
                return Ok(false);
            }
        }
    }

    /// Runs due work until `stop` is set (servers and workers).
    pub fn watch(&self, stop: &AtomicBool) {
        let every = Duration::from_millis(self.config.poll_interval_ms);
        while !stop.load(Ordering::Relaxed) {
            match self.run_due() {
                Ok(r) if r != DueReport::default() => {
                    tracing::info!(
                        taken_down = r.taken_down,
                        restored = r.restored,
                        "notice work done"
                    )
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "notice round failed; retrying"),
            }
            crate::sleep_unless(stop, every);
        }
    }

    /// One fact per notice item for the transparency report (each item
    /// is a notice about one piece of content, as the DSA counts them):
    /// when it was received, its listing's region, whether a reviewer
    /// accepted it (`None` while pending), and its counter-notice.
    pub(crate) fn report_facts(&self) -> Result<Vec<shopshield_report::NoticeFact>, AppError> {
        const PAGE: usize = 500;
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = self.store.notices(&NoticeFilter {
                after: after.clone(),
                limit: PAGE,
                ..NoticeFilter::default()
            })?;
            let Some(last) = page.last() else { break };
            after = Some(last.stored.notice.id.clone());
            let full = page.len() == PAGE;
            for n in &page {
                for i in &n.items {
                    let region = match i.kind {
                        NoticeItemKind::Listing => self
                            .store
                            .latest_listing(&i.item_id)?
                            .map(|s| s.listing.region),
                        NoticeItemKind::Video => {
                            self.store.latest_video(&i.item_id)?.map(|s| s.video.region)
                        }
                        NoticeItemKind::Stream => {
                            self.streams.stored(&i.item_id)?.map(|v| v.stream.region)
                        }
                    };
                    out.push(shopshield_report::NoticeFact {
                        received_at: n.stored.received_at,
                        region,
                        accepted: match i.state {
                            NoticeItemState::Pending => None,
                            s => Some(s.was_accepted()),
                        },
                        counter_notice_at: i.counter_notice.as_ref().map(|c| c.filed_at),
                    });
                }
            }
            if !full {
                break;
            }
        }
        Ok(out)
    }
}
