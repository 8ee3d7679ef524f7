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
    OutboxStatus, RecordedCourtAction, Screened, Store, StoreError, StoredNotice,
};

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
    /// The listing's latest version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listing: Option<Listing>,
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

/// The notices service.
pub struct Notices {
    store: Arc<dyn Store>,
    screening: Arc<Screening>,
    review: Arc<Review>,
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
        clock: Arc<dyn Clock>,
        config: NoticesConfig,
    ) -> Notices {
        Notices {
            store,
            screening,
            review,
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
        let mut items = Vec::with_capacity(notice.items.len());
        for (i, it) in notice.items.iter().enumerate() {
            let Some(stored) = self.store.latest_listing(&it.id)? else {
                return Err(ValidationError::new(
                    format!("items[{i}].id"),
                    format!("no listing {:?} exists", it.id),
                )
                .into());
            };
            items.push(NoticeItemRecord::pending(
                &notice.id,
                &it.id,
                it.kind.unwrap_or(NoticeItemKind::Listing),
                stored.listing.shop_id,
                now,
            ));
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
            Filed::New(r) => {
                tracing::info!(notice = %r.stored.notice.id, items = r.items.len(), "notice filed");
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
        match p.role {
            Role::RightsHolder => f.holder_id = Some(p.holder_id.clone().unwrap_or_default()),
            Role::Seller => f.shop_id = Some(p.shop_id.clone().unwrap_or_default()),
            _ => {}
        }
        let mut out = self.store.notices(&f)?;
        for n in &mut out {
            if let Some(shop) = &f.shop_id {
                n.items.retain(|i| &i.shop_id == shop);
            }
            if let Some(s) = state {
                n.items.retain(|i| i.state == s);
            }
        }
        Ok(out)
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
                n.items.retain(|i| i.shop_id == shop);
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
            let listing = self.store.latest_listing(&item.item_id)?.map(|s| s.listing);
            let detectors = self
                .store
                .decisions_for_listing(&item.item_id)?
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
        Ok(OutboxRow {
            idempotency_key: key,
            seq,
            kind: kind.to_string(),
            payload: body.to_string(),
            status: OutboxStatus::Pending,
            failures: 0,
            next_attempt_at: now,
            delivered_at: None,
            last_error: None,
        })
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
        item.due_at = accepted.then_some(now);
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
        Ok(item)
    }

    /// Stores the takedown decision of an accepted item (once: a decision
    /// naming the item is looked up first) and marks the item done.
    fn take_down(
        &self,
        n: &NoticeRecord,
        mut item: NoticeItemRecord,
    ) -> Result<NoticeItemRecord, AppError> {
        let tag = takedown_tag(&item.notice_id, &item.item_id);
        let decision_id = match self.decision_by(&item.item_id, &tag)? {
            Some(id) => id,
            None => self.record_takedown(n, &item, &tag)?,
        };
        item.version += 1;
        item.updated_at = self.now();
        item.due_at = None;
        item.takedown_decision_id = Some(decision_id.clone());
        let reason = item.review.as_ref().map(|r| r.reason.clone());
        let row = self.webhook(
            "notice_item_accepted",
            n,
            &item,
            serde_json::json!({"reason": reason, "decision_id": decision_id}),
        )?;
        match self.store.update_notice_item(&item, &[row]) {
            Ok(()) => Ok(item),
            // Another round marked it first.
            Err(StoreError::Conflict(_)) => Ok(self.item(&item.notice_id, &item.item_id)?.1),
            Err(e) => Err(e.into()),
        }
    }

    /// The id of a stored decision on the listing whose cause names `tag`.
    fn decision_by(&self, listing_id: &str, tag: &str) -> Result<Option<String>, AppError> {
        Ok(self
            .store
            .decisions_for_listing(listing_id)?
            .into_iter()
            .find(|d| d.cause.as_ref().is_some_and(|c| c.by == tag))
            .map(|d| d.decision_id))
    }

    fn record_takedown(
        &self,
        n: &NoticeRecord,
        item: &NoticeItemRecord,
        tag: &str,
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
        let why = format!(
            "Taken down on notice {} from holder {}, relying on right {}; a reviewer accepted it: {}",
            notice.id, n.stored.holder_id, notice.right_id, reason
        );
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
            change: "notice".into(),
            right_id: Some(notice.right_id.clone()),
            rule_ids: Vec::new(),
            version: notice.id.clone(),
            by: tag.to_string(),
            why,
        };
        self.record(&item.item_id, Action::Reject, vec![violation], 1.0, cause)
    }

    /// Stores a decision taken on a notice as the listing's next version
    /// (retrying when the listing changes meanwhile) and hands it to
    /// enforcement. An open case on the previous version closes.
    fn record(
        &self,
        listing_id: &str,
        action: Action,
        violations: Vec<Violation>,
        score: f64,
        cause: Cause,
    ) -> Result<String, AppError> {
        for _ in 0..TRIES {
            // Another process may have stored it meanwhile.
            if let Some(id) = self.decision_by(listing_id, &cause.by)? {
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
                terms: crate::sweep::listing_terms(&stored.listing, &decision),
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
        if p.shop_id.as_deref() != Some(old.shop_id.as_str()) {
            return Err(AppError::not_found("notice item", item_id));
        }
        counter.validate()?;
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
                NoticeItemState::Countered => self.restore(&n, item)?,
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
        let decision_id = match self.decision_by(&item.item_id, &tag)? {
            Some(id) => Some(id),
            None => {
                let stands = match self.store.latest_listing(&item.item_id)? {
                    Some(s) => {
                        item.takedown_decision_id.as_deref()
                            == Some(Decision::decision_id(&item.item_id, s.version).as_str())
                    }
                    None => false,
                };
                if stands && !self.other_takedown_stands(&item)? {
                    let why = format!(
                        "Restored: the seller filed a counter-notice to notice {} and the holder recorded no court action within {} business days",
                        item.notice_id, self.config.restore_after_business_days
                    );
                    let cause = Cause {
                        change: "counter_notice".into(),
                        right_id: Some(n.stored.notice.right_id.clone()),
                        rule_ids: Vec::new(),
                        version: n.stored.notice.id.clone(),
                        by: tag.clone(),
                        why,
                    };
                    Some(self.record(&item.item_id, Action::Approve, Vec::new(), 0.0, cause)?)
                } else {
                    None
                }
            }
        };
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
                    && matches!(o.state, NoticeItemState::Accepted | NoticeItemState::Upheld)
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
                    let region = self
                        .store
                        .latest_listing(&i.item_id)?
                        .map(|s| s.listing.region);
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
