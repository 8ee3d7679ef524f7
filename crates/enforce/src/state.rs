//! Enforcement state: a fold of the event log. [`State::apply`] is the only
//! way it changes, so replaying the log gives the live state.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::config::{EnforcementConfig, Milestone, PenaltyDuration, PenaltyKind, is_ip};
use crate::event::{Event, EventKind, ListingStatus, Measure, Party, Penalty, ViolationRecord};
use crate::ladder::{self, Contribution};
use crate::queue::{CaseOutcome, CaseState, CaseView, Claim, QueueKey, QueueSummary};

/// A recorded violation and what happened to it since.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ViolationState {
    pub record: ViolationRecord,
    /// Recording order (0 for the first violation in the log).
    pub ordinal: u64,
    /// Its points stopped counting (a `points_expired` event was applied).
    pub expired: bool,
    /// The upheld appeal that reversed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reversed_by: Option<String>,
    /// Its appeals, oldest first.
    pub appeals: Vec<String>,
}

impl ViolationState {
    pub fn is_standing(&self) -> bool {
        self.reversed_by.is_none()
    }
}

/// Points and penalties of a shop or creator.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PartyState {
    /// Points of standing, unexpired violations, as of the last applied
    /// event. (Use [`State::points_at`] for a given instant.)
    pub points: u32,
    /// Violation ids, in recording order.
    pub violations: Vec<String>,
    /// Penalties in force, by id.
    pub penalties: BTreeMap<String, Penalty>,
}

/// An appeal and its decision.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppealState {
    pub appeal_id: String,
    pub violation_id: String,
    pub round: u32,
    pub appellant: Party,
    pub statement: String,
    pub filed_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<AppealDecision>,
}

/// How an appeal was decided.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppealDecision {
    pub reviewer: String,
    pub upheld: bool,
    pub reason: String,
    pub cited_evidence: Vec<usize>,
    pub at: DateTime<Utc>,
}

/// Where a listing version stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingState {
    pub decision_id: String,
    pub listing_id: String,
    pub shop_id: String,
    pub status: ListingStatus,
    pub changed_at: DateTime<Utc>,
}

/// A log that cannot be applied: it was not produced by [`crate::Enforcer`]
/// (or was forged consistently enough to pass the hash chain).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    #[error("{what} {id:?} is unknown")]
    Unknown { what: &'static str, id: String },
    #[error("{what} {id:?} already exists")]
    Duplicate { what: &'static str, id: String },
    #[error("inconsistent event: {0}")]
    Inconsistent(String),
    #[error("event at {at} is earlier than the previous event at {last}")]
    TimeWentBackwards {
        at: DateTime<Utc>,
        last: DateTime<Utc>,
    },
}

/// A change being decided on, not yet in the state.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Delta<'a> {
    pub added: Option<&'a ViolationRecord>,
    pub reversed: Option<&'a str>,
}

/// The entries of a [`State`] as they were before the events applied since
/// [`State::savepoint`] (`None`: the entry did not exist), to undo them:
/// cheaper than copying the whole state when only a batch's worth of
/// entries changes.
#[derive(Debug, Default)]
pub struct Savepoint {
    events: u64,
    last_at: Option<DateTime<Utc>>,
    violations: BTreeMap<String, Option<ViolationState>>,
    shops: BTreeMap<String, Option<PartyState>>,
    creators: BTreeMap<String, Option<PartyState>>,
    cases: BTreeMap<String, Option<CaseState>>,
    appeals: BTreeMap<String, Option<AppealState>>,
    listings: BTreeMap<String, Option<ListingState>>,
}

/// The live enforcement state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    events: u64,
    last_at: Option<DateTime<Utc>>,
    violations: BTreeMap<String, ViolationState>,
    shops: BTreeMap<String, PartyState>,
    creators: BTreeMap<String, PartyState>,
    cases: BTreeMap<String, CaseState>,
    appeals: BTreeMap<String, AppealState>,
    listings: BTreeMap<String, ListingState>,
}

fn unknown(what: &'static str, id: &str) -> ApplyError {
    ApplyError::Unknown {
        what,
        id: id.to_string(),
    }
}

impl State {
    pub fn new() -> State {
        State::default()
    }

