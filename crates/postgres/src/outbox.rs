//! [`OutboxStore`] on PostgreSQL: webhook deliveries and their claims.
//!
//! A claim is one statement: it picks the due, unclaimed (or expired)
//! pending rows `FOR UPDATE SKIP LOCKED`, oldest first, and stamps them
//! with the claimer and the claim's end. Rows another process is claiming
//! at that moment are skipped rather than waited for, and a row whose
//! claim was committed in between is re-checked against its new version
//! and left out, so no delivery is handed to two claimers.

use chrono::{DateTime, Utc};
use postgres::Row;
use shopshield_store::{OutboxCounts, OutboxRow, OutboxStatus, OutboxStore, Result, StoreError};

use crate::PgStore;
use crate::conn::{Conn, col, corrupt, limit_i64, seq_i64, u32_col, u64_col};

fn from_row(row: &Row) -> Result<OutboxRow> {
    let status: &str = col(row, 4, "outbox.status")?;
    Ok(OutboxRow {
        idempotency_key: col(row, 0, "outbox.idempotency_key")?,
        seq: u64_col(row, 1, "outbox.seq")?,
        kind: col(row, 2, "outbox.kind")?,
        payload: col(row, 3, "outbox.payload")?,
        status: OutboxStatus::parse(status)
            .ok_or_else(|| corrupt("outbox.status", format!("unknown status {status:?}")))?,
        failures: u32_col(row, 5, "outbox.failures")?,
        next_attempt_at: col(row, 6, "outbox.next_attempt_at")?,
        delivered_at: col(row, 7, "outbox.delivered_at")?,
        last_error: col(row, 8, "outbox.last_error")?,
    })
}

/// Inserts outbox rows inside the caller's transaction, in one statement;
/// rows whose idempotency key exists are skipped.
pub(crate) fn insert_outbox(tx: &mut Conn, rows: &[OutboxRow]) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let keys: Vec<&str> = rows.iter().map(|o| o.idempotency_key.as_str()).collect();
    let seqs = rows
        .iter()
        .map(|o| seq_i64(o.seq))
        .collect::<Result<Vec<i64>>>()?;
    let kinds: Vec<&str> = rows.iter().map(|o| o.kind.as_str()).collect();
    let payloads: Vec<&str> = rows.iter().map(|o| o.payload.as_str()).collect();
    let statuses: Vec<&str> = rows.iter().map(|o| o.status.as_str()).collect();
    let failures: Vec<i64> = rows.iter().map(|o| i64::from(o.failures)).collect();
    let next: Vec<DateTime<Utc>> = rows.iter().map(|o| o.next_attempt_at).collect();
    let delivered: Vec<Option<DateTime<Utc>>> = rows.iter().map(|o| o.delivered_at).collect();
    let errors: Vec<Option<&str>> = rows.iter().map(|o| o.last_error.as_deref()).collect();
    tx.execute(
        "INSERT INTO outbox (idempotency_key, seq, kind, payload, status, failures, \
         next_attempt_at, delivered_at, last_error) \
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], \
                              $6::bigint[], $7::timestamptz[], $8::timestamptz[], $9::text[]) \
         ON CONFLICT (idempotency_key) DO NOTHING",
        &[
            &keys, &seqs, &kinds, &payloads, &statuses, &failures, &next, &delivered, &errors,
        ],
    )?;
    Ok(())
}

impl OutboxStore for PgStore {
    fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        claimer: &str,
        until: DateTime<Utc>,
    ) -> Result<Vec<OutboxRow>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let rows = self.conn()?.query(
            "UPDATE outbox o SET claimed_by = $3, claim_until = $4 \
             FROM (SELECT idempotency_key FROM outbox \
                   WHERE status = 'pending' AND next_attempt_at <= $1 \
                     AND (claim_until IS NULL OR claim_until <= $1) \
                   ORDER BY seq, idempotency_key LIMIT $2 \
                   FOR UPDATE SKIP LOCKED) due \
             WHERE o.idempotency_key = due.idempotency_key \
             RETURNING o.idempotency_key, o.seq, o.kind, o.payload, o.status, o.failures, \
                       o.next_attempt_at, o.delivered_at, o.last_error",
            &[&now, &limit_i64(limit), &claimer, &until],
        )?;
        let mut claimed = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
        // RETURNING has no order of its own.
        claimed.sort_by(|a, b| (a.seq, &a.idempotency_key).cmp(&(b.seq, &b.idempotency_key)));
        Ok(claimed)
    }

    fn update_delivery(&self, r: &OutboxRow) -> Result<()> {
        let n = self.conn()?.execute(
            "UPDATE outbox SET status = $2, failures = $3, next_attempt_at = $4, \
             delivered_at = $5, last_error = $6, claimed_by = NULL, claim_until = NULL \
             WHERE idempotency_key = $1",
            &[
                &r.idempotency_key,
                &r.status.as_str(),
                &i64::from(r.failures),
                &r.next_attempt_at,
                &r.delivered_at,
                &r.last_error,
            ],
        )?;
        if n == 0 {
            return Err(StoreError::Conflict(format!(
                "no outbox row {:?}",
                r.idempotency_key
            )));
        }
        Ok(())
    }

    fn outbox_counts(&self) -> Result<OutboxCounts> {
        let mut c = OutboxCounts::default();
        for r in self.conn()?.query(
            "SELECT status, COUNT(*), MIN(next_attempt_at) FROM outbox GROUP BY status",
            &[],
        )? {
            let status: String = col(&r, 0, "outbox.status")?;
            let n = u64_col(&r, 1, "outbox count")?;
            match status.as_str() {
                "pending" => {
                    c.pending = n;
                    c.oldest_pending_due = col(&r, 2, "outbox.next_attempt_at")?;
                }
                "delivered" => c.delivered = n,
                _ => c.dead += n,
            }
        }
        Ok(c)
    }

    fn outbox_rows(&self, after_seq: u64, limit: usize) -> Result<Vec<OutboxRow>> {
        self.conn()?
            .query(
                "SELECT idempotency_key, seq, kind, payload, status, failures, \
                 next_attempt_at, delivered_at, last_error FROM outbox \
                 WHERE seq > $1 ORDER BY seq, idempotency_key LIMIT $2",
                &[&seq_i64(after_seq)?, &limit_i64(limit)],
            )?
            .iter()
            .map(from_row)
            .collect()
    }
}
