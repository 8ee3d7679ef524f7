//! Enforcement wired into the application: every stored `review` decision
//! becomes a case and every confident `reject` a violation; reviewers work
//! the queues; shops and creators see their record and appeal; penalties
//! gate new submissions; notifications go to the outbox.
//!
//! The state is a fold of the hash-chained log in the store. It is loaded
//! (and verified against the stored anchor) when the application opens,
//! held in memory behind a mutex, and changed only by appending events:
//! the store append comes first, so the state never runs ahead of the log.
//! Time comes from the application's [`crate::Clock`].

use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use serde::Serialize;
use shopshield_enforce::chain::{self, Anchor, LogEntry, StoredEntry};
use shopshield_enforce::{
    Actor, AppealState, CaseState, CaseView, Command, CommandError, EnforcementConfig, Enforcer,
    Event, ListingStatus, Party, PartyView, PenaltyKind, QueueKey, QueueSummary, State,
    TamperError, Verdict, ViolationRecord, notification_for,
};
use shopshield_model::{Action, Listing, Region, Role, ValidationError, ViolationType};
use shopshield_store::{
    LogAnchor, LogRecord, OutboxRow, OutboxStatus, Screened, Store, StoreError,
};

use crate::{App, AppError, Principal};

/// How often a command is run again after another writer appended first.
const APPEND_RETRIES: usize = 16;
/// Decisions read per page when catching up.
const BACKLOG_PAGE: usize = 2_000;

/// The enforcement part of the application.
pub(crate) struct Enforcement {
    enforcer: Enforcer,
    live: Mutex<Live>,
    /// The instant of the last scheduled tick (`None`: not yet run).
    last_tick: Mutex<Option<DateTime<Utc>>>,
}

/// The replayed state and the log head it corresponds to.
struct Live {
    state: State,
    head: Anchor,
}

fn stored(r: &LogRecord) -> StoredEntry {
    StoredEntry {
        seq: r.seq,
        prev_hash: r.prev_hash.clone(),
        hash: r.hash.clone(),
        body: r.body.clone(),
    }
}

fn tampered(e: &TamperError) -> AppError {
    AppError::Integrity(format!(
        "the enforcement log failed verification: {e}; refusing to start (run `shopshield audit verify`)"
    ))
}

fn command_error(e: CommandError) -> AppError {
    match e {
        CommandError::Invalid(v) => AppError::Invalid(v),
        CommandError::EvidenceRequired => AppError::Invalid(ValidationError::new(
            "cited_evidence",
            "a rejected appeal must cite at least one evidence item of the violation",
        )),
        CommandError::UnknownCase(id) => AppError::not_found("case", &id),
        CommandError::UnknownViolation(id) => AppError::not_found("violation", &id),
        CommandError::UnknownAppeal(id) => AppError::not_found("appeal", &id),
        CommandError::NotAParty { violation_id, .. } => {
            AppError::not_found("violation", &violation_id)
        }
        e @ CommandError::SameReviewer(_) => AppError::Forbidden(e.to_string()),
        e @ (CommandError::DuplicateDecision(_)
        | CommandError::Case(_)
        | CommandError::NoAppeal { .. }
        | CommandError::AppealWindowClosed { .. }
        | CommandError::AppealAlreadyDecided(_)
        | CommandError::ClockSkew { .. }) => AppError::Conflict(e.to_string()),
    }
}

/// Verifies stored records against the anchor and replays them.
fn load(store: &dyn Store) -> Result<Live, AppError> {
    let records: Vec<StoredEntry> = store.log_records(0, None)?.iter().map(stored).collect();
    let anchor = store.log_anchor()?.map(|a| Anchor {
        seq: a.seq,
        hash: a.hash,
    });
    let entries = chain::verify_records(&records, anchor.as_ref()).map_err(|e| tampered(&e))?;
    let mut state = State::new();
    for e in &entries {
        state.apply(&e.event).map_err(|error| {
            AppError::Integrity(format!("enforcement log entry {}: {error}", e.seq))
        })?;
    }
    let head = records
        .last()
        .map_or_else(Anchor::genesis, StoredEntry::anchor);
    Ok(Live { state, head })
}

