//! Storage types of enforcement: the hash-chained event log, its anchor and
//! the webhook outbox. They are plain rows; `shopshield-enforce` gives them
//! meaning (sealing, verification, notifications).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shopshield_model::{Decision, Listing};

/// One entry of the enforcement event log, exactly as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogRecord {
    /// 1, 2, 3... without gaps; the primary key.
    pub seq: u64,
    pub prev_hash: String,
    pub hash: String,
    /// The event's canonical JSON, verbatim (the hash covers it).
    pub body: String,
    /// The event's time (a copy for queries; the hash covers the body's).
    pub at: DateTime<Utc>,
}

/// The head of the log as of the last append, kept apart from the entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogAnchor {
    pub seq: u64,
    pub hash: String,
}

/// Where a webhook delivery stands.
#[derive(utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxStatus {
    Pending,
    Delivered,
    /// Gave up after the retry policy's last attempt.
    Dead,
}

impl OutboxStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Delivered => "delivered",
            OutboxStatus::Dead => "dead",
        }
    }

    pub fn parse(s: &str) -> Option<OutboxStatus> {
        [
            OutboxStatus::Pending,
            OutboxStatus::Delivered,
            OutboxStatus::Dead,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// One webhook to deliver: written in the same transaction as the log
/// entry it comes from, so none is lost across a restart.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxRow {
    /// The delivery's idempotency key (unique).
    pub idempotency_key: String,
    /// The log entry it comes from.
    pub seq: u64,
    pub kind: String,
    /// The exact body to send and sign.
    pub payload: String,
    pub status: OutboxStatus,
    /// Failed attempts so far.
    pub failures: u32,
    pub next_attempt_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

impl OutboxRow {
    /// A delivery not tried yet, due at `now`.
    pub fn pending(
        idempotency_key: String,
        seq: u64,
        kind: &str,
        payload: String,
        now: DateTime<Utc>,
    ) -> OutboxRow {
        OutboxRow {
            idempotency_key,
            seq,
            kind: kind.to_string(),
            payload,
            status: OutboxStatus::Pending,
            failures: 0,
            next_attempt_at: now,
            delivered_at: None,
            last_error: None,
        }
    }
}

/// The outbox at a glance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    pub pending: u64,
    pub delivered: u64,
    pub dead: u64,
    /// The earliest `next_attempt_at` of a pending delivery.
    pub oldest_pending_due: Option<DateTime<Utc>>,
}

/// A stored `review` or `reject` decision with the listing version it is
/// about, for handing decisions to enforcement.
#[derive(Debug, Clone, PartialEq)]
pub struct BacklogItem {
    /// Storage order of the decision.
    pub position: u64,
    pub listing: Listing,
    pub decision: Decision,
}

/// A change to a case's lease, made in the same transaction as the log
/// entries that record it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseChange {
    /// `reviewer` takes (or renews) the lease until `until`. Clashes if
    /// another reviewer holds a lease that has not run out at `now`, or if
    /// another process is taking it at this very moment.
    Claim {
        case_id: String,
        reviewer: String,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    },
    /// The lease ends (released, or the case was decided or closed).
    End { case_id: String },
}

/// The folded enforcement state at log entry `seq`, so a process starts
/// from it and replays only the entries after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub seq: u64,
    /// The hash of entry `seq`: a snapshot is used only while the log still
    /// holds that very entry.
    pub hash: String,
    /// The state's encoding (see `shopshield-enforce`).
    pub body: Vec<u8>,
    pub created_at: DateTime<Utc>,
}
