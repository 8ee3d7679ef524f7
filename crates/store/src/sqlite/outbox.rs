//! [`OutboxStore`] on SQLite: webhook deliveries and their claims.

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::{begin, corrupt, limit_i64, parse_ts, seq_i64, to_u64, ts};
use crate::{OutboxCounts, OutboxRow, OutboxStatus, OutboxStore, Result, SqliteStore, StoreError};

const COLUMNS: &str = "idempotency_key, seq, kind, payload, status, failures, \
     next_attempt_at, delivered_at, last_error";

type Raw = (
    String,
    i64,
    String,
    String,
    String,
    i64,
    String,
    Option<String>,
    Option<String>,
);

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Raw> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
    ))
}

fn from_raw(t: Raw) -> Result<OutboxRow> {
    Ok(OutboxRow {
        idempotency_key: t.0,
        seq: to_u64("outbox.seq", t.1)?,
        kind: t.2,
        payload: t.3,
        status: OutboxStatus::parse(&t.4)
            .ok_or_else(|| corrupt("outbox.status", format!("unknown status {:?}", t.4)))?,
        failures: u32::try_from(t.5).unwrap_or(u32::MAX),
        next_attempt_at: parse_ts("outbox.next_attempt_at", &t.6)?,
        delivered_at: t
            .7
            .as_deref()
            .map(|s| parse_ts("outbox.delivered_at", s))
            .transpose()?,
        last_error: t.8,
    })
}

/// Inserts outbox rows inside the caller's transaction; rows whose
/// idempotency key exists are skipped.
pub(super) fn insert_outbox(tx: &rusqlite::Transaction<'_>, rows: &[OutboxRow]) -> Result<()> {
    let mut st = tx.prepare_cached(&format!(
        "INSERT INTO outbox ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
         ON CONFLICT(idempotency_key) DO NOTHING"
    ))?;
    for o in rows {
        st.execute(params![
            o.idempotency_key,
            seq_i64(o.seq)?,
            o.kind,
            o.payload,
            o.status.as_str(),
            o.failures,
            ts(o.next_attempt_at),
            o.delivered_at.map(ts),
            o.last_error
        ])?;
    }
    Ok(())
}

impl OutboxStore for SqliteStore {
    fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        claimer: &str,
        until: DateTime<Utc>,
    ) -> Result<Vec<OutboxRow>> {
        let mut conn = self.write();
        // The write lock makes select-then-claim atomic against every other
        // process; PostgreSQL does the same with FOR UPDATE SKIP LOCKED.
        let tx = begin(&mut conn)?;
        let rows = {
            let mut st = tx.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?1 \
                 AND (claim_until IS NULL OR claim_until <= ?1) ORDER BY seq LIMIT ?2"
            ))?;
            let raw = st.query_map(params![ts(now), limit_i64(limit)], row)?;
            raw.map(|r| from_raw(r?)).collect::<Result<Vec<_>>>()?
        };
        {
            let mut claim = tx.prepare_cached(
                "UPDATE outbox SET claimed_by = ?2, claim_until = ?3 WHERE idempotency_key = ?1",
            )?;
            for r in &rows {
                claim.execute(params![r.idempotency_key, claimer, ts(until)])?;
            }
        }
        tx.commit()?;
        Ok(rows)
    }

    fn update_delivery(&self, r: &OutboxRow) -> Result<()> {
        let n = self
            .write()
            .prepare_cached(
                "UPDATE outbox SET status = ?2, failures = ?3, next_attempt_at = ?4, \
                 delivered_at = ?5, last_error = ?6, claimed_by = NULL, claim_until = NULL \
                 WHERE idempotency_key = ?1",
            )?
            .execute(params![
                r.idempotency_key,
                r.status.as_str(),
                r.failures,
                ts(r.next_attempt_at),
                r.delivered_at.map(ts),
                r.last_error
            ])?;
        if n == 0 {
            return Err(StoreError::Conflict(format!(
                "no outbox row {:?}",
                r.idempotency_key
            )));
        }
        Ok(())
    }

    fn outbox_counts(&self) -> Result<OutboxCounts> {
        let conn = self.read();
        let mut st = conn.prepare_cached(
            "SELECT status, COUNT(*), MIN(next_attempt_at) FROM outbox GROUP BY status",
        )?;
        let mut rows = st.query([])?;
        let mut c = OutboxCounts::default();
        while let Some(r) = rows.next()? {
            let status: String = r.get(0)?;
            let n: i64 = r.get(1)?;
            let n = u64::try_from(n).unwrap_or(0);
            match status.as_str() {
                "pending" => {
                    c.pending = n;
                    let min: Option<String> = r.get(2)?;
                    c.oldest_pending_due = match min {
                        Some(m) => Some(parse_ts("outbox.next_attempt_at", &m)?),
                        None => None,
                    };
                }
                "delivered" => c.delivered = n,
                _ => c.dead += n,
            }
        }
        Ok(c)
    }

    fn outbox_rows(&self, after_seq: u64, limit: usize) -> Result<Vec<OutboxRow>> {
        let conn = self.read();
        let mut st = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM outbox WHERE seq > ?1 ORDER BY seq, idempotency_key LIMIT ?2"
        ))?;
        let rows = st.query_map(params![seq_i64(after_seq)?, limit_i64(limit)], row)?;
        rows.map(|r| from_raw(r?)).collect()
    }
}