impl Live {
    /// Applies entries another writer appended since our head.
    fn refresh(&mut self, store: &dyn Store) -> Result<(), AppError> {
        let records: Vec<StoredEntry> = store
            .log_records(self.head.seq, None)?
            .iter()
            .map(stored)
            .collect();
        if records.is_empty() {
            return Ok(());
        }
        let entries = chain::verify_from(&self.head, &records, None).map_err(|e| tampered(&e))?;
        for e in &entries {
            self.state.apply(&e.event).map_err(|error| {
                AppError::Integrity(format!("enforcement log entry {}: {error}", e.seq))
            })?;
        }
        if let Some(last) = records.last() {
            self.head = last.anchor();
        }
        Ok(())
    }

    /// Seals `events` after the head and appends them with their outbox
    /// rows. Does not touch the state.
    fn append(
        &self,
        store: &dyn Store,
        events: &[Event],
        now: DateTime<Utc>,
    ) -> Result<Vec<LogEntry>, StoreError> {
        let sealed = chain::seal(&self.head, events);
        let mut rows = Vec::with_capacity(sealed.len());
        let mut outbox = Vec::new();
        let mut entries = Vec::with_capacity(sealed.len());
        for (r, e) in sealed.iter().zip(events) {
            let entry = LogEntry {
                seq: r.seq,
                prev_hash: r.prev_hash.clone(),
                hash: r.hash.clone(),
                event: e.clone(),
            };
            if let Some(n) = notification_for(&entry) {
                outbox.push(OutboxRow {
                    idempotency_key: n.idempotency_key.clone(),
                    seq: n.seq,
                    kind: n.kind.as_str().to_string(),
                    payload: n.body(),
                    status: OutboxStatus::Pending,
                    failures: 0,
                    next_attempt_at: now,
                    delivered_at: None,
                    last_error: None,
                });
            }
            rows.push(LogRecord {
                seq: r.seq,
                prev_hash: r.prev_hash.clone(),
                hash: r.hash.clone(),
                body: r.body.clone(),
                at: e.at,
            });
            entries.push(entry);
        }
        store.append_log(self.head.seq, &rows, &outbox)?;
        Ok(entries)
    }
}

