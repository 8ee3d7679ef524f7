//! Webhook notifications to the platform.
//!
//! Notifications are derived from log entries ([`notification_for`]), so the
//! store writes them to its outbox in the same transaction as the entries,
//! and can always rebuild the outbox from the log: nothing is lost across a
//! restart. Each carries an idempotency key derived from its entry, so a
//! receiver that sees a delivery twice (a retry after a lost response) can
//! drop the duplicate. Bodies are signed with HMAC-SHA256.

use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::Sha256;

use crate::chain::LogEntry;
use crate::config::{PenaltyKind, RetryPolicy};
use crate::event::{EventKind, ListingCause, ListingStatus};

/// What a notification tells the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// Points were recorded against a shop (and creator).
    ViolationRecorded,
    ListingRemoved,
    /// A listing that was removed is live again (upheld appeal).
    ListingReinstated,
    /// A listing held for review was cleared and goes live.
    ListingApproved,
    Warning,
    /// Campaigns restricted or new listings capped.
    ShopRestricted,
    /// Deactivated for a time or permanently.
    ShopDeactivated,
    CreatorSuspended,
    CreatorRevoked,
    PenaltyLifted,
    AppealDecided,
}

impl NotificationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationKind::ViolationRecorded => "violation_recorded",
            NotificationKind::ListingRemoved => "listing_removed",
            NotificationKind::ListingReinstated => "listing_reinstated",
            NotificationKind::ListingApproved => "listing_approved",
            NotificationKind::Warning => "warning",
            NotificationKind::ShopRestricted => "shop_restricted",
            NotificationKind::ShopDeactivated => "shop_deactivated",
            NotificationKind::CreatorSuspended => "creator_suspended",
            NotificationKind::CreatorRevoked => "creator_revoked",
            NotificationKind::PenaltyLifted => "penalty_lifted",
            NotificationKind::AppealDecided => "appeal_decided",
        }
    }
}

/// One webhook delivery's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// Stable across retries and rebuilds: `enf-{seq}-{first 16 hex of the
    /// entry hash}`.
    pub idempotency_key: String,
    pub kind: NotificationKind,
    /// The log entry it comes from.
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub payload: serde_json::Value,
}

