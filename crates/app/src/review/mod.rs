//! The review and enforcement service: every stored `review` decision
//! becomes a case and every confident `reject` a violation; reviewers work
//! the queues; shops and creators see their record and appeal; penalties
//! gate new submissions; notifications go to the outbox.
//!
//! The state is a fold of the hash-chained log in the store. It is loaded
//! (from the latest snapshot plus the entries after it, verified against
//! the stored anchor) when the service opens, held in memory behind a
//! mutex, and changed only by appending events: the store append comes
//! first, so the state never runs ahead of the log. Several processes may
//! append to one log: each append names the head it was computed from, and
//! a process that lost the race refreshes and computes again. Case leases
//! are also kept in the store, taken in the same transaction as the claim
//! event, so two processes never hold one case. Time comes from the
//! application's [`crate::Clock`].

mod live;

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::Serialize;
use shopshield_enforce::chain::{self, Anchor, LogEntry, StoredEntry, TamperError};
use shopshield_enforce::{
    AppealState, CaseState, CaseView, Command, CommandError, EnforcementConfig, Enforcer,
    ListingStatus, Party, PartyView, PenaltyKind, QueueKey, QueueSummary, State, Verdict,
    ViolationRecord,
};
use shopshield_model::{
    Action, Listing, Permission, Principal, Region, ValidationError, ViolationType,
};
use shopshield_store::{
    CatalogStore, EnforcementStore, KeyStore, LogAnchor, RegistryStore, Screened, StoreError,
};

use crate::{AppError, Clock};
use live::Live;

/// How often a command is run again after another writer appended first.
const APPEND_RETRIES: usize = 16;
/// Decisions read per page when catching up.
const BACKLOG_PAGE: usize = 2_000;
/// A snapshot is written once this many entries were applied since the
/// last one.
const SNAPSHOT_EVERY: u64 = 5_000;

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

/// The review and enforcement service.
pub struct Review {
    log: Arc<dyn EnforcementStore>,
    catalog: Arc<dyn CatalogStore>,
    /// To refuse upholding a case that rests on a disabled right.
    rights: Arc<dyn RegistryStore>,
    /// Who holds which role: what a shop or creator is shown of the
    /// reviewers who decided about it.
    keys: Arc<dyn KeyStore>,
    clock: Arc<dyn Clock>,
    enforcer: Enforcer,
    live: Mutex<Live>,
    /// The instant of the last scheduled tick (`None`: not yet run).
    last_tick: Mutex<Option<DateTime<Utc>>>,
}