impl Enforcement {
    /// Loads and verifies the log; refuses a tampered one.
    pub(crate) fn open(
        store: &dyn Store,
        config: &EnforcementConfig,
    ) -> Result<Enforcement, AppError> {
        let enforcer = Enforcer::new(config.clone())
            .map_err(|e| ValidationError::new(format!("enforcement.{}", e.field), e.reason))?;
        Ok(Enforcement {
            enforcer,
            live: Mutex::new(load(store)?),
            last_tick: Mutex::new(None),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Live> {
        // Every change is appended to the store before the state is touched,
        // and a failed apply reloads; a poisoned lock is safe to reuse.
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The state, brought up to date with the store.
    fn current(&self, store: &dyn Store) -> Result<MutexGuard<'_, Live>, AppError> {
        let mut live = self.lock();
        if store.log_head_seq()? != live.head.seq {
            live.refresh(store)?;
        }
        Ok(live)
    }

    /// Runs one command: computes its events against the current state,
    /// appends them (retrying after a concurrent writer), applies them.
    fn execute(
        &self,
        store: &dyn Store,
        command: &Command,
        actor: &Actor,
        clock: DateTime<Utc>,
    ) -> Result<Vec<LogEntry>, AppError> {
        let mut live = self.lock();
        for _ in 0..APPEND_RETRIES {
            let now = live.state.effective_now(clock);
            let events = self
                .enforcer
                .execute(&live.state, command, actor, now)
                .map_err(command_error)?;
            if events.is_empty() {
                return Ok(Vec::new());
            }
            match live.append(store, &events, now) {
                Ok(entries) => {
                    for e in &entries {
                        if let Err(error) = live.state.apply(&e.event) {
                            // Cannot happen for events the enforcer made
                            // against this state; the store is the truth.
                            tracing::error!(%error, "event did not apply; reloading");
                            *live = load(store)?;
                            break;
                        }
                    }
                    if let Some(last) = entries.last() {
                        live.head = Anchor {
                            seq: last.seq,
                            hash: last.hash.clone(),
                        };
                    }
                    return Ok(entries);
                }
                Err(StoreError::Conflict(_)) => live.refresh(store)?,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::Conflict(
            "the enforcement log is busy; try again".into(),
        ))
    }

    /// Hands stored decisions to enforcement, all in one append: `review`
    /// opens a case, a confident `reject` records a violation. Decisions
    /// already handed over are skipped, so this is idempotent. Returns the
    /// number of decisions that changed something.
    fn ingest(
        &self,
        store: &dyn Store,
        items: &[(&Listing, &shopshield_model::Decision)],
        clock: DateTime<Utc>,
    ) -> Result<usize, AppError> {
        let mut live = self.lock();
        for _ in 0..APPEND_RETRIES {
            let now = live.state.effective_now(clock);
            let mut events = Vec::new();
            let mut changed = 0;
            for (listing, decision) in items {
                if decision.action == Action::Approve {
                    continue;
                }
                let id = &decision.decision_id;
                if live.state.case(id).is_some()
                    || live.state.violation(&ViolationRecord::id_for(id)).is_some()
                {
                    continue;
                }
                let subject = match shopshield_enforce::Subject::of(listing, decision) {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::warn!(decision = %id, error = %e, "decision not enforceable");
                        continue;
                    }
                };
                let command = Command::Ingest {
                    subject,
                    decision: (*decision).clone(),
                };
                let evs = match self
                    .enforcer
                    .execute(&live.state, &command, &Actor::System, now)
                {
                    Ok(evs) => evs,
                    Err(e) => {
                        tracing::warn!(decision = %id, error = %e, "decision not ingested");
                        continue;
                    }
                };
                if evs.is_empty() {
                    continue;
                }
                // Later decisions of the batch are computed against the
                // state with this one applied.
                for e in &evs {
                    if let Err(error) = live.state.apply(e) {
                        tracing::error!(%error, "ingest event did not apply; reloading");
                        *live = load(store)?;
                        return Err(AppError::Integrity(error.to_string()));
                    }
                }
                changed += 1;
                events.extend(evs);
            }
            if events.is_empty() {
                return Ok(0);
            }
            match live.append(store, &events, now) {
                Ok(entries) => {
                    if let Some(last) = entries.last() {
                        live.head = Anchor {
                            seq: last.seq,
                            hash: last.hash.clone(),
                        };
                    }
                    return Ok(changed);
                }
                Err(e) => {
                    // The state ran ahead of the log: go back to the log.
                    *live = load(store)?;
                    if !matches!(e, StoreError::Conflict(_)) {
                        return Err(e.into());
                    }
                }
            }
        }
        Err(AppError::Conflict(
            "the enforcement log is busy; try again".into(),
        ))
    }
}

// ------------------------------------------------------------------ views

/// Where a listing stands on the platform.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ListingStatusView {
    pub listing_id: String,
    pub shop_id: String,
    pub version: u32,
    pub decision_id: String,
    /// The gate's action on this version.
    pub action: Action,
    /// `live`, `pending_review`, `removed`, or `rejected` (the gate rejected
    /// it and no violation was recorded).
    pub status: &'static str,
    /// When enforcement last changed the status, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changed_at: Option<DateTime<Utc>>,
    /// Shop penalties in force now (a deactivated shop's listings are off
    /// the platform whatever their status).
    pub shop_penalties: Vec<PenaltyKind>,
}

/// One log entry as an admin sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogEntryView {
    pub seq: u64,
    pub prev_hash: String,
    pub hash: String,
    pub event: shopshield_enforce::Event,
}

impl From<LogEntry> for LogEntryView {
    fn from(e: LogEntry) -> Self {
        LogEntryView {
            seq: e.seq,
            prev_hash: e.prev_hash,
            hash: e.hash,
            event: e.event,
        }
    }
}

/// What a command did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CommandOutcome {
    /// The entries appended, in order.
    pub entries: Vec<LogEntryView>,
}

