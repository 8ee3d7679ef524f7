//! The delivery service: webhooks from the outbox to the platform.
//!
//! Every enforcement notification is an outbox row written in the same
//! transaction as the log entry it comes from. A delivery round claims due
//! rows for a while (so another process cannot send the same one at the
//! same time), POSTs each with its `Idempotency-Key` and an HMAC-SHA256
//! signature of the body, and records the outcome: a 2xx answer marks it
//! delivered; anything else schedules a retry with the configured backoff,
//! until the last attempt marks it dead. A process that dies holding a
//! claim loses it when the claim runs out, and another sends the row.

use std::sync::Arc;
use std::time::Duration;

use shopshield_enforce::config::RetryPolicy;
use shopshield_model::{Permission, Principal};
use shopshield_store::{OutboxRow, OutboxStatus, OutboxStore};

use crate::{AppError, Clock, WebhookConfig};

/// Rows claimed per round.
const ROUND: usize = 100;

/// The delivery service.
pub struct Delivery {
    outbox: Arc<dyn OutboxStore>,
    config: WebhookConfig,
    retry: RetryPolicy,
    clock: Arc<dyn Clock>,
    /// Who claims rows: unique per process.
    claimer: String,
}

/// An HTTP client for deliveries. It owns a small runtime of its own, so
/// it lives on the thread that delivers (dropping it inside an async task
/// is not allowed).
pub struct Sender {
    client: reqwest::blocking::Client,
}

impl Delivery {
    pub(crate) fn new(
        outbox: Arc<dyn OutboxStore>,
        config: WebhookConfig,
        retry: RetryPolicy,
        clock: Arc<dyn Clock>,
    ) -> Delivery {
        let mut nonce = [0u8; 4];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut nonce);
        Delivery {
            outbox,
            config,
            retry,
            clock,
            claimer: format!("pid{}-{}", std::process::id(), hex::encode(nonce)),
        }
    }

    /// A client for [`Delivery::deliver_due`], when a webhook URL is
    /// configured. Make it on the thread that delivers.
    pub fn sender(&self) -> Option<Sender> {
        self.config.url.as_ref()?;
        reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(self.config.timeout_secs))
            .build()
            .map_err(|e| tracing::error!(error = %e, "webhook client cannot be built"))
            .ok()
            .map(|client| Sender { client })
    }

    /// Outbox rows after log entry `after_seq` (admins).
    /// The outbox at a glance, for metrics (no caller: metrics are open).
    pub(crate) fn counts(&self) -> Result<shopshield_store::OutboxCounts, AppError> {
        Ok(self.outbox.outbox_counts()?)
    }

    pub fn rows(
        &self,
        p: &Principal,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<OutboxRow>, AppError> {
        p.require(Permission::ReadAuditLog)?;
        Ok(self.outbox.outbox_rows(after_seq, limit)?)
    }

    /// Sends every due row once, in log order. Returns how many were
    /// attempted. Without a configured URL, rows stay recorded and unsent.
    pub fn deliver_due(&self, sender: &Sender) -> Result<usize, AppError> {
        let (Some(url), Some(secret)) = (&self.config.url, &self.config.secret) else {
            return Ok(0);
        };
        let now = self.clock.now();
        // Long enough to send a whole round even if every POST times out.
        let hold = chrono::Duration::seconds(
            i64::try_from(self.config.timeout_secs.saturating_mul(ROUND as u64 + 1))
                .unwrap_or(i64::MAX / 2),
        );
        let rows = self
            .outbox
            .claim_deliveries(now, ROUND, &self.claimer, now + hold)?;
        let n = rows.len();
        for row in rows {
            let outcome = post(&sender.client, url, secret, &row);
            if let Err(e) = &outcome {
                tracing::warn!(key = %row.idempotency_key, error = %e, "webhook delivery failed");
            }
            self.record(row, outcome)?;
        }
        Ok(n)
    }

    /// Records the outcome of one attempt: delivered, or failed and
    /// scheduled again with the configured backoff (dead after the last
    /// attempt). Releases the claim.
    pub fn record(
        &self,
        mut row: OutboxRow,
        outcome: Result<(), String>,
    ) -> Result<OutboxRow, AppError> {
        let now = self.clock.now();
        match outcome {
            Ok(()) => {
                row.status = OutboxStatus::Delivered;
                row.delivered_at = Some(now);
                row.last_error = None;
            }
            Err(e) => {
                row.failures = row.failures.saturating_add(1);
                row.last_error = Some(e.chars().take(500).collect());
                match self.retry.next_attempt(row.failures, now) {
                    Some(t) => row.next_attempt_at = t,
                    None => row.status = OutboxStatus::Dead,
                }
            }
        }
        self.outbox.update_delivery(&row)?;
        Ok(row)
    }
}

/// One POST: only a 2xx answer counts as delivered.
fn post(
    client: &reqwest::blocking::Client,
    url: &str,
    secret: &str,
    row: &OutboxRow,
) -> Result<(), String> {
    let signature = shopshield_enforce::sign(secret.as_bytes(), row.payload.as_bytes());
    match client
        .post(url)
        .header("content-type", "application/json")
        .header("idempotency-key", &row.idempotency_key)
        .header("x-shopshield-event", &row.kind)
        .header("x-shopshield-signature", format!("sha256={signature}"))
        .body(row.payload.clone())
        .send()
    {
        Ok(r) if r.status().is_success() => Ok(()),
        Ok(r) => Err(format!("HTTP {}", r.status())),
        Err(e) => Err(e.to_string()),
    }
}