impl Notification {
    /// The exact bytes to send (and sign).
    pub fn body(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

fn penalty_kind(k: PenaltyKind) -> NotificationKind {
    match k {
        PenaltyKind::CampaignsRestricted | PenaltyKind::ListingsCapped => {
            NotificationKind::ShopRestricted
        }
        PenaltyKind::ShopDeactivated | PenaltyKind::ShopPermanentlyDeactivated => {
            NotificationKind::ShopDeactivated
        }
        PenaltyKind::CreatorSuspended => NotificationKind::CreatorSuspended,
        PenaltyKind::CreatorRevoked => NotificationKind::CreatorRevoked,
    }
}

/// The notification an entry causes, if any.
pub fn notification_for(entry: &LogEntry) -> Option<Notification> {
    let (kind, payload) = match &entry.event.kind {
        EventKind::ViolationRecorded(r) => (
            NotificationKind::ViolationRecorded,
            json!({
                "violation_id": r.violation_id,
                "shop_id": r.subject.shop_id,
                "creator_id": r.subject.creator_id,
                "listing_id": r.subject.listing_id,
                "decision_id": r.subject.decision_id,
                "type": r.kind,
                "severity": r.severity,
                "knock_off": r.knock_off,
                "points": r.points,
                "expires_at": r.expires_at,
                "evidence": r.evidence.iter().map(|v| &v.evidence.why).collect::<Vec<_>>(),
            }),
        ),
        EventKind::ListingStatusChanged {
            decision_id,
            listing_id,
            shop_id,
            status,
            cause,
        } => {
            let kind = match (status, cause) {
                (ListingStatus::Removed, _) => NotificationKind::ListingRemoved,
                (ListingStatus::Live, ListingCause::CaseCleared { .. }) => {
                    NotificationKind::ListingApproved
                }
                (ListingStatus::Live, _) => NotificationKind::ListingReinstated,
                (ListingStatus::PendingReview, _) => return None,
            };
            (
                kind,
                json!({
                    "listing_id": listing_id,
                    "decision_id": decision_id,
                    "shop_id": shop_id,
                    "cause": cause,
                }),
            )
        }
        EventKind::WarningIssued {
            party,
            points,
            milestone,
            penalty,
        } => (
            NotificationKind::Warning,
            json!({
                "party": party,
                "points": points,
                "milestone": milestone,
                "penalty_at_milestone": penalty,
            }),
        ),
        EventKind::PenaltyApplied { penalty } => (
            penalty_kind(penalty.kind),
            json!({
                "penalty_id": penalty.id,
                "party": penalty.party,
                "penalty": penalty.kind,
                "milestone": penalty.milestone,
                "measure": penalty.measure,
                "trigger_violation_id": penalty.trigger,
                "from": penalty.from,
                "until": penalty.until,
            }),
        ),
        EventKind::PenaltyLifted {
            penalty_id,
            party,
            kind,
            reason,
        } => (
            NotificationKind::PenaltyLifted,
            json!({
                "penalty_id": penalty_id,
                "party": party,
                "penalty": kind,
                "reason": reason,
            }),
        ),
        EventKind::AppealDecided {
            appeal_id,
            violation_id,
            upheld,
            reason,
            cited_evidence,
            ..
        } => (
            NotificationKind::AppealDecided,
            json!({
                "appeal_id": appeal_id,
                "violation_id": violation_id,
                "upheld": upheld,
                "reason": reason,
                "cited_evidence": cited_evidence,
            }),
        ),
        EventKind::CaseOpened { .. }
        | EventKind::CaseClaimed { .. }
        | EventKind::CaseReleased { .. }
        | EventKind::CaseDecided { .. }
        | EventKind::CaseClosed { .. }
        | EventKind::AppealFiled { .. }
        | EventKind::PointsExpired { .. } => return None,
    };
    let prefix = entry.hash.get(..16).unwrap_or(&entry.hash);
    Some(Notification {
        idempotency_key: format!("enf-{}-{prefix}", entry.seq),
        kind,
        seq: entry.seq,
        at: entry.event.at,
        payload,
    })
}

type HmacSha256 = Hmac<Sha256>;

/// Hex HMAC-SHA256 of `body` under `secret`. Send it with the body (e.g. in
/// an `X-Shopshield-Signature: sha256=<hex>` header).
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail.
    match HmacSha256::new_from_slice(secret) {
        Ok(mut mac) => {
            mac.update(body);
            hex::encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

/// Checks a hex signature in constant time.
pub fn verify_signature(secret: &[u8], body: &[u8], signature_hex: &str) -> bool {
    let Ok(sig) = hex::decode(signature_hex) else {
        return false;
    };
    match HmacSha256::new_from_slice(secret) {
        Ok(mut mac) => {
            mac.update(body);
            mac.verify_slice(&sig).is_ok()
        }
        Err(_) => false,
    }
}

impl RetryPolicy {
    /// The wait after `failures` failed attempts (1 for the first failure):
    /// `initial * multiplier^(failures-1)`, capped at `max_backoff_secs`.
    pub fn backoff(&self, failures: u32) -> Duration {
        let mut secs = u64::from(self.initial_backoff_secs);
        let cap = u64::from(self.max_backoff_secs);
        for _ in 1..failures {
            secs = secs.saturating_mul(u64::from(self.multiplier));
            if secs >= cap {
                break;
            }
        }
        Duration::seconds(i64::try_from(secs.min(cap)).unwrap_or(i64::MAX))
    }

    /// When to try again after `failures` failed attempts, or `None` once
    /// `max_attempts` have failed (dead-letter the delivery).
    pub fn next_attempt(&self, failures: u32, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        (failures < self.max_attempts).then(|| now + self.backoff(failures.max(1)))
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    /// Gave up after `max_attempts`; needs an operator.
    Dead,
}

/// An outbox row: a notification and its delivery state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub notification: Notification,
    pub status: DeliveryStatus,
    /// Failed attempts so far.
    pub failures: u32,
    pub next_attempt_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

impl Delivery {
    /// A new row, due at once.
    pub fn new(notification: Notification, now: DateTime<Utc>) -> Delivery {
        Delivery {
            notification,
            status: DeliveryStatus::Pending,
            failures: 0,
            next_attempt_at: now,
            last_error: None,
        }
    }

    pub fn is_due(&self, now: DateTime<Utc>) -> bool {
        self.status == DeliveryStatus::Pending && self.next_attempt_at <= now
    }

    pub fn succeeded(&mut self) {
        self.status = DeliveryStatus::Delivered;
    }

    /// Records a failed attempt and schedules the next one (or gives up).
    pub fn failed(&mut self, policy: &RetryPolicy, error: &str, now: DateTime<Utc>) {
        self.failures = self.failures.saturating_add(1);
        self.last_error = Some(error.chars().take(500).collect());
        match policy.next_attempt(self.failures, now) {
            Some(t) => self.next_attempt_at = t,
            None => self.status = DeliveryStatus::Dead,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let sig = sign(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            sig,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(verify_signature(
            b"Jefe",
            b"what do ya want for nothing?",
            &sig
        ));
        assert!(!verify_signature(
            b"Jefe",
            b"what do ya want for nothing!",
            &sig
        ));
        assert!(!verify_signature(b"Jefe", b"x", "not hex"));
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_then_gives_up() {
        let p = RetryPolicy::default();
        let now = Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or_default();
        let waits: Vec<i64> = (1..=10).map(|n| p.backoff(n).num_seconds()).collect();
        assert_eq!(waits, [10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600]);
        assert_eq!(p.backoff(1000).num_seconds(), 3600);
        assert_eq!(p.next_attempt(1, now), Some(now + Duration::seconds(10)));
        assert_eq!(p.next_attempt(p.max_attempts, now), None);

        let n = Notification {
            idempotency_key: "k".into(),
            kind: NotificationKind::Warning,
            seq: 1,
            at: now,
            payload: json!({}),
        };
        let mut d = Delivery::new(n, now);
        assert!(d.is_due(now));
        for _ in 0..p.max_attempts {
            d.failed(&p, "503", now);
        }
        assert_eq!(d.status, DeliveryStatus::Dead);
        assert!(!d.is_due(now + Duration::days(1)));
    }
}
