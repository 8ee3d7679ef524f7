//! The decision layer: validates a command against the current state and
//! returns the events to append. It never changes the state itself; the
//! caller appends the events (atomically, all or none) and applies them.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shopshield_model::{Action, Decision, Evidence, ValidationError, Violation, validate_id};

use crate::config::{ConfigError, EnforcementConfig, is_ip};
use crate::event::{
    Actor, Event, EventKind, LiftReason, ListingCause, ListingStatus, Party, Source, Subject,
    Verdict, ViolationRecord,
};
use crate::queue::{CaseError, QueueKey};
use crate::state::{Delta, NoAppeal, State};

/// Longest statement, note or reason accepted, in bytes.
pub const MAX_TEXT_LEN: usize = 5_000;

/// Something to do. Every command carries the identity it acts for; the
/// API layer checks the caller may act for it ([`crate::access`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    /// A gate decision: `review` opens a case; `reject` at or above the
    /// configured confidence records a violation; anything else does nothing.
    Ingest {
        subject: Subject,
        decision: Decision,
    },
    ClaimCase {
        case_id: String,
        reviewer: String,
    },
    ReleaseCase {
        case_id: String,
        reviewer: String,
    },
    DecideCase {
        case_id: String,
        reviewer: String,
        verdict: Verdict,
        note: String,
    },
    FileAppeal {
        violation_id: String,
        appellant: Party,
        statement: String,
    },
    DecideAppeal {
        appeal_id: String,
        reviewer: String,
        upheld: bool,
        reason: String,
        /// Indices into the violation's `evidence`; a rejection must cite at
        /// least one.
        #[serde(default)]
        cited_evidence: Vec<usize>,
    },
    /// Expires points and ends penalties whose time has come. Run it
    /// periodically (its events are empty when nothing is due).
    Tick,
    /// Closes an open case without a verdict: what it rested on went away
    /// (a disabled right) or a newer decision on the listing supersedes it.
    CloseCase {
        case_id: String,
        reason: String,
    },
}

/// Why a command was refused. Nothing was changed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("time {now} is earlier than the last event at {last}")]
    ClockSkew {
        now: DateTime<Utc>,
        last: DateTime<Utc>,
    },
    #[error("decision {0} was already ingested")]
    DuplicateDecision(String),
    #[error("unknown case {0}")]
    UnknownCase(String),
    #[error(transparent)]
    Case(#[from] CaseError),
    #[error("unknown violation {0}")]
    UnknownViolation(String),
    #[error("violation {violation_id} cannot be appealed: {why}")]
    NoAppeal { violation_id: String, why: NoAppeal },
    #[error("{party} is not a party to violation {violation_id}")]
    NotAParty { party: Party, violation_id: String },
    #[error("the appeal window closed at {deadline}")]
    AppealWindowClosed { deadline: DateTime<Utc> },
    #[error("unknown appeal {0}")]
    UnknownAppeal(String),
    #[error("appeal {0} is already decided")]
    AppealAlreadyDecided(String),
    #[error(
        "reviewer {0} already decided on this violation; another reviewer must decide the appeal"
    )]
    SameReviewer(String),
    #[error("a rejected appeal must cite the evidence it relies on")]
    EvidenceRequired,
}

/// Turns commands into events under one configuration.
#[derive(Debug, Clone)]
pub struct Enforcer {
    config: EnforcementConfig,
}

/// Events being built by one command; all share the command's instant.
struct Out {
    now: DateTime<Utc>,
    events: Vec<Event>,
}

impl Out {
    fn push(&mut self, actor: &Actor, kind: EventKind) {
        self.events.push(Event {
            at: self.now,
            actor: actor.clone(),
            kind,
        });
    }
}

fn check_text(field: &str, s: &str, min_chars: usize) -> Result<(), ValidationError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(ValidationError::new(field, "is required"));
    }
    if t.chars().count() < min_chars {
        return Err(ValidationError::new(
            field,
            format!("must be at least {min_chars} characters: say why, not just what"),
        ));
    }
    if s.len() > MAX_TEXT_LEN {
        return Err(ValidationError::new(
            field,
            format!("is {} bytes; the limit is {MAX_TEXT_LEN}", s.len()),
        ));
    }
    if s.contains('\0') {
        return Err(ValidationError::new(field, "contains a NUL character"));
    }
    Ok(())
}