    /// Folds `events` into a fresh state.
    pub fn replay<'a>(events: impl IntoIterator<Item = &'a Event>) -> Result<State, ApplyError> {
        let mut s = State::new();
        for e in events {
            s.apply(e)?;
        }
        Ok(s)
    }

    /// Number of events applied.
    pub fn event_count(&self) -> u64 {
        self.events
    }

    /// Time of the last event applied. Commands must not be earlier.
    pub fn last_at(&self) -> Option<DateTime<Utc>> {
        self.last_at
    }

    /// The instant to run a command at: the wall clock, but never earlier
    /// than the last event (clocks of concurrent writers may disagree by a
    /// little; the log's time must not go backwards).
    pub fn effective_now(&self, clock: DateTime<Utc>) -> DateTime<Utc> {
        self.last_at.map_or(clock, |last| clock.max(last))
    }

    pub fn violation(&self, id: &str) -> Option<&ViolationState> {
        self.violations.get(id)
    }

    pub fn violations(&self) -> impl Iterator<Item = &ViolationState> {
        self.violations.values()
    }

    pub fn case(&self, id: &str) -> Option<&CaseState> {
        self.cases.get(id)
    }

    pub fn cases(&self) -> impl Iterator<Item = &CaseState> {
        self.cases.values()
    }

    pub fn appeal(&self, id: &str) -> Option<&AppealState> {
        self.appeals.get(id)
    }

    /// Every appeal, by id.
    pub fn appeals(&self) -> impl Iterator<Item = &AppealState> {
        self.appeals.values()
    }

    /// The status of a listing version, by decision id.
    pub fn listing(&self, decision_id: &str) -> Option<&ListingState> {
        self.listings.get(decision_id)
    }

    pub fn listings(&self) -> impl Iterator<Item = &ListingState> {
        self.listings.values()
    }

    pub fn party(&self, p: &Party) -> Option<&PartyState> {
        match p {
            Party::Shop(id) => self.shops.get(id),
            Party::Creator(id) => self.creators.get(id),
        }
    }

    /// Every shop and creator with a record, shops first.
    pub fn parties(&self) -> impl Iterator<Item = (Party, &PartyState)> {
        self.shops
            .iter()
            .map(|(k, v)| (Party::Shop(k.clone()), v))
            .chain(
                self.creators
                    .iter()
                    .map(|(k, v)| (Party::Creator(k.clone()), v)),
            )
    }

    fn party_mut(&mut self, p: &Party) -> &mut PartyState {
        match p {
            Party::Shop(id) => self.shops.entry(id.clone()).or_default(),
            Party::Creator(id) => self.creators.entry(id.clone()).or_default(),
        }
    }

    /// A point to come back to with [`State::roll_back`]: events applied
    /// from here on with [`State::apply_saving`] can be undone.
    pub fn savepoint(&self) -> Savepoint {
        Savepoint {
            events: self.events,
            last_at: self.last_at,
            ..Savepoint::default()
        }
    }

    /// [`State::apply`], first keeping in `sp` every entry the event may
    /// change (the first time each is touched since the savepoint).
    pub fn apply_saving(&mut self, event: &Event, sp: &mut Savepoint) -> Result<(), ApplyError> {
        self.save_touched(event, sp);
        self.apply(event)
    }

    /// Puts back every entry kept in `sp`: the state is again what it was
    /// when `sp` was taken, as if the events applied since never were.
    pub fn roll_back(&mut self, sp: Savepoint) {
        fn restore<V>(map: &mut BTreeMap<String, V>, saved: BTreeMap<String, Option<V>>) {
            for (k, v) in saved {
                match v {
                    Some(v) => {
                        map.insert(k, v);
                    }
                    None => {
                        map.remove(&k);
                    }
                }
            }
        }
        restore(&mut self.violations, sp.violations);
        restore(&mut self.shops, sp.shops);
        restore(&mut self.creators, sp.creators);
        restore(&mut self.cases, sp.cases);
        restore(&mut self.appeals, sp.appeals);
        restore(&mut self.listings, sp.listings);
        self.events = sp.events;
        self.last_at = sp.last_at;
    }

    /// Keeps the entries `event` may change, as they are now. A superset
    /// is harmless; a missing entry would not be restored (the property
    /// test `roll_back_restores_the_state` checks every kind of event).
    fn save_touched(&self, event: &Event, sp: &mut Savepoint) {
        fn keep<V: Clone>(
            map: &BTreeMap<String, V>,
            saved: &mut BTreeMap<String, Option<V>>,
            key: &str,
        ) {
            if !saved.contains_key(key) {
                saved.insert(key.to_string(), map.get(key).cloned());
            }
        }
        let keep_party = |sp: &mut Savepoint, p: &Party| match p {
            Party::Shop(id) => keep(&self.shops, &mut sp.shops, id),
            Party::Creator(id) => keep(&self.creators, &mut sp.creators, id),
        };
        // The parties whose points an existing violation's change moves.
        let keep_parties_of = |sp: &mut Savepoint, violation_id: &str| {
            if let Some(v) = self.violations.get(violation_id) {
                for p in &v.record.parties() {
                    keep_party(sp, p);
                }
            }
        };
        match &event.kind {
            EventKind::CaseOpened { case_id, .. }
            | EventKind::CaseClaimed { case_id, .. }
            | EventKind::CaseReleased { case_id, .. }
            | EventKind::CaseDecided { case_id, .. }
            | EventKind::CaseClosed { case_id, .. } => keep(&self.cases, &mut sp.cases, case_id),
            EventKind::ViolationRecorded(record) => {
                keep(&self.violations, &mut sp.violations, &record.violation_id);
                for p in &record.parties() {
                    keep_party(sp, p);
                }
            }
            // A filed appeal moves no points; keeping its parties too is the harmless
            // superset, so both appeal events share one arm.
            EventKind::AppealFiled {
                appeal_id,
                violation_id,
                ..
            }
            | EventKind::AppealDecided {
                appeal_id,
                violation_id,
                ..
            } => {
                keep(&self.appeals, &mut sp.appeals, appeal_id);
                keep(&self.violations, &mut sp.violations, violation_id);
                keep_parties_of(sp, violation_id);
            }
            EventKind::PointsExpired { violation_id, .. } => {
                keep(&self.violations, &mut sp.violations, violation_id);
                keep_parties_of(sp, violation_id);
            }
            EventKind::PenaltyApplied { penalty } => keep_party(sp, &penalty.party),
            EventKind::PenaltyLifted { party, .. } => keep_party(sp, party),
            EventKind::WarningIssued { .. } => {}
            EventKind::ListingStatusChanged { decision_id, .. } => {
                keep(&self.listings, &mut sp.listings, decision_id)
            }
        }
    }

    /// Applies one event.
    ///
    /// On error the state is unchanged: every check runs before any change.
    pub fn apply(&mut self, event: &Event) -> Result<(), ApplyError> {
        if let Some(last) = self.last_at
            && event.at < last
        {
            return Err(ApplyError::TimeWentBackwards { at: event.at, last });
        }
        let at = event.at;
        match &event.kind {
            EventKind::CaseOpened {
                case_id,
                queue,
                subject,
                decision,
            } => {
                if self.cases.contains_key(case_id) {
                    return Err(ApplyError::Duplicate {
                        what: "case",
                        id: case_id.clone(),
                    });
                }
                self.cases.insert(
                    case_id.clone(),
                    CaseState {
                        case_id: case_id.clone(),
                        queue: *queue,
                        subject: subject.clone(),
                        decision: decision.clone(),
                        opened_at: at,
                        claim: None,
                        outcome: None,
                        closed: None,
                    },
                );
            }
            EventKind::CaseClaimed {
                case_id,
                reviewer,
                lease_until,
            } => {
                let case = self
                    .cases
                    .get_mut(case_id)
                    .ok_or_else(|| unknown("case", case_id))?;
                if !case.is_open() {
                    return Err(ApplyError::Inconsistent(format!(
                        "case {case_id} claimed after its decision"
                    )));
                }
                case.claim = Some(Claim {
                    reviewer: reviewer.clone(),
                    until: *lease_until,
                });
            }
            EventKind::CaseReleased { case_id, .. } => {
                let case = self
                    .cases
                    .get_mut(case_id)
                    .ok_or_else(|| unknown("case", case_id))?;
                case.claim = None;
            }
            EventKind::CaseDecided {
                case_id,
                reviewer,
                verdict,
                note,
            } => {
                let case = self
                    .cases
                    .get_mut(case_id)
                    .ok_or_else(|| unknown("case", case_id))?;
                if !case.is_open() {
                    return Err(ApplyError::Inconsistent(format!(
                        "case {case_id} decided twice"
                    )));
                }
                case.claim = None;
                case.outcome = Some(CaseOutcome {
                    reviewer: reviewer.clone(),
                    verdict: *verdict,
                    note: note.clone(),
                    at,
                });
            }
            EventKind::CaseClosed { case_id, reason } => {
                let case = self
                    .cases
                    .get_mut(case_id)
                    .ok_or_else(|| unknown("case", case_id))?;
                if !case.is_open() {
                    return Err(ApplyError::Inconsistent(format!(
                        "case {case_id} closed after it ended"
                    )));
                }
                case.claim = None;
                case.closed = Some(crate::queue::CaseClosure {
                    reason: reason.clone(),
                    at,
                });
            }
            EventKind::ViolationRecorded(record) => {
                let id = &record.violation_id;
                if self.violations.contains_key(id) {
                    return Err(ApplyError::Duplicate {
                        what: "violation",
                        id: id.clone(),
                    });
                }
                let parties = record.parties();
                for p in &parties {
                    let ps = self.party(p).map_or(0, |s| s.points);
                    if ps.checked_add(record.points).is_none() {
                        return Err(ApplyError::Inconsistent(format!("{p}: points overflow")));
                    }
                }
                for p in &parties {
                    let ps = self.party_mut(p);
                    ps.points += record.points;
                    ps.violations.push(id.clone());
                }
                let ordinal = self.violations.len() as u64;
                self.violations.insert(
                    id.clone(),
                    ViolationState {
                        record: (**record).clone(),
                        ordinal,
                        expired: false,
                        reversed_by: None,
                        appeals: Vec::new(),
                    },
                );
            }
            EventKind::AppealFiled {
                appeal_id,
                violation_id,
                round,
                appellant,
                statement,
            } => {
                if self.appeals.contains_key(appeal_id) {
                    return Err(ApplyError::Duplicate {
                        what: "appeal",
                        id: appeal_id.clone(),
                    });
                }
                let v = self
                    .violations
                    .get_mut(violation_id)
                    .ok_or_else(|| unknown("violation", violation_id))?;
                v.appeals.push(appeal_id.clone());
                self.appeals.insert(
                    appeal_id.clone(),
                    AppealState {
                        appeal_id: appeal_id.clone(),
                        violation_id: violation_id.clone(),
                        round: *round,
                        appellant: appellant.clone(),
                        statement: statement.clone(),
                        filed_at: at,
                        decision: None,
                    },
                );
            }
            EventKind::AppealDecided {
                appeal_id,
                violation_id,
                reviewer,
                upheld,
                reason,
                cited_evidence,
            } => {
                let appeal = self
                    .appeals
                    .get(appeal_id)
                    .ok_or_else(|| unknown("appeal", appeal_id))?;
                if appeal.decision.is_some() || &appeal.violation_id != violation_id {
                    return Err(ApplyError::Inconsistent(format!(
                        "appeal {appeal_id} decided twice or for another violation"
                    )));
                }
                let v = self
                    .violations
                    .get(violation_id)
                    .ok_or_else(|| unknown("violation", violation_id))?;
                if *upheld {
                    if !v.is_standing() {
                        return Err(ApplyError::Inconsistent(format!(
                            "violation {violation_id} reversed twice"
                        )));
                    }
                    if !v.expired {
                        let points = v.record.points;
                        let parties = v.record.parties();
                        self.take_points(&parties, points)?;
                    }
                    if let Some(v) = self.violations.get_mut(violation_id) {
                        v.reversed_by = Some(appeal_id.clone());
                    }
                }
                if let Some(a) = self.appeals.get_mut(appeal_id) {
                    a.decision = Some(AppealDecision {
                        reviewer: reviewer.clone(),
                        upheld: *upheld,
                        reason: reason.clone(),
                        cited_evidence: cited_evidence.clone(),
                        at,
                    });
                }
            }
            EventKind::PointsExpired {
                violation_id,
                points,
            } => {
                let v = self
                    .violations
                    .get(violation_id)
                    .ok_or_else(|| unknown("violation", violation_id))?;
                if v.expired || *points != v.record.points {
                    return Err(ApplyError::Inconsistent(format!(
                        "violation {violation_id} expired twice or with other points"
                    )));
                }
                if v.is_standing() {
                    let parties = v.record.parties();
                    self.take_points(&parties, *points)?;
                }
                if let Some(v) = self.violations.get_mut(violation_id) {
                    v.expired = true;
                }
            }
            EventKind::PenaltyApplied { penalty } => {
                if self
                    .party(&penalty.party)
                    .is_some_and(|p| p.penalties.contains_key(&penalty.id))
                {
                    return Err(ApplyError::Duplicate {
                        what: "penalty",
                        id: penalty.id.clone(),
                    });
                }
                self.party_mut(&penalty.party)
                    .penalties
                    .insert(penalty.id.clone(), penalty.clone());
            }
            EventKind::PenaltyLifted {
                penalty_id, party, ..
            } => {
                let removed = match party {
                    Party::Shop(id) => self.shops.get_mut(id),
                    Party::Creator(id) => self.creators.get_mut(id),
                }
                .and_then(|p| p.penalties.remove(penalty_id));
                if removed.is_none() {
                    return Err(unknown("penalty", penalty_id));
                }
            }
            EventKind::WarningIssued { .. } => {}
            EventKind::ListingStatusChanged {
                decision_id,
                listing_id,
                shop_id,
                status,
                ..
            } => {
                self.listings.insert(
                    decision_id.clone(),
                    ListingState {
                        decision_id: decision_id.clone(),
                        listing_id: listing_id.clone(),
                        shop_id: shop_id.clone(),
                        status: *status,
                        changed_at: at,
                    },
                );
            }
        }
        self.events += 1;
        self.last_at = Some(at);
        Ok(())
    }

    /// Subtracts `points` from each party, refusing (without changing
    /// anything) if any would go negative.
    fn take_points(&mut self, parties: &[Party], points: u32) -> Result<(), ApplyError> {
        for p in parties {
            let have = self.party(p).map_or(0, |s| s.points);
            if have < points {
                return Err(ApplyError::Inconsistent(format!(
                    "{p} would have negative points"
                )));
            }
        }
        for p in parties {
            self.party_mut(p).points -= points;
        }
        Ok(())
    }

    // ----- derived quantities (used by the enforcer and by views) -----

    /// The standing violations of a party, with the change `delta` applied.
    fn standing<'a>(&'a self, party: &Party, delta: Delta<'a>) -> Vec<(u64, &'a ViolationRecord)> {
        let mut out: Vec<(u64, &ViolationRecord)> = self
            .party(party)
            .map(|p| {
                p.violations
                    .iter()
                    .filter_map(|id| self.violations.get(id))
                    .filter(|v| v.is_standing() && delta.reversed != Some(&v.record.violation_id))
                    .map(|v| (v.ordinal, &v.record))
                    .collect()
            })
            .unwrap_or_default();
        if let Some(r) = delta.added
            && r.parties().contains(party)
        {
            out.push((self.violations.len() as u64, r));
        }
        out
    }

    fn contributions<'a>(
        &'a self,
        party: &Party,
        measure: Measure,
        cfg: &EnforcementConfig,
        delta: Delta<'a>,
    ) -> Vec<Contribution<'a>> {
        self.standing(party, delta)
            .into_iter()
            .filter_map(|(ordinal, r)| match measure {
                Measure::Points => Some(Contribution {
                    at: r.recorded_at,
                    ordinal,
                    amount: r.points,
                    until: Some(r.expires_at),
                    violation_id: &r.violation_id,
                }),
                Measure::IpStrikes => (is_ip(r.kind) && !r.knock_off).then(|| Contribution {
                    at: r.recorded_at,
                    ordinal,
                    amount: 1,
                    until: cfg.strike_until(r.recorded_at),
                    violation_id: &r.violation_id,
                }),
            })
            .collect()
    }

    pub(crate) fn points_with(
        &self,
        party: &Party,
        cfg: &EnforcementConfig,
        delta: Delta<'_>,
        now: DateTime<Utc>,
    ) -> u32 {
        let c = self.contributions(party, Measure::Points, cfg, delta);
        u32::try_from(ladder::total_at(&c, now)).unwrap_or(u32::MAX)
    }

    /// A party's points at `now`: standing violations not yet expired.
    pub fn points_at(&self, party: &Party, cfg: &EnforcementConfig, now: DateTime<Utc>) -> u32 {
        self.points_with(party, cfg, Delta::default(), now)
    }

    /// The penalties a party should have at `now`, by id.
    pub(crate) fn penalties_with(
        &self,
        party: &Party,
        cfg: &EnforcementConfig,
        delta: Delta<'_>,
        now: DateTime<Utc>,
    ) -> BTreeMap<String, Penalty> {
        let mut out = BTreeMap::new();
        let points_ladder = match party {
            Party::Shop(_) => &cfg.shop_milestones,
            Party::Creator(_) => &cfg.creator.milestones,
        };
        let c = self.contributions(party, Measure::Points, cfg, delta);
        for p in ladder::active_penalties(party, Measure::Points, &c, points_ladder, now) {
            out.insert(p.id.clone(), p);
        }
        if let Party::Creator(_) = party {
            let strikes = [Milestone {
                points: cfg.creator.ip_strikes_to_revoke,
                penalty: PenaltyKind::CreatorRevoked,
                duration: PenaltyDuration::Permanent,
            }];
            let c = self.contributions(party, Measure::IpStrikes, cfg, delta);
            for p in ladder::active_penalties(party, Measure::IpStrikes, &c, &strikes, now) {
                out.insert(p.id.clone(), p);
            }
        }
        out
    }

    /// The penalties a party's history calls for at `now`, recomputed from
    /// its standing violations (see `ladder`). After a
    /// [`crate::Command::Tick`] at `now` these are exactly the penalties in
    /// force; use it to explain a penalty or to audit the state.
    pub fn penalties_due(
        &self,
        party: &Party,
        cfg: &EnforcementConfig,
        now: DateTime<Utc>,
    ) -> Vec<Penalty> {
        self.penalties_with(party, cfg, Delta::default(), now)
            .into_values()
            .collect()
    }

    /// The penalties a party has at `now` (the ones in force in the state
    /// whose time has not run out).
    pub fn active_penalties(&self, party: &Party, now: DateTime<Utc>) -> Vec<&Penalty> {
        self.party(party)
            .map(|p| p.penalties.values().filter(|p| p.is_active(now)).collect())
            .unwrap_or_default()
    }

    /// True if the creator's permission to sell is revoked at `now`.
    pub fn creator_revoked(&self, creator_id: &str, now: DateTime<Utc>) -> bool {
        self.active_penalties(&Party::Creator(creator_id.to_string()), now)
            .iter()
            .any(|p| p.kind == PenaltyKind::CreatorRevoked)
    }

    /// The next appeal a violation admits: its round and deadline, or why
    /// none is possible.
    pub fn next_appeal(
        &self,
        violation_id: &str,
        cfg: &EnforcementConfig,
    ) -> Result<(u32, DateTime<Utc>), NoAppeal> {
        let v = self
            .violations
            .get(violation_id)
            .ok_or(NoAppeal::UnknownViolation)?;
        if !v.is_standing() {
            return Err(NoAppeal::Reversed);
        }
        let last = v.appeals.last().and_then(|id| self.appeals.get(id));
        match last {
            None => Ok((
                1,
                v.record.recorded_at + Duration::days(i64::from(cfg.appeal_window_days)),
            )),
            Some(a) => match &a.decision {
                None => Err(NoAppeal::Pending(a.appeal_id.clone())),
                Some(_) if a.round >= cfg.max_appeals => Err(NoAppeal::Exhausted),
                Some(d) => Ok((
                    a.round + 1,
                    d.at + Duration::days(i64::from(cfg.second_appeal_window_days)),
                )),
            },
        }
    }

    // ----- views -----

    /// What a shop or creator (or an admin) sees: points, violations with
    /// their evidence and appeal deadlines, penalties.
    pub fn party_view(
        &self,
        party: &Party,
        cfg: &EnforcementConfig,
        now: DateTime<Utc>,
    ) -> PartyView {
        let points = self.points_at(party, cfg, now);
        let ladder = match party {
            Party::Shop(_) => &cfg.shop_milestones,
            Party::Creator(_) => &cfg.creator.milestones,
        };
        let violations = self
            .party(party)
            .map(|p| {
                p.violations
                    .iter()
                    .filter_map(|id| self.violations.get(id))
                    .map(|v| {
                        let appeal = self.next_appeal(&v.record.violation_id, cfg).ok();
                        ViolationView {
                            counts: v.is_standing()
                                && v.record.recorded_at <= now
                                && v.record.expires_at > now,
                            appeal_deadline: appeal.filter(|(_, d)| *d >= now).map(|(_, d)| d),
                            appeals: v
                                .appeals
                                .iter()
                                .filter_map(|a| self.appeals.get(a).cloned())
                                .collect(),
                            violation: v.clone(),
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        PartyView {
            party: party.clone(),
            points,
            next_milestone: ladder.iter().find(|m| m.points > points).copied(),
            penalties: self.penalties_due(party, cfg, now),
            violations,
        }
    }

    /// Open cases of one queue, oldest first.
    pub fn queue(
        &self,
        key: &QueueKey,
        cfg: &EnforcementConfig,
        now: DateTime<Utc>,
    ) -> Vec<CaseView> {
        let mut v: Vec<CaseView> = self
            .cases
            .values()
            .filter(|c| c.is_open() && &c.queue == key)
            .map(|c| c.view(&cfg.review, now))
            .collect();
        v.sort_by(|a, b| {
            a.opened_at
                .cmp(&b.opened_at)
                .then(a.case_id.cmp(&b.case_id))
        });
        v
    }

    /// Every queue with open cases.
    pub fn queues(&self, cfg: &EnforcementConfig, now: DateTime<Utc>) -> Vec<QueueSummary> {
        let mut by: BTreeMap<QueueKey, QueueSummary> = BTreeMap::new();
        for c in self.cases.values().filter(|c| c.is_open()) {
            let view = c.view(&cfg.review, now);
            let s = by.entry(c.queue).or_insert_with(|| QueueSummary {
                queue: c.queue,
                open: 0,
                overdue: 0,
                unclaimed: 0,
                oldest_age_secs: 0,
                sla_secs: view.sla_secs,
            });
            s.open += 1;
            s.overdue += usize::from(view.overdue);
            s.unclaimed += usize::from(view.claimed_by.is_none());
            s.oldest_age_secs = s.oldest_age_secs.max(view.age_secs);
        }
        by.into_values().collect()
    }

    /// Everything a shop, creator or the platform can observe at `now`:
    /// points, standing violations, penalties in force, removed and pending
    /// listings. Parties with nothing to show are left out. Two states with
    /// equal observations are indistinguishable to anyone outside the log.
    pub fn observe(&self, cfg: &EnforcementConfig, now: DateTime<Utc>) -> Observation {
        let mut parties = BTreeMap::new();
        for (party, ps) in self.parties() {
            let standing: BTreeSet<String> = ps
                .violations
                .iter()
                .filter(|id| {
                    self.violations
                        .get(*id)
                        .is_some_and(ViolationState::is_standing)
                })
                .cloned()
                .collect();
            let penalties: BTreeSet<Penalty> = self
                .active_penalties(&party, now)
                .into_iter()
                .cloned()
                .collect();
            let points = self.points_at(&party, cfg, now);
            if standing.is_empty() && penalties.is_empty() && points == 0 {
                continue;
            }
            parties.insert(
                party,
                PartyObservation {
                    points,
                    standing,
                    penalties,
                },
            );
        }
        let listings = self
            .listings
            .values()
            .filter(|l| l.status != ListingStatus::Live)
            .map(|l| (l.decision_id.clone(), l.status))
            .collect();
        Observation { parties, listings }
    }
}

/// Why a violation cannot be appealed now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoAppeal {
    #[error("unknown violation")]
    UnknownViolation,
    #[error("the violation was already reversed")]
    Reversed,
    #[error("appeal {0} is still pending")]
    Pending(String),
    #[error("no further appeal is allowed")]
    Exhausted,
}

/// A violation as its shop or creator sees it.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ViolationView {
    pub violation: ViolationState,
    /// Its points count now.
    pub counts: bool,
    /// Last moment an appeal may be filed, if one still may.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appeal_deadline: Option<DateTime<Utc>>,
    pub appeals: Vec<AppealState>,
}

/// A shop's or creator's record.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartyView {
    pub party: Party,
    pub points: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_milestone: Option<Milestone>,
    pub penalties: Vec<Penalty>,
    pub violations: Vec<ViolationView>,
}

/// See [`State::observe`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Observation {
    pub parties: BTreeMap<Party, PartyObservation>,
    /// Listing versions that are not live, by decision id.
    pub listings: BTreeMap<String, ListingStatus>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartyObservation {
    pub points: u32,
    pub standing: BTreeSet<String>,
    pub penalties: BTreeSet<Penalty>,
}