/// The result of `audit verify`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditReport {
    /// Entries checked.
    pub entries: u64,
    /// The head of the log.
    pub head: Anchor,
    /// The anchor kept apart from the log (matches the head when intact).
    pub anchor: Option<LogAnchor>,
    /// Events by type.
    pub events: std::collections::BTreeMap<String, u64>,
}

/// Why an audit failed.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The log was edited, reordered, truncated or rewritten.
    #[error(transparent)]
    Tampered(#[from] TamperError),
    /// The chain holds, but an event does not apply to the state before it.
    #[error("log entry {seq}: {reason}")]
    Replay { seq: u64, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AuditError {
    /// The first bad entry, if the log itself is at fault.
    pub fn seq(&self) -> Option<u64> {
        match self {
            AuditError::Tampered(t) => Some(t.seq),
            AuditError::Replay { seq, .. } => Some(*seq),
            AuditError::Store(_) => None,
        }
    }
}

/// Verifies the whole enforcement log of a store: the hash chain, the
/// anchor, and that replaying it gives a state. Works without opening the
/// application (which refuses a tampered log).
pub fn audit_log(store: &dyn Store) -> Result<AuditReport, AuditError> {
    let records: Vec<StoredEntry> = store.log_records(0, None)?.iter().map(stored).collect();
    let anchor = store.log_anchor()?;
    let a = anchor.clone().map(|a| Anchor {
        seq: a.seq,
        hash: a.hash,
    });
    let entries = chain::verify_records(&records, a.as_ref())?;
    let mut state = State::new();
    let mut events = std::collections::BTreeMap::new();
    for e in &entries {
        state.apply(&e.event).map_err(|err| AuditError::Replay {
            seq: e.seq,
            reason: err.to_string(),
        })?;
        *events.entry(e.event.kind.name().to_string()).or_insert(0) += 1;
    }
    Ok(AuditReport {
        entries: entries.len() as u64,
        head: records
            .last()
            .map_or_else(Anchor::genesis, StoredEntry::anchor),
        anchor,
        events,
    })
}

/// Parses a queue key from its two path segments: a violation type (or
/// `unclassified`) and a region.
pub fn parse_queue(kind: &str, region: &str) -> Result<QueueKey, ValidationError> {
    let kind = if kind == "unclassified" {
        None
    } else {
        Some(
            ViolationType::ALL
                .into_iter()
                .find(|t| t.as_str() == kind)
                .ok_or_else(|| {
                    ValidationError::new(
                        "type",
                        format!("{kind:?} is not a violation type or `unclassified`"),
                    )
                })?,
        )
    };
    let region = Region::parse("region", region)?;
    if region.is_all() {
        return Err(ValidationError::new("region", "a queue is for one region"));
    }
    Ok(QueueKey { kind, region })
}

fn reviewer_of(p: &Principal) -> Result<String, AppError> {
    match p.role {
        Role::Admin | Role::Reviewer => Ok(p.id.clone()),
        role => Err(AppError::Forbidden(format!(
            "{role} keys cannot work review cases or decide appeals"
        ))),
    }
}

fn actor_of(p: &Principal) -> Actor {
    match p.role {
        Role::Admin => Actor::Admin { id: p.id.clone() },
        Role::Reviewer => Actor::Reviewer { id: p.id.clone() },
        Role::Seller => Actor::Shop {
            id: p.shop_id.clone().unwrap_or_default(),
        },
        Role::Creator => Actor::Creator {
            id: p.creator_id.clone().unwrap_or_default(),
        },
        Role::Service | Role::RightsHolder => Actor::Service,
    }
}

impl App {
    fn enforcer_config(&self) -> &EnforcementConfig {
        self.enforcement.enforcer.config()
    }

    /// Hands decisions that were stored but never handed to enforcement
    /// (a crash between the two) to it. Idempotent. Runs when the
    /// application opens.
    pub(crate) fn enforcement_catch_up(&self) -> Result<usize, AppError> {
        let store = self.store();
        let mut cursor = store.enforcement_cursor()?;
        let mut n = 0;
        loop {
            let page = store.enforcement_backlog(cursor, BACKLOG_PAGE)?;
            let Some(last) = page.last() else { break };
            cursor = last.position;
            let items: Vec<(&Listing, &shopshield_model::Decision)> =
                page.iter().map(|i| (&i.listing, &i.decision)).collect();
            n += self.enforcement.ingest(store, &items, self.now())?;
        }
        store.set_enforcement_cursor(cursor)?;
        if n > 0 {
            tracing::info!(decisions = n, "enforcement caught up with stored decisions");
        }
        Ok(n)
    }

    /// Called right after decisions are stored. A failure here loses
    /// nothing: the decisions are committed, and the next start-up catches
    /// up with them.
    pub(crate) fn enforcement_ingest(&self, screened: &[Screened]) {
        let items: Vec<(&Listing, &shopshield_model::Decision)> = screened
            .iter()
            .filter(|s| s.decision.action != Action::Approve)
            .map(|s| (&s.listing, &s.decision))
            .collect();
        if items.is_empty() {
            return;
        }
        if let Err(e) = self.enforcement.ingest(self.store(), &items, self.now()) {
            tracing::error!(error = %e, "decisions stored but not yet enforced; the next start catches up");
        }
    }

    /// Refuses a submission the shop's or creator's penalties forbid: a
    /// deactivated shop submits nothing; a shop whose new listings are
    /// capped may change its existing listings but not add new ones; a
    /// suspended or revoked creator may not sell.
    pub(crate) fn enforcement_admit(&self, listing: &Listing) -> Result<(), AppError> {
        let now = self.now();
        let cfg = self.enforcer_config();
        let (shop, creator) = {
            let live = self.enforcement.lock();
            let shop = live
                .state
                .penalties_due(&Party::Shop(listing.shop_id.clone()), cfg, now);
            let creator = listing.creator_id.as_ref().map(|c| {
                live.state
                    .penalties_due(&Party::Creator(c.clone()), cfg, now)
            });
            (shop, creator)
        };
        if let Some(p) = shop.iter().find(|p| {
            matches!(
                p.kind,
                PenaltyKind::ShopDeactivated | PenaltyKind::ShopPermanentlyDeactivated
            )
        }) {
            return Err(AppError::Forbidden(format!(
                "shop {} is under penalty {} (penalty {}{}); it cannot submit listings; see GET /v1/shops/{}/enforcement",
                listing.shop_id,
                p.kind.as_str(),
                p.id,
                p.until.map(|u| format!(", until {u}")).unwrap_or_default(),
                listing.shop_id
            )));
        }
        if let Some(p) = creator.iter().flatten().find(|p| {
            matches!(
                p.kind,
                PenaltyKind::CreatorSuspended | PenaltyKind::CreatorRevoked
            )
        }) {
            return Err(AppError::Forbidden(format!(
                "creator {} is under penalty {} (penalty {}); it may not sell",
                listing.creator_id.as_deref().unwrap_or_default(),
                p.kind.as_str(),
                p.id
            )));
        }
        if let Some(p) = shop.iter().find(|p| p.kind == PenaltyKind::ListingsCapped)
            && self.store().latest_listing(&listing.id)?.is_none()
        {
            return Err(AppError::Forbidden(format!(
                "shop {} is under penalty {} (penalty {}): it may change its existing listings but not add new ones",
                listing.shop_id,
                p.kind.as_str(),
                p.id
            )));
        }
        Ok(())
    }

    fn run_command(&self, p: &Principal, command: Command) -> Result<CommandOutcome, AppError> {
        let entries = self
            .enforcement
            .execute(self.store(), &command, &actor_of(p), self.now())?;
        Ok(CommandOutcome {
            entries: entries.into_iter().map(Into::into).collect(),
        })
    }

    /// Every review queue with open cases, with ages against the SLA.
    pub fn review_queues(&self, p: &Principal) -> Result<Vec<QueueSummary>, AppError> {
        reviewer_of(p)?;
        let live = self.enforcement.current(self.store())?;
        Ok(live.state.queues(self.enforcer_config(), self.now()))
    }

    /// Open cases of one queue, oldest first.
    pub fn review_queue(&self, p: &Principal, queue: &QueueKey) -> Result<Vec<CaseView>, AppError> {
        reviewer_of(p)?;
        let live = self.enforcement.current(self.store())?;
        Ok(live.state.queue(queue, self.enforcer_config(), self.now()))
    }

    /// A case with the decision behind it (reviewers and admins).
    pub fn review_case(&self, p: &Principal, case_id: &str) -> Result<CaseState, AppError> {
        if reviewer_of(p).is_err() {
            return Err(AppError::not_found("case", case_id));
        }
        let live = self.enforcement.current(self.store())?;
        live.state
            .case(case_id)
            .cloned()
            .ok_or_else(|| AppError::not_found("case", case_id))
    }

    /// Takes the exclusive lease on a case (or renews one's own).
    pub fn claim_case(&self, p: &Principal, case_id: &str) -> Result<CaseState, AppError> {
        let reviewer = reviewer_of(p)?;
        self.run_command(
            p,
            Command::ClaimCase {
                case_id: case_id.to_string(),
                reviewer,
            },
        )?;
        self.review_case(p, case_id)
    }

    /// Gives a claimed case back to its queue.
    pub fn release_case(&self, p: &Principal, case_id: &str) -> Result<CaseState, AppError> {
        let reviewer = reviewer_of(p)?;
        self.run_command(
            p,
            Command::ReleaseCase {
                case_id: case_id.to_string(),
                reviewer,
            },
        )?;
        self.review_case(p, case_id)
    }

    /// Upholds (listing removed, violation recorded) or clears (listing
    /// live) a case the caller holds the lease on.
    pub fn decide_case(
        &self,
        p: &Principal,
        case_id: &str,
        verdict: Verdict,
        note: &str,
    ) -> Result<CommandOutcome, AppError> {
        let reviewer = reviewer_of(p)?;
        self.run_command(
            p,
            Command::DecideCase {
                case_id: case_id.to_string(),
                reviewer,
                verdict,
                note: note.to_string(),
            },
        )
    }

    /// A shop's or creator's record: points, violations with evidence and
    /// appeal deadlines, penalties, next milestone.
    pub fn enforcement_record(&self, p: &Principal, party: &Party) -> Result<PartyView, AppError> {
        let visible = match party {
            Party::Shop(id) => {
                matches!(p.role, Role::Admin | Role::Reviewer) || {
                    p.role == Role::Seller && p.shop_id.as_deref() == Some(id.as_str())
                }
            }
            Party::Creator(id) => p.sees_creator(id),
        };
        if !visible {
            let what = match party {
                Party::Shop(_) => "shop",
                Party::Creator(_) => "creator",
            };
            return Err(AppError::not_found(what, party.id()));
        }
        let live = self.enforcement.current(self.store())?;
        Ok(live
            .state
            .party_view(party, self.enforcer_config(), self.now()))
    }

    /// The shop or creator of the caller files an appeal of a violation
    /// recorded against it.
    pub fn file_appeal(
        &self,
        p: &Principal,
        violation_id: &str,
        statement: &str,
    ) -> Result<AppealState, AppError> {
        let appellant = match (p.role, &p.shop_id, &p.creator_id) {
            (Role::Seller, Some(s), _) => Party::Shop(s.clone()),
            (Role::Creator, _, Some(c)) => Party::Creator(c.clone()),
            (role, _, _) => {
                return Err(AppError::Forbidden(format!(
                    "{role} keys cannot appeal; the shop or creator a violation is recorded against appeals it"
                )));
            }
        };
        let out = self.run_command(
            p,
            Command::FileAppeal {
                violation_id: violation_id.to_string(),
                appellant,
                statement: statement.to_string(),
            },
        )?;
        let appeal_id = out
            .entries
            .iter()
            .find_map(|e| match &e.event.kind {
                shopshield_enforce::EventKind::AppealFiled { appeal_id, .. } => {
                    Some(appeal_id.clone())
                }
                _ => None,
            })
            .ok_or_else(|| AppError::Conflict("the appeal was not recorded".into()))?;
        let live = self.enforcement.lock();
        live.state
            .appeal(&appeal_id)
            .cloned()
            .ok_or_else(|| AppError::not_found("appeal", &appeal_id))
    }

    /// An appeal, for its parties, reviewers and admins.
    pub fn appeal(&self, p: &Principal, appeal_id: &str) -> Result<AppealState, AppError> {
        let live = self.enforcement.current(self.store())?;
        let a = live
            .state
            .appeal(appeal_id)
            .ok_or_else(|| AppError::not_found("appeal", appeal_id))?;
        let parties = live
            .state
            .violation(&a.violation_id)
            .map(|v| v.record.parties())
            .unwrap_or_default();
        let visible = matches!(p.role, Role::Admin | Role::Reviewer)
            || parties.iter().any(|party| match party {
                Party::Shop(id) => {
                    p.role == Role::Seller && p.shop_id.as_deref() == Some(id.as_str())
                }
                Party::Creator(id) => p.role == Role::Creator && p.sees_creator(id),
            });
        if !visible {
            return Err(AppError::not_found("appeal", appeal_id));
        }
        Ok(a.clone())
    }

    /// A reviewer who made neither the original decision nor an earlier
    /// appeal decision upholds (reverses the violation, its points and
    /// penalties; reinstates the listing) or rejects (citing evidence) an
    /// appeal.
    pub fn decide_appeal(
        &self,
        p: &Principal,
        appeal_id: &str,
        upheld: bool,
        reason: &str,
        cited_evidence: Vec<usize>,
    ) -> Result<AppealState, AppError> {
        let reviewer = reviewer_of(p)?;
        self.run_command(
            p,
            Command::DecideAppeal {
                appeal_id: appeal_id.to_string(),
                reviewer,
                upheld,
                reason: reason.to_string(),
                cited_evidence,
            },
        )?;
        self.appeal(p, appeal_id)
    }

    /// Applies the expiries and penalty ends due now (admins and the
    /// platform service; the server also runs it when due).
    pub fn enforcement_tick(&self, p: &Principal) -> Result<CommandOutcome, AppError> {
        if !matches!(p.role, Role::Admin | Role::Service) {
            return Err(AppError::Forbidden(format!(
                "{} keys cannot run enforcement ticks",
                p.role
            )));
        }
        self.run_command(p, Command::Tick)
    }

    /// Runs a tick if one has something to do: the first time, and then
    /// whenever a points expiry or a penalty end has come since the last.
    /// Returns the number of entries appended. The server calls this
    /// periodically.
    pub fn enforcement_tick_if_due(&self) -> Result<usize, AppError> {
        let now = self.now();
        let mut last = self
            .enforcement
            .last_tick
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let due = match *last {
            None => true,
            Some(prev) => {
                let live = self.enforcement.lock();
                self.enforcement
                    .enforcer
                    .next_due(&live.state, prev)
                    .is_some_and(|t| t <= now)
            }
        };
        if !due {
            return Ok(0);
        }
        let out = self.run_command(&Principal::admin("scheduler"), Command::Tick)?;
        *last = Some(now);
        Ok(out.entries.len())
    }

    /// When a tick next has something to do.
    pub fn enforcement_next_due(&self) -> Option<DateTime<Utc>> {
        let live = self.enforcement.lock();
        let now = live.state.effective_now(self.now());
        self.enforcement.enforcer.next_due(&live.state, now)
    }

    /// Log entries after `after` (admins).
    pub fn enforcement_log(
        &self,
        p: &Principal,
        after: u64,
        limit: usize,
    ) -> Result<Vec<LogEntryView>, AppError> {
        if !p.is_admin() {
            return Err(AppError::Forbidden(
                "only admins read the enforcement log".into(),
            ));
        }
        let records = self.store().log_records(after, Some(limit))?;
        records
            .iter()
            .map(|r| stored(r).decode().map(Into::into).map_err(|e| tampered(&e)))
            .collect()
    }

    /// Outbox rows after log entry `after_seq` (admins).
    pub fn enforcement_outbox(
        &self,
        p: &Principal,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<OutboxRow>, AppError> {
        if !p.is_admin() {
            return Err(AppError::Forbidden(
                "only admins read the webhook outbox".into(),
            ));
        }
        Ok(self.store().outbox_rows(after_seq, limit)?)
    }

    /// Webhook deliveries due now.
    pub fn due_deliveries(&self, limit: usize) -> Result<Vec<OutboxRow>, AppError> {
        Ok(self.store().due_deliveries(self.now(), limit)?)
    }

    /// Records the outcome of one delivery attempt: delivered, or failed and
    /// scheduled again with the configured backoff (dead after the last
    /// attempt).
    pub fn record_delivery(
        &self,
        mut row: OutboxRow,
        outcome: Result<(), String>,
    ) -> Result<OutboxRow, AppError> {
        let now = self.now();
        match outcome {
            Ok(()) => {
                row.status = OutboxStatus::Delivered;
                row.delivered_at = Some(now);
                row.last_error = None;
            }
            Err(e) => {
                row.failures = row.failures.saturating_add(1);
                row.last_error = Some(e.chars().take(500).collect());
                match self
                    .enforcer_config()
                    .webhooks
                    .next_attempt(row.failures, now)
                {
                    Some(t) => row.next_attempt_at = t,
                    None => row.status = OutboxStatus::Dead,
                }
            }
        }
        self.store().update_delivery(&row)?;
        Ok(row)
    }

    /// Where a listing's latest version stands.
    pub fn listing_status(&self, p: &Principal, id: &str) -> Result<ListingStatusView, AppError> {
        let stored = self.listing(p, id)?;
        let decision_id = shopshield_model::Decision::decision_id(id, stored.version);
        let decision = self
            .store()
            .decision(&decision_id)?
            .ok_or_else(|| AppError::not_found("decision", &decision_id))?;
        let now = self.now();
        let live = self.enforcement.current(self.store())?;
        let (status, changed_at) = match live.state.listing(&decision_id) {
            Some(l) => (
                match l.status {
                    ListingStatus::Live => "live",
                    ListingStatus::Removed => "removed",
                    ListingStatus::PendingReview => "pending_review",
                },
                Some(l.changed_at),
            ),
            None => (
                match decision.action {
                    Action::Approve => "live",
                    Action::Review => "pending_review",
                    Action::Reject => "rejected",
                },
                None,
            ),
        };
        let shop_penalties = live
            .state
            .penalties_due(
                &Party::Shop(stored.listing.shop_id.clone()),
                self.enforcer_config(),
                now,
            )
            .into_iter()
            .map(|p| p.kind)
            .collect();
        Ok(ListingStatusView {
            listing_id: id.to_string(),
            shop_id: stored.listing.shop_id,
            version: stored.version,
            decision_id,
            action: decision.action,
            status,
            changed_at,
            shop_penalties,
        })
    }
}