/// Floats must be finite to survive the JSON log (NaN serialises as null).
fn check_decision(subject: &Subject, d: &Decision) -> Result<(), ValidationError> {
    subject.validate()?;
    if d.id != subject.listing_id
        || d.listing_version != subject.listing_version
        || d.decision_id != subject.decision_id
    {
        return Err(ValidationError::new(
            "decision.decision_id",
            "does not match the subject's listing and version",
        ));
    }
    if !d.score.is_finite() {
        return Err(ValidationError::new("decision.score", "must be finite"));
    }
    for (i, v) in d.violations.iter().enumerate() {
        if !(v.confidence.is_finite() && (0.0..=1.0).contains(&v.confidence)) {
            return Err(ValidationError::new(
                format!("decision.violations[{i}].confidence"),
                "must be within 0..=1",
            ));
        }
        if v.evidence.price_ratio.is_some_and(|r| !r.is_finite()) {
            return Err(ValidationError::new(
                format!("decision.violations[{i}].evidence.price_ratio"),
                "must be finite",
            ));
        }
    }
    Ok(())
}

impl Enforcer {
    /// An enforcer for a validated configuration.
    pub fn new(config: EnforcementConfig) -> Result<Enforcer, ConfigError> {
        config.validate()?;
        Ok(Enforcer { config })
    }

    pub fn config(&self) -> &EnforcementConfig {
        &self.config
    }