impl Review {
    /// Loads and verifies the log (from the latest snapshot); refuses a
    /// tampered one. Then hands over decisions stored but never handed to
    /// enforcement (a crash between the two).
    pub(crate) fn open(
        log: Arc<dyn EnforcementStore>,
        catalog: Arc<dyn CatalogStore>,
        rights: Arc<dyn RegistryStore>,
        keys: Arc<dyn KeyStore>,
        config: &EnforcementConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Review, AppError> {
        let enforcer = Enforcer::new(config.clone())
            .map_err(|e| ValidationError::new(format!("enforcement.{}", e.field), e.reason))?;
        let live = Live::load(log.as_ref())?;
        let review = Review {
            log,
            catalog,
            rights,
            keys,
            clock,
            enforcer,
            live: Mutex::new(live),
            last_tick: Mutex::new(None),
        };
        review.catch_up()?;
        Ok(review)
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn config(&self) -> &EnforcementConfig {
        self.enforcer.config()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Live> {
        // Every change is appended to the store before the state is touched,
        // and a failed apply reloads; a poisoned lock is safe to reuse.
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The state, brought up to date with the store.
    fn current(&self) -> Result<std::sync::MutexGuard<'_, Live>, AppError> {
        let mut live = self.lock();
        if self.log.log_head_seq()? != live.head.seq {
            live.refresh(self.log.as_ref())?;
        }
        Ok(live)
    }

    /// Runs one command for a caller: checks the permission table and that
    /// the caller acts for itself, computes the events against the current
    /// state, appends them (retrying after a concurrent writer), applies
    /// them.
    fn run(&self, p: &Principal, command: &Command) -> Result<CommandOutcome, AppError> {
        shopshield_enforce::authorize(p, command).map_err(|f| AppError::Forbidden(f.0))?;
        let actor = shopshield_enforce::actor_of(p);
        let clock = self.now();
        let mut live = self.lock();
        for _ in 0..APPEND_RETRIES {
            let now = live.state.effective_now(clock);
            let events = self
                .enforcer
                .execute(&live.state, command, &actor, now)
                .map_err(command_error)?;
            if events.is_empty() {
                return Ok(CommandOutcome { entries: vec![] });
            }
            match live.append(self.log.as_ref(), &events, now) {
                Ok(entries) => {
                    if let Err(e) = live.apply(&entries) {
                        // Cannot happen for events the enforcer made against
                        // this state; the store is the truth.
                        tracing::error!(error = %e, "event did not apply; reloading");
                        *live = Live::load(self.log.as_ref())?;
                    }
                    return Ok(CommandOutcome {
                        entries: entries.into_iter().map(Into::into).collect(),
                    });
                }
                Err(StoreError::Conflict(_)) => live.refresh(self.log.as_ref())?,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::Conflict(
            "the enforcement log is busy; try again".into(),
        ))
    }

    /// Hands stored decisions to enforcement, all in one append: `review`
    /// opens a case, a confident `reject` records a violation. Decisions
    /// already handed over are skipped, so this is idempotent, also across
    /// processes. Returns the number of decisions that changed something.
    fn ingest(&self, items: &[(&Listing, &shopshield_model::Decision)]) -> Result<usize, AppError> {
        let subjects: Vec<(shopshield_enforce::Subject, &shopshield_model::Decision)> = items
            .iter()
            .filter(|(_, d)| d.action != Action::Approve)
            .filter_map(|(listing, decision)| {
                match shopshield_enforce::Subject::of(listing, decision) {
                    Ok(s) => Some((s, *decision)),
                    Err(e) => {
                        tracing::warn!(decision = %decision.decision_id, error = %e, "decision not enforceable");
                        None
                    }
                }
            })
            .collect();
        self.ingest_subjects(&subjects)
    }

    /// [`Review::ingest`] for decisions whose subjects are built already:
    /// videos and livestreams, whose parties are not a listing's.
    pub(crate) fn ingest_subjects(
        &self,
        items: &[(shopshield_enforce::Subject, &shopshield_model::Decision)],
    ) -> Result<usize, AppError> {
        let clock = self.now();
        let mut live = self.lock();
        for _ in 0..APPEND_RETRIES {
            if self.log.log_head_seq()? != live.head.seq {
                live.refresh(self.log.as_ref())?;
            }
            let now = live.state.effective_now(clock);
            // The batch's events are applied as they are made (later
            // decisions see earlier ones), keeping what they change: a lost
            // append race (another writer, e.g. a second worker on the same
            // PostgreSQL, appended first) puts those entries back and reads
            // only the other writer's entries, instead of reloading the
            // whole state.
            let mut saved = live.state.savepoint();
            let mut events = Vec::new();
            let mut changed = 0;
            for (subject, decision) in items {
                if decision.action == Action::Approve {
                    continue;
                }
                let id = &decision.decision_id;
                if live.state.case(id).is_some()
                    || live.state.violation(&ViolationRecord::id_for(id)).is_some()
                {
                    continue;
                }
                let command = Command::Ingest {
                    subject: subject.clone(),
                    decision: (*decision).clone(),
                };
                let evs = match self.enforcer.execute(
                    &live.state,
                    &command,
                    &shopshield_enforce::Actor::System,
                    now,
                ) {
                    Ok(evs) => evs,
                    Err(e) => {
                        tracing::warn!(decision = %id, error = %e, "decision not ingested");
                        continue;
                    }
                };
                // Later decisions of the batch are computed against the
                // state with this one applied.
                for e in &evs {
                    if let Err(error) = live.state.apply_saving(e, &mut saved) {
                        *live = Live::load(self.log.as_ref())?;
                        return Err(AppError::Integrity(error.to_string()));
                    }
                }
                changed += 1;
                events.extend(evs);
            }
            if events.is_empty() {
                return Ok(0);
            }
            // The state already holds the events; the head moves only once
            // the append succeeded.
            match live.append(self.log.as_ref(), &events, now) {
                Ok(entries) => {
                    if let Some(last) = entries.last() {
                        live.head = Anchor {
                            seq: last.seq,
                            hash: last.hash.clone(),
                        };
                    }
                    live.since_snapshot += entries.len() as u64;
                    return Ok(changed);
                }
                Err(StoreError::Conflict(_)) => {
                    // The state ran ahead of the log: back to where this
                    // batch began, then forward over the other writer's
                    // entries.
                    live.state.roll_back(saved);
                    live.refresh(self.log.as_ref())?;
                }
                Err(e) => {
                    // Go back to the log (the latest snapshot and the
                    // entries after it).
                    *live = Live::load(self.log.as_ref())?;
                    return Err(e.into());
                }
            }
        }
        Err(AppError::Conflict(
            "the enforcement log is busy; try again".into(),
        ))
    }

    /// Hands decisions that were stored but never handed to enforcement
    /// (a crash between the two, in this process or another) to it.
    /// Idempotent; safe to run in several processes at once. Runs when the
    /// service opens and periodically in servers and workers.
    pub fn catch_up(&self) -> Result<usize, AppError> {
        let mut cursor = self.log.enforcement_cursor()?;
        let mut n = 0;
        loop {
            let page = self.catalog.enforcement_backlog(cursor, BACKLOG_PAGE)?;
            let Some(last) = page.last() else { break };
            let items: Vec<(&Listing, &shopshield_model::Decision)> =
                page.iter().map(|i| (&i.listing, &i.decision)).collect();
            n += self.ingest(&items)?;
            cursor = last.position;
            self.log.advance_enforcement_cursor(cursor)?;
        }
        if n > 0 {
            tracing::info!(decisions = n, "enforcement caught up with stored decisions");
        }
        Ok(n)
    }

    /// Called right after decisions are stored. A failure here loses
    /// nothing: the decisions are committed, and the next catch-up hands
    /// them over.
    pub(crate) fn after_commit(&self, screened: &[Screened]) {
        let items: Vec<(&Listing, &shopshield_model::Decision)> = screened
            .iter()
            .filter(|s| s.decision.action != Action::Approve)
            .map(|s| (&s.listing, &s.decision))
            .collect();
        if items.is_empty() {
            return;
        }
        if let Err(e) = self.ingest(&items) {
            tracing::error!(error = %e, "decisions stored but not yet enforced; the next catch-up hands them over");
        }
    }

    /// Writes a snapshot of the state when enough entries were applied
    /// since the last one (servers and workers call this now and then).
    pub fn snapshot_if_due(&self) -> Result<bool, AppError> {
        let mut live = self.current()?;
        if live.since_snapshot < SNAPSHOT_EVERY {
            return Ok(false);
        }
        live.snapshot(self.log.as_ref(), self.now())?;
        Ok(true)
    }

    /// Writes a snapshot of the state now (the operator's command).
    pub fn snapshot(&self) -> Result<u64, AppError> {
        let mut live = self.current()?;
        live.snapshot(self.log.as_ref(), self.now())?;
        Ok(live.head.seq)
    }

    /// Refuses a submission the shop's or creator's penalties forbid: a
    /// deactivated shop submits nothing; a shop whose new listings are
    /// capped may change its existing listings but not add new ones; a
    /// suspended or revoked creator may not sell. `exists` says whether
    /// the listing is already stored.
    /// Refuses content from a creator whose selling permission is
    /// suspended or revoked (videos, livestreams).
    pub(crate) fn admit_creator(&self, creator_id: &str) -> Result<(), AppError> {
        let now = self.now();
        let cfg = self.config();
        let due = {
            let live = self.current()?;
            live.state
                .penalties_due(&Party::Creator(creator_id.to_string()), cfg, now)
        };
        if let Some(p) = due.iter().find(|p| {
            matches!(
                p.kind,
                PenaltyKind::CreatorSuspended | PenaltyKind::CreatorRevoked
            )
        }) {
            return Err(AppError::Forbidden(format!(
                "creator {creator_id} is under penalty {} (penalty {}); it may not sell; see GET /v1/creators/{creator_id}/enforcement",
                p.kind.as_str(),
                p.id
            )));
        }
        Ok(())
    }

    pub(crate) fn admit(&self, listing: &Listing, exists: bool) -> Result<(), AppError> {
        let now = self.now();
        let cfg = self.config();
        let (shop, creator) = {
            let live = self.current()?;
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
            && !exists
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

    // --------------------------------------------------------------- cases

    /// Every review queue with open cases, with ages against the SLA.
    pub fn queues(&self, p: &Principal) -> Result<Vec<QueueSummary>, AppError> {
        p.require(Permission::WorkCases)?;
        let live = self.current()?;
        Ok(live.state.queues(self.config(), self.now()))
    }

    /// Open cases of one queue, oldest first.
    pub fn queue(&self, p: &Principal, queue: &QueueKey) -> Result<Vec<CaseView>, AppError> {
        p.require(Permission::WorkCases)?;
        let live = self.current()?;
        Ok(live.state.queue(queue, self.config(), self.now()))
    }

    /// A case with the decision behind it (reviewers and admins).
    pub fn case(&self, p: &Principal, case_id: &str) -> Result<CaseState, AppError> {
        if !p.can(Permission::WorkCases) {
            return Err(AppError::not_found("case", case_id));
        }
        let live = self.current()?;
        live.state
            .case(case_id)
            .cloned()
            .ok_or_else(|| AppError::not_found("case", case_id))
    }

    /// Takes the exclusive lease on a case (or renews one's own).
    pub fn claim(&self, p: &Principal, case_id: &str) -> Result<CaseState, AppError> {
        p.require(Permission::WorkCases)?;
        self.run(
            p,
            &Command::ClaimCase {
                case_id: case_id.to_string(),
                reviewer: p.id.clone(),
            },
        )?;
        self.case(p, case_id)
    }

    /// Claims the oldest open case of a queue that nobody holds. Two
    /// reviewers asking at once get different cases.
    pub fn claim_next(
        &self,
        p: &Principal,
        queue: &QueueKey,
    ) -> Result<Option<CaseState>, AppError> {
        p.require(Permission::WorkCases)?;
        let now = self.now();
        let candidates: Vec<String> = {
            let live = self.current()?;
            live.state
                .queue(queue, self.config(), now)
                .into_iter()
                .filter(|c| c.claimed_by.is_none())
                .map(|c| c.case_id)
                .collect()
        };
        for case_id in candidates {
            match self.claim(p, &case_id) {
                Ok(case) => return Ok(Some(case)),
                // Taken by someone else meanwhile: the next one.
                Err(AppError::Conflict(_)) => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }

    /// Gives a claimed case back to its queue.
    pub fn release(&self, p: &Principal, case_id: &str) -> Result<CaseState, AppError> {
        p.require(Permission::WorkCases)?;
        self.run(
            p,
            &Command::ReleaseCase {
                case_id: case_id.to_string(),
                reviewer: p.id.clone(),
            },
        )?;
        self.case(p, case_id)
    }

    /// Upholds (listing removed, violation recorded) or clears (listing
    /// live) a case the caller holds the lease on.
    pub fn decide(
        &self,
        p: &Principal,
        case_id: &str,
        verdict: Verdict,
        note: &str,
    ) -> Result<CommandOutcome, AppError> {
        p.require(Permission::WorkCases)?;
        if matches!(verdict, Verdict::Uphold { .. }) {
            self.check_rights_in_force(p, case_id)?;
        }
        self.run(
            p,
            &Command::DecideCase {
                case_id: case_id.to_string(),
                reviewer: p.id.clone(),
                verdict,
                note: note.to_string(),
            },
        )
    }

    /// Refuses to uphold a case whose findings all rest on rights that
    /// are disabled now (or gone): nothing it was about is enforced any
    /// more.
    fn check_rights_in_force(&self, p: &Principal, case_id: &str) -> Result<(), AppError> {
        let case = self.case(p, case_id)?;
        let findings = &case.decision.violations;
        if findings.is_empty() || findings.iter().any(|v| v.right_id.is_none()) {
            return Ok(());
        }
        let now = self.now();
        let mut disabled: Vec<String> = Vec::new();
        let mut why: Vec<String> = Vec::new();
        for v in findings {
            let Some(id) = &v.right_id else { continue };
            let right = self.rights.right(id)?.map(|r| r.right);
            let out = match &right {
                Some(r) => r.not_in_force(now),
                None => Some(format!("right {id} is gone")),
            };
            let Some(out) = out else {
                return Ok(());
            };
            if !disabled.contains(id) {
                disabled.push(id.clone());
                why.push(out);
            }
        }
        Err(AppError::Conflict(format!(
            "case {case_id} rests on right(s) {} that are no longer in force ({}); it cannot be upheld",
            disabled.join(", "),
            why.join("; ")
        )))
    }

    /// Where listing versions stand: for each `(decision id, action)`, its
    /// status (`live`, `pending_review`, `removed`, `rejected`) and whether
    /// a case on it is open.
    pub(crate) fn standings(
        &self,
        items: &[(&str, Action)],
    ) -> Result<Vec<(&'static str, bool)>, AppError> {
        let live = self.current()?;
        Ok(items
            .iter()
            .map(|(id, action)| {
                let status = match live.state.listing(id) {
                    Some(l) => match l.status {
                        ListingStatus::Live => "live",
                        ListingStatus::Removed => "removed",
                        ListingStatus::PendingReview => "pending_review",
                    },
                    None => match action {
                        Action::Approve => "live",
                        Action::Review => "pending_review",
                        Action::Reject => "rejected",
                    },
                };
                let open = live.state.case(id).is_some_and(|c| c.is_open());
                (status, open)
            })
            .collect())
    }

    /// Closes an open case without a verdict (the system acts: a sweep
    /// after a right was disabled, or a newer decision superseding it).
    pub(crate) fn close_case(&self, case_id: &str, reason: &str) -> Result<(), AppError> {
        self.run(
            &Principal::operator("system"),
            &Command::CloseCase {
                case_id: case_id.to_string(),
                reason: reason.to_string(),
            },
        )?;
        Ok(())
    }

    // ------------------------------------------------- records and appeals

    /// A shop's or creator's record: points, violations with evidence and
    /// appeal deadlines, penalties, next milestone.
    pub fn record(&self, p: &Principal, party: &Party) -> Result<PartyView, AppError> {
        if !shopshield_enforce::can_view(p, party) {
            let what = match party {
                Party::Shop(_) => "shop",
                Party::Creator(_) => "creator",
            };
            return Err(AppError::not_found(what, party.id()));
        }
        let view = {
            let live = self.current()?;
            live.state.party_view(party, self.config(), self.now())
        };
        self.shown_to(p, view, |v, roles| {
            for vv in &mut v.violations {
                hide_reviewers_in_record(&mut vv.violation.record, roles);
                for a in &mut vv.appeals {
                    hide_reviewer_in_appeal(a, roles);
                }
            }
        })
    }

    /// What `p` is shown of `value`: callers who work cases or decide
    /// appeals see reviewers' principal ids; anyone else (the shop, the
    /// creator) sees only the role a reviewer acted in (`reviewer` or
    /// `admin`), never who it was.
    fn shown_to<T>(
        &self,
        p: &Principal,
        mut value: T,
        hide: impl FnOnce(&mut T, &dyn Fn(&str) -> String),
    ) -> Result<T, AppError> {
        if p.can(Permission::WorkCases) || p.can(Permission::DecideAppeals) {
            return Ok(value);
        }
        let roles: std::collections::HashMap<String, shopshield_model::Role> = self
            .keys
            .api_keys()?
            .into_iter()
            .map(|k| (k.principal_id, k.role))
            .collect();
        // A principal with no key is the operator at the command line.
        let role_of = |id: &str| {
            roles
                .get(id)
                .copied()
                .unwrap_or(shopshield_model::Role::Admin)
                .to_string()
        };
        hide(&mut value, &role_of);
        Ok(value)
    }

    /// The shop or creator of the caller files an appeal of a violation
    /// recorded against it.
    pub fn file_appeal(
        &self,
        p: &Principal,
        violation_id: &str,
        statement: &str,
    ) -> Result<AppealState, AppError> {
        p.require(Permission::FileAppeals)?;
        let appellant = shopshield_enforce::party_of(p).ok_or_else(|| {
            AppError::Forbidden(
                "only the shop or creator a violation is recorded against appeals it".into(),
            )
        })?;
        let out = self.run(
            p,
            &Command::FileAppeal {
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
        self.appeal(p, &appeal_id)
    }

    /// An appeal, for its parties, reviewers and admins.
    pub fn appeal(&self, p: &Principal, appeal_id: &str) -> Result<AppealState, AppError> {
        let live = self.current()?;
        let a = live
            .state
            .appeal(appeal_id)
            .ok_or_else(|| AppError::not_found("appeal", appeal_id))?;
        let parties = live
            .state
            .violation(&a.violation_id)
            .map(|v| v.record.parties())
            .unwrap_or_default();
        let visible = p.can(Permission::DecideAppeals)
            || parties
                .iter()
                .any(|party| shopshield_enforce::can_view(p, party));
        if !visible {
            return Err(AppError::not_found("appeal", appeal_id));
        }
        let a = a.clone();
        drop(live);
        self.shown_to(p, a, |a, roles| hide_reviewer_in_appeal(a, roles))
    }

    /// Appeals waiting for a decision (`pending`), decided, or both (`all`),
    /// oldest first, for reviewers and admins.
    pub fn appeals(&self, p: &Principal, state: &str) -> Result<Vec<AppealState>, AppError> {
        p.require(Permission::DecideAppeals)?;
        let want: fn(&AppealState) -> bool = match state {
            "pending" => |a| a.decision.is_none(),
            "decided" => |a| a.decision.is_some(),
            "all" => |_| true,
            other => {
                return Err(AppError::Invalid(ValidationError::new(
                    "state",
                    format!("{other:?} is not one of pending, decided, all"),
                )));
            }
        };
        let live = self.current()?;
        let mut out: Vec<AppealState> = live.state.appeals().filter(|a| want(a)).cloned().collect();
        out.sort_by(|a, b| {
            a.filed_at
                .cmp(&b.filed_at)
                .then(a.appeal_id.cmp(&b.appeal_id))
        });
        Ok(out)
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
        p.require(Permission::DecideAppeals)?;
        self.run(
            p,
            &Command::DecideAppeal {
                appeal_id: appeal_id.to_string(),
                reviewer: p.id.clone(),
                upheld,
                reason: reason.to_string(),
                cited_evidence,
            },
        )?;
        self.appeal(p, appeal_id)
    }

    // --------------------------------------------------------------- ticks

    /// Applies the expiries and penalty ends due now (admins and the
    /// platform service; servers also run it when due).
    pub fn tick(&self, p: &Principal) -> Result<CommandOutcome, AppError> {
        self.run(p, &Command::Tick)
    }

    /// Runs a tick if one has something to do: the first time, and then
    /// whenever a points expiry or a penalty end has come since the last.
    /// Returns the number of entries appended.
    pub fn tick_if_due(&self) -> Result<usize, AppError> {
        let now = self.now();
        let mut last = self.last_tick.lock().unwrap_or_else(|p| p.into_inner());
        let due = match *last {
            None => true,
            Some(prev) => {
                let live = self.current()?;
                self.enforcer
                    .next_due(&live.state, prev)
                    .is_some_and(|t| t <= now)
            }
        };
        if !due {
            return Ok(0);
        }
        let out = self.run(&Principal::operator("scheduler"), &Command::Tick)?;
        *last = Some(now);
        Ok(out.entries.len())
    }

    /// When a tick next has something to do.
    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        let live = self.lock();
        let now = live.state.effective_now(self.now());
        self.enforcer.next_due(&live.state, now)
    }

    // ---------------------------------------------------------------- audit

    /// Log entries after `after` (admins).
    pub fn log_entries(
        &self,
        p: &Principal,
        after: u64,
        limit: usize,
    ) -> Result<Vec<LogEntryView>, AppError> {
        p.require(Permission::ReadAuditLog)?;
        let records = self.log.log_records(after, Some(limit))?;
        records
            .iter()
            .map(|r| {
                live::stored(r)
                    .decode()
                    .map(Into::into)
                    .map_err(|e| live::tampered(&e))
            })
            .collect()
    }

    /// What the metrics show of enforcement now: the queues, appeals by
    /// state, violations by type and standing.
    pub(crate) fn gauges(&self) -> Result<EnforcementGauges, AppError> {
        let now = self.now();
        let live = self.current()?;
        let queues = live.state.queues(self.config(), now);
        let mut appeals = std::collections::BTreeMap::new();
        for a in live.state.appeals() {
            let k = match &a.decision {
                None => "pending",
                Some(d) if d.upheld => "upheld",
                Some(_) => "rejected",
            };
            *appeals.entry(k).or_insert(0u64) += 1;
        }
        let mut violations = std::collections::BTreeMap::new();
        for v in live.state.violations() {
            let state = if v.is_standing() {
                "standing"
            } else {
                "reversed"
            };
            *violations
                .entry((v.record.kind.as_str(), state))
                .or_insert(0u64) += 1;
        }
        Ok(EnforcementGauges {
            queues,
            appeals,
            violations,
        })
    }

    /// Every event of the log, in order, decoded from the stored bytes
    /// (for reports; callers check their own permission).
    pub(crate) fn all_events(&self) -> Result<Vec<shopshield_enforce::Event>, AppError> {
        const PAGE: usize = 10_000;
        let mut out = Vec::new();
        let mut after = 0;
        loop {
            let records = self.log.log_records(after, Some(PAGE))?;
            for r in &records {
                out.push(
                    live::stored(r)
                        .decode()
                        .map_err(|e| live::tampered(&e))?
                        .event,
                );
            }
            match records.last() {
                Some(r) if records.len() == PAGE => after = r.seq,
                _ => return Ok(out),
            }
        }
    }

    /// Where a listing's latest version stands: its decision, enforcement
    /// status and the shop's penalties. `stored` is the latest version,
    /// read by the caller with its own access checks.
    pub(crate) fn listing_status(
        &self,
        stored: &shopshield_store::StoredListing,
    ) -> Result<ListingStatusView, AppError> {
        let id = &stored.listing.id;
        let decision_id = shopshield_model::Decision::decision_id(id, stored.version);
        let decision = self
            .catalog
            .decision(&decision_id)?
            .ok_or_else(|| AppError::not_found("decision", &decision_id))?;
        let now = self.now();
        let live = self.current()?;
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
                    Action::Reject if decision.is_provisional() => "removed",
                    Action::Reject => "rejected",
                },
                None,
            ),
        };
        let shop_penalties = live
            .state
            .penalties_due(
                &Party::Shop(stored.listing.shop_id.clone()),
                self.config(),
                now,
            )
            .into_iter()
            .map(|p| p.kind)
            .collect();
        Ok(ListingStatusView {
            listing_id: id.clone(),
            shop_id: stored.listing.shop_id.clone(),
            version: stored.version,
            decision_id,
            action: decision.action,
            status,
            changed_at,
            shop_penalties,
        })
    }
}

// ------------------------------------------------------------------ views

/// Where a listing stands on the platform.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Serialize)]
pub struct ListingStatusView {
    pub listing_id: String,
    pub shop_id: String,
    pub version: u32,
    pub decision_id: String,
    /// The gate's action on this version.
    pub action: Action,
    /// `live`, `pending_review`, `removed`, or `rejected` (the gate rejected
    /// it and no violation was recorded).
    #[schema(value_type = String)]
    pub status: &'static str,
    /// When enforcement last changed the status, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changed_at: Option<DateTime<Utc>>,
    /// Shop penalties in force now (a deactivated shop's listings are off
    /// the platform whatever their status).
    pub shop_penalties: Vec<PenaltyKind>,
}

/// See [`Review::gauges`].
pub(crate) struct EnforcementGauges {
    pub queues: Vec<QueueSummary>,
    pub appeals: std::collections::BTreeMap<&'static str, u64>,
    pub violations: std::collections::BTreeMap<(&'static str, &'static str), u64>,
}

/// One log entry as an admin sees it.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Serialize)]
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
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Serialize)]
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
pub fn audit_log(store: &dyn EnforcementStore) -> Result<AuditReport, AuditError> {
    let records: Vec<StoredEntry> = store
        .log_records(0, None)?
        .iter()
        .map(live::stored)
        .collect();
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

/// A violation's record with each reviewer's id replaced by its role.
fn hide_reviewers_in_record(record: &mut ViolationRecord, role_of: &dyn Fn(&str) -> String) {
    if let shopshield_enforce::Source::Review { reviewer, .. } = &mut record.source {
        *reviewer = role_of(reviewer);
    }
    for v in &mut record.evidence {
        if let Some(id) = v.detector.strip_prefix("reviewer:") {
            v.detector = format!("reviewer:{}", role_of(id));
        }
    }
}

/// An appeal with its decider's id replaced by its role.
fn hide_reviewer_in_appeal(a: &mut AppealState, role_of: &dyn Fn(&str) -> String) {
    if let Some(d) = &mut a.decision {
        d.reviewer = role_of(&d.reviewer);
    }
}
