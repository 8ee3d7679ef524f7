//! Review queues: cases, their SLA, and the exclusive claim lease.
//!
//! The checks here are pure. The store calls them inside the transaction
//! that appends the resulting event; because every append names the sequence
//! number it expects to write (a primary key), two reviewers racing for the
//! same case cannot both succeed: the loser's append fails, it reloads, and
//! [`CaseState::check_claim`] then refuses it.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use shopshield_model::Decision;

use crate::config::ReviewConfig;
use crate::event::{Subject, Verdict};
pub use crate::queue_key::QueueKey;

/// A reviewer's exclusive lease on a case.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    pub reviewer: String,
    pub until: DateTime<Utc>,
}

/// How a case ended.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseOutcome {
    pub reviewer: String,
    pub verdict: Verdict,
    pub note: String,
    pub at: DateTime<Utc>,
}

/// One `review` decision waiting for (or decided by) a reviewer.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseState {
    /// The decision id.
    pub case_id: String,
    pub queue: QueueKey,
    pub subject: Subject,
    pub decision: Decision,
    pub opened_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<Claim>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<CaseOutcome>,
    /// Set when the case was closed without a verdict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed: Option<CaseClosure>,
}

/// Why and when a case was closed without a verdict.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseClosure {
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// Why a reviewer may not act on a case.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    #[error("case {0} is already decided")]
    Decided(String),
    #[error("case {case_id} is claimed by {reviewer} until {until}")]
    Held {
        case_id: String,
        reviewer: String,
        until: DateTime<Utc>,
    },
    #[error("case {0}: claim it first; only the lease holder may act on it")]
    NotHolder(String),
    #[error("case {case_id}: the lease ran out at {until}; claim it again")]
    LeaseExpired {
        case_id: String,
        until: DateTime<Utc>,
    },
}

impl CaseState {
    pub fn is_open(&self) -> bool {
        self.outcome.is_none() && self.closed.is_none()
    }

    /// The current lease, if it has not run out.
    pub fn live_claim(&self, now: DateTime<Utc>) -> Option<&Claim> {
        self.claim.as_ref().filter(|c| c.until > now)
    }

    /// May `reviewer` claim the case now? Yes if it is open and unclaimed,
    /// its lease ran out, or `reviewer` holds it (renewal).
    pub fn check_claim(&self, reviewer: &str, now: DateTime<Utc>) -> Result<(), CaseError> {
        if !self.is_open() {
            return Err(CaseError::Decided(self.case_id.clone()));
        }
        match self.live_claim(now) {
            Some(c) if c.reviewer != reviewer => Err(CaseError::Held {
                case_id: self.case_id.clone(),
                reviewer: c.reviewer.clone(),
                until: c.until,
            }),
            _ => Ok(()),
        }
    }

    /// May `reviewer` decide (or release) the case now? Only the holder of
    /// an unexpired lease may.
    pub fn check_holder(&self, reviewer: &str, now: DateTime<Utc>) -> Result<(), CaseError> {
        if !self.is_open() {
            return Err(CaseError::Decided(self.case_id.clone()));
        }
        match &self.claim {
            Some(c) if c.reviewer == reviewer => {
                if c.until > now {
                    Ok(())
                } else {
                    Err(CaseError::LeaseExpired {
                        case_id: self.case_id.clone(),
                        until: c.until,
                    })
                }
            }
            _ => Err(CaseError::NotHolder(self.case_id.clone())),
        }
    }

    pub fn age(&self, now: DateTime<Utc>) -> Duration {
        now - self.opened_at
    }

    /// When the case breaches its queue's SLA.
    pub fn due_at(&self, review: &ReviewConfig) -> DateTime<Utc> {
        self.opened_at + review.sla(&self.queue)
    }

    /// A row for a queue screen.
    pub fn view(&self, review: &ReviewConfig, now: DateTime<Utc>) -> CaseView {
        let due_at = self.due_at(review);
        CaseView {
            case_id: self.case_id.clone(),
            queue: self.queue,
            listing_id: self.subject.listing_id.clone(),
            shop_id: self.subject.shop_id.clone(),
            opened_at: self.opened_at,
            age_secs: self.age(now).num_seconds(),
            sla_secs: review.sla(&self.queue).num_seconds(),
            due_at,
            overdue: self.is_open() && now >= due_at,
            claimed_by: self.live_claim(now).map(|c| c.reviewer.clone()),
            lease_until: self.live_claim(now).map(|c| c.until),
        }
    }
}

/// A case as a queue screen shows it.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseView {
    pub case_id: String,
    pub queue: QueueKey,
    pub listing_id: String,
    pub shop_id: String,
    pub opened_at: DateTime<Utc>,
    pub age_secs: i64,
    pub sla_secs: i64,
    pub due_at: DateTime<Utc>,
    pub overdue: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_until: Option<DateTime<Utc>>,
}

/// One queue at a glance.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueSummary {
    pub queue: QueueKey,
    pub open: usize,
    pub overdue: usize,
    pub unclaimed: usize,
    pub oldest_age_secs: i64,
    pub sla_secs: i64,
}