    /// Validates `command` against `state` at instant `now` and returns the
    /// events to append, in order. `actor` is recorded on the command's own
    /// events; derived events (expiries, penalties, warnings) are by
    /// [`Actor::System`].
    pub fn execute(
        &self,
        state: &State,
        command: &Command,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Vec<Event>, CommandError> {
        if let Some(last) = state.last_at()
            && now < last
        {
            return Err(CommandError::ClockSkew { now, last });
        }
        let mut out = Out {
            now,
            events: Vec::new(),
        };
        match command {
            Command::Ingest { subject, decision } => {
                self.ingest(state, subject, decision, actor, &mut out)?
            }
            Command::ClaimCase { case_id, reviewer } => {
                validate_id("reviewer", reviewer)?;
                let case = state
                    .case(case_id)
                    .ok_or_else(|| CommandError::UnknownCase(case_id.clone()))?;
                case.check_claim(reviewer, now)?;
                out.push(
                    actor,
                    EventKind::CaseClaimed {
                        case_id: case_id.clone(),
                        reviewer: reviewer.clone(),
                        lease_until: now + self.config.review.lease(),
                    },
                );
            }
            Command::ReleaseCase { case_id, reviewer } => {
                let case = state
                    .case(case_id)
                    .ok_or_else(|| CommandError::UnknownCase(case_id.clone()))?;
                case.check_holder(reviewer, now)?;
                out.push(
                    actor,
                    EventKind::CaseReleased {
                        case_id: case_id.clone(),
                        reviewer: reviewer.clone(),
                    },
                );
            }
            Command::DecideCase {
                case_id,
                reviewer,
                verdict,
                note,
            } => self.decide_case(state, case_id, reviewer, *verdict, note, actor, &mut out)?,
            Command::FileAppeal {
                violation_id,
                appellant,
                statement,
            } => self.file_appeal(state, violation_id, appellant, statement, actor, &mut out)?,
            Command::DecideAppeal {
                appeal_id,
                reviewer,
                upheld,
                reason,
                cited_evidence,
            } => self.decide_appeal(
                state,
                appeal_id,
                reviewer,
                *upheld,
                reason,
                cited_evidence,
                actor,
                &mut out,
            )?,
            Command::Tick => self.tick(state, &mut out),
            Command::CloseCase { case_id, reason } => {
                let case = state
                    .case(case_id)
                    .ok_or_else(|| CommandError::UnknownCase(case_id.clone()))?;
                if !case.is_open() {
                    return Err(CaseError::Decided(case_id.clone()).into());
                }
                check_text("reason", reason, 1)?;
                out.push(
                    actor,
                    EventKind::CaseClosed {
                        case_id: case_id.clone(),
                        reason: reason.clone(),
                    },
                );
            }
        }
        Ok(out.events)
    }

    fn ingest(
        &self,
        state: &State,
        subject: &Subject,
        decision: &Decision,
        actor: &Actor,
        out: &mut Out,
    ) -> Result<(), CommandError> {
        check_decision(subject, decision)?;
        let id = &subject.decision_id;
        if state.case(id).is_some() || state.violation(&ViolationRecord::id_for(id)).is_some() {
            return Err(CommandError::DuplicateDecision(id.clone()));
        }
        match decision.action {
            Action::Approve => {}
            Action::Review => {
                out.push(
                    actor,
                    EventKind::CaseOpened {
                        case_id: id.clone(),
                        queue: QueueKey::for_decision(decision, subject.region),
                        subject: subject.clone(),
                        decision: decision.clone(),
                    },
                );
                out.push(
                    actor,
                    EventKind::ListingStatusChanged {
                        decision_id: id.clone(),
                        listing_id: subject.listing_id.clone(),
                        shop_id: subject.shop_id.clone(),
                        status: ListingStatus::PendingReview,
                        cause: ListingCause::CaseOpened {
                            case_id: id.clone(),
                        },
                    },
                );
            }
            // A provisional removal (a self-service notice before review):
            // the listing is down, nothing is recorded against anyone; the
            // reviewer's acceptance comes as a decision of its own.
            Action::Reject if decision.is_provisional() => {}
            Action::Reject => {
                let cfg = &self.config;
                let evidence: Vec<Violation> = decision
                    .violations
                    .iter()
                    .filter(|v| v.confidence >= cfg.auto_record_min_confidence)
                    .cloned()
                    .collect();
                // The type that costs the most points; ties go to the most
                // confident finding.
                let Some(worst) = evidence.iter().max_by(|a, b| {
                    let pa = cfg.points.points(a.kind, false, cfg.auto_severity);
                    let pb = cfg.points.points(b.kind, false, cfg.auto_severity);
                    pa.cmp(&pb)
                        .then(a.confidence.total_cmp(&b.confidence))
                        .then(b.kind.cmp(&a.kind))
                }) else {
                    // Below the threshold: the listing stays rejected by the
                    // gate, but nothing is recorded against anyone.
                    return Ok(());
                };
                let record = ViolationRecord {
                    violation_id: ViolationRecord::id_for(id),
                    subject: subject.clone(),
                    kind: worst.kind,
                    severity: cfg.auto_severity,
                    knock_off: false,
                    points: cfg.points.points(worst.kind, false, cfg.auto_severity),
                    recorded_at: out.now,
                    expires_at: out.now + cfg.expiry(),
                    source: Source::Auto,
                    evidence,
                    decision: decision.clone(),
                };
                self.record(state, record, Vec::new(), actor, out);
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn decide_case(
        &self,
        state: &State,
        case_id: &str,
        reviewer: &str,
        verdict: Verdict,
        note: &str,
        actor: &Actor,
        out: &mut Out,
    ) -> Result<(), CommandError> {
        let case = state
            .case(case_id)
            .ok_or_else(|| CommandError::UnknownCase(case_id.to_string()))?;
        case.check_holder(reviewer, out.now)?;
        check_text("note", note, 1)?;
        let decided = EventKind::CaseDecided {
            case_id: case_id.to_string(),
            reviewer: reviewer.to_string(),
            verdict,
            note: note.to_string(),
        };
        match verdict {
            Verdict::Clear => {
                out.push(actor, decided);
                out.push(
                    actor,
                    EventKind::ListingStatusChanged {
                        decision_id: case.subject.decision_id.clone(),
                        listing_id: case.subject.listing_id.clone(),
                        shop_id: case.subject.shop_id.clone(),
                        status: ListingStatus::Live,
                        cause: ListingCause::CaseCleared {
                            case_id: case_id.to_string(),
                        },
                    },
                );
            }
            Verdict::Uphold {
                kind,
                severity,
                knock_off,
            } => {
                if knock_off && !is_ip(kind) {
                    return Err(ValidationError::new(
                        "verdict.knock_off",
                        "only trademark, counterfeit and copyright violations can be knock-offs",
                    )
                    .into());
                }
                let cfg = &self.config;
                let mut evidence = case.decision.violations.clone();
                evidence.push(Violation {
                    kind,
                    right_id: None,
                    rule_id: None,
                    detector: format!("reviewer:{reviewer}"),
                    confidence: 1.0,
                    evidence: Evidence {
                        why: note.to_string(),
                        ..Evidence::default()
                    },
                });
                let record = ViolationRecord {
                    violation_id: ViolationRecord::id_for(&case.subject.decision_id),
                    subject: case.subject.clone(),
                    kind,
                    severity,
                    knock_off,
                    points: cfg.points.points(kind, knock_off, severity),
                    recorded_at: out.now,
                    expires_at: out.now + cfg.expiry(),
                    source: Source::Review {
                        case_id: case_id.to_string(),
                        reviewer: reviewer.to_string(),
                    },
                    evidence,
                    decision: case.decision.clone(),
                };
                self.record(state, record, vec![decided], actor, out);
            }
        }
        Ok(())
    }

    /// Records a violation: due expiries first, then `before` (the case
    /// decision, if any), the violation, the penalties it changes, warnings,
    /// and the listing's removal.
    fn record(
        &self,
        state: &State,
        record: ViolationRecord,
        before: Vec<EventKind>,
        actor: &Actor,
        out: &mut Out,
    ) {
        let cfg = &self.config;
        let now = out.now;
        let parties = record.parties();
        self.expire(state, &parties, out);
        for e in before {
            out.push(actor, e);
        }
        let delta = Delta {
            added: Some(&record),
            reversed: None,
        };
        let settled = self.settle(state, &parties, delta, None, now);
        let warnings: Vec<EventKind> = parties
            .iter()
            .flat_map(|p| {
                let before = state.points_with(p, cfg, Delta::default(), now);
                let after = state.points_with(p, cfg, delta, now);
                let ladder = match p {
                    Party::Shop(_) => &cfg.shop_milestones,
                    Party::Creator(_) => &cfg.creator.milestones,
                };
                ladder
                    .iter()
                    .filter(move |m| {
                        m.points > cfg.warning_margin && {
                            let w = m.points - cfg.warning_margin;
                            before < w && w <= after && after < m.points
                        }
                    })
                    .map(move |m| EventKind::WarningIssued {
                        party: p.clone(),
                        points: after,
                        milestone: m.points,
                        penalty: m.penalty,
                    })
            })
            .collect();
        let listing = EventKind::ListingStatusChanged {
            decision_id: record.subject.decision_id.clone(),
            listing_id: record.subject.listing_id.clone(),
            shop_id: record.subject.shop_id.clone(),
            status: ListingStatus::Removed,
            cause: ListingCause::ViolationRecorded {
                violation_id: record.violation_id.clone(),
            },
        };
        out.push(actor, EventKind::ViolationRecorded(Box::new(record)));
        for e in settled {
            out.push(&Actor::System, e);
        }
        for w in warnings {
            out.push(&Actor::System, w);
        }
        out.push(actor, listing);
    }

    /// `points_expired` for every standing violation of `parties` whose
    /// points are due to expire.
    fn expire(&self, state: &State, parties: &[Party], out: &mut Out) {
        let mut due = BTreeSet::new();
        for p in parties {
            if let Some(ps) = state.party(p) {
                for id in &ps.violations {
                    if let Some(v) = state.violation(id)
                        && v.is_standing()
                        && !v.expired
                        && v.record.expires_at <= out.now
                    {
                        due.insert((v.ordinal, id.clone(), v.record.points));
                    }
                }
            }
        }
        for (_, violation_id, points) in due {
            out.push(
                &Actor::System,
                EventKind::PointsExpired {
                    violation_id,
                    points,
                },
            );
        }
    }

    /// Brings each party's penalties in line with its history (with `delta`
    /// applied): lifts the ones that should no longer be in force, applies
    /// the ones that should.
    fn settle(
        &self,
        state: &State,
        parties: &[Party],
        delta: Delta<'_>,
        appeal: Option<&str>,
        now: DateTime<Utc>,
    ) -> Vec<EventKind> {
        let mut out = Vec::new();
        for party in parties {
            let want = state.penalties_with(party, &self.config, delta, now);
            let have = state.party(party).map(|p| &p.penalties);
            if let Some(have) = have {
                for (id, p) in have {
                    if want.get(id) != Some(p) {
                        let reason = if p.until.is_some_and(|u| u <= now) {
                            LiftReason::Ended
                        } else if let Some(a) = appeal {
                            LiftReason::AppealUpheld {
                                appeal_id: a.to_string(),
                            }
                        } else {
                            LiftReason::BelowMilestone
                        };
                        out.push(EventKind::PenaltyLifted {
                            penalty_id: id.clone(),
                            party: party.clone(),
                            kind: p.kind,
                            reason,
                        });
                    }
                }
            }
            for (id, p) in want {
                if have.and_then(|h| h.get(&id)) != Some(&p) {
                    out.push(EventKind::PenaltyApplied { penalty: p });
                }
            }
        }
        out
    }

    fn file_appeal(
        &self,
        state: &State,
        violation_id: &str,
        appellant: &Party,
        statement: &str,
        actor: &Actor,
        out: &mut Out,
    ) -> Result<(), CommandError> {
        let v = state
            .violation(violation_id)
            .ok_or_else(|| CommandError::UnknownViolation(violation_id.to_string()))?;
        if !v.record.parties().contains(appellant) {
            return Err(CommandError::NotAParty {
                party: appellant.clone(),
                violation_id: violation_id.to_string(),
            });
        }
        let (round, deadline) = state
            .next_appeal(violation_id, &self.config)
            .map_err(|why| CommandError::NoAppeal {
                violation_id: violation_id.to_string(),
                why,
            })?;
        if out.now > deadline {
            return Err(CommandError::AppealWindowClosed { deadline });
        }
        check_text("statement", statement, 1)?;
        out.push(
            actor,
            EventKind::AppealFiled {
                appeal_id: format!("{violation_id}/appeal{round}"),
                violation_id: violation_id.to_string(),
                round,
                appellant: appellant.clone(),
                statement: statement.to_string(),
            },
        );
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn decide_appeal(
        &self,
        state: &State,
        appeal_id: &str,
        reviewer: &str,
        upheld: bool,
        reason: &str,
        cited: &[usize],
        actor: &Actor,
        out: &mut Out,
    ) -> Result<(), CommandError> {
        validate_id("reviewer", reviewer)?;
        let appeal = state
            .appeal(appeal_id)
            .ok_or_else(|| CommandError::UnknownAppeal(appeal_id.to_string()))?;
        if appeal.decision.is_some() {
            return Err(CommandError::AppealAlreadyDecided(appeal_id.to_string()));
        }
        let v = state
            .violation(&appeal.violation_id)
            .ok_or_else(|| CommandError::UnknownViolation(appeal.violation_id.clone()))?;
        let earlier = v.record.source.reviewer().into_iter().chain(
            v.appeals
                .iter()
                .filter_map(|a| state.appeal(a)?.decision.as_ref())
                .map(|d| d.reviewer.as_str()),
        );
        for r in earlier {
            if r == reviewer {
                return Err(CommandError::SameReviewer(reviewer.to_string()));
            }
        }
        check_text("reason", reason, self.config.min_reason_chars)?;
        let mut seen = BTreeSet::new();
        for (i, &e) in cited.iter().enumerate() {
            if e >= v.record.evidence.len() || !seen.insert(e) {
                return Err(ValidationError::new(
                    format!("cited_evidence[{i}]"),
                    format!(
                        "must be a distinct index below {} (the violation's evidence items)",
                        v.record.evidence.len()
                    ),
                )
                .into());
            }
        }
        if !upheld && cited.is_empty() {
            return Err(CommandError::EvidenceRequired);
        }
        let decided = EventKind::AppealDecided {
            appeal_id: appeal_id.to_string(),
            violation_id: appeal.violation_id.clone(),
            reviewer: reviewer.to_string(),
            upheld,
            reason: reason.to_string(),
            cited_evidence: cited.to_vec(),
        };
        if !upheld {
            out.push(actor, decided);
            return Ok(());
        }
        let parties = v.record.parties();
        self.expire(state, &parties, out);
        out.push(actor, decided);
        let delta = Delta {
            added: None,
            reversed: Some(&appeal.violation_id),
        };
        for e in self.settle(state, &parties, delta, Some(appeal_id), out.now) {
            out.push(&Actor::System, e);
        }
        let s = &v.record.subject;
        if state
            .listing(&s.decision_id)
            .is_none_or(|l| l.status != ListingStatus::Live)
        {
            out.push(
                actor,
                EventKind::ListingStatusChanged {
                    decision_id: s.decision_id.clone(),
                    listing_id: s.listing_id.clone(),
                    shop_id: s.shop_id.clone(),
                    status: ListingStatus::Live,
                    cause: ListingCause::AppealUpheld {
                        appeal_id: appeal_id.to_string(),
                    },
                },
            );
        }
        Ok(())
    }

    fn tick(&self, state: &State, out: &mut Out) {
        let parties: Vec<Party> = state.parties().map(|(p, _)| p).collect();
        self.expire(state, &parties, out);
        for e in self.settle(state, &parties, Delta::default(), None, out.now) {
            out.push(&Actor::System, e);
        }
    }

    /// The earliest instant after `now` at which a [`Command::Tick`] would
    /// have something to do (a points expiry or a penalty ending), if any.
    /// A scheduler can sleep until then.
    pub fn next_due(&self, state: &State, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let expiries = state
            .violations()
            .filter(|v| v.is_standing() && !v.expired)
            .map(|v| v.record.expires_at);
        let ends = state
            .parties()
            .flat_map(|(_, p)| p.penalties.values().filter_map(|p| p.until))
            .collect::<Vec<_>>();
        expiries.chain(ends).filter(|t| *t > now).min()
    }
}
