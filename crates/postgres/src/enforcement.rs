//! [`EnforcementStore`] on PostgreSQL: the event log, its anchor,
//! snapshots, case leases and the enforcement cursor.
//!
//! An append first locks the anchor row (`SELECT ... FOR UPDATE`): appends
//! from every process queue there, one at a time, and each then reads the
//! log's head in a fresh statement (read committed: it sees what the one
//! before it committed). An append computed from an old head fails with
//! `Conflict` instead of waiting to collide on the primary key.

use chrono::{DateTime, Utc};
use postgres::Row;
use shopshield_store::{
    EnforcementStore, LeaseChange, LogAnchor, LogRecord, OutboxRow, Result, Snapshot, StoreError,
};

use crate::conn::{Conn, col, conflict_as, corrupt, limit_i64, seq_i64, u64_col};
use crate::outbox::insert_outbox;
use crate::{PgStore, counter};

const CURSOR: &str = "enforcement_cursor";

fn log_from(row: &Row) -> Result<LogRecord> {
    Ok(LogRecord {
        seq: u64_col(row, 0, "enforcement_log.seq")?,
        prev_hash: col(row, 1, "enforcement_log.prev_hash")?,
        hash: col(row, 2, "enforcement_log.hash")?,
        body: col(row, 3, "enforcement_log.body")?,
        at: col(row, 4, "enforcement_log.at")?,
    })
}

/// Applies lease changes inside the append's transaction.
///
/// A claim inserts the lease when the case has none. Otherwise it locks
/// the lease row with `FOR UPDATE SKIP LOCKED`: a row another transaction
/// holds locked (someone taking or ending that lease right now) comes back
/// empty and counts as taken, so the claim fails at once instead of
/// waiting; a live lease of another reviewer fails too.
fn apply_leases(tx: &mut Conn, leases: &[LeaseChange]) -> Result<()> {
    for change in leases {
        match change {
            LeaseChange::Claim {
                case_id,
                reviewer,
                until,
                now,
            } => {
                let inserted = tx.query_opt(
                    "INSERT INTO case_leases (case_id, reviewer, until) VALUES ($1, $2, $3) \
                     ON CONFLICT (case_id) DO NOTHING RETURNING case_id",
                    &[case_id, reviewer, until],
                )?;
                if inserted.is_some() {
                    continue;
                }
                let held = tx.query_opt(
                    "SELECT reviewer, until FROM case_leases WHERE case_id = $1 \
                     FOR UPDATE SKIP LOCKED",
                    &[case_id],
                )?;
                let Some(held) = held else {
                    return Err(StoreError::Conflict(format!(
                        "case {case_id} is being claimed by another process right now"
                    )));
                };
                let holder: &str = col(&held, 0, "case_leases.reviewer")?;
                let held_until: DateTime<Utc> = col(&held, 1, "case_leases.until")?;
                if holder != reviewer && held_until > *now {
                    return Err(StoreError::Conflict(format!(
                        "case {case_id} is claimed by {holder} until {}",
                        held_until.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
                    )));
                }
                tx.execute(
                    "UPDATE case_leases SET reviewer = $2, until = $3 WHERE case_id = $1",
                    &[case_id, reviewer, until],
                )?;
            }
            LeaseChange::End { case_id } => {
                tx.execute("DELETE FROM case_leases WHERE case_id = $1", &[case_id])?;
            }
        }
    }
    Ok(())
}

impl EnforcementStore for PgStore {
    fn append_log(
        &self,
        expected_head: u64,
        entries: &[LogRecord],
        outbox: &[OutboxRow],
        leases: &[LeaseChange],
    ) -> Result<()> {
        let expected = seq_i64(expected_head)?;
        let mut seqs = Vec::with_capacity(entries.len());
        let mut want = expected_head;
        for e in entries {
            want += 1;
            if e.seq != want {
                return Err(StoreError::Conflict(format!(
                    "entry {} does not follow {}",
                    e.seq,
                    want - 1
                )));
            }
            seqs.push(seq_i64(e.seq)?);
        }
        let mut conn = self.conn()?;
        let mut tx = conn.begin()?;
        if tx
            .query_opt(
                "SELECT seq FROM enforcement_anchor WHERE id = 1 FOR UPDATE",
                &[],
            )?
            .is_none()
        {
            return Err(corrupt("enforcement_anchor", "the anchor row is missing"));
        }
        let row = tx.query_one("SELECT COALESCE(MAX(seq), 0) FROM enforcement_log", &[])?;
        let head: i64 = col(&row, 0, "enforcement_log.seq")?;
        if head != expected {
            return Err(StoreError::Conflict(format!(
                "the enforcement log is at {head}, not {expected_head}; reload and retry"
            )));
        }
        apply_leases(&mut tx, leases)?;
        if !entries.is_empty() {
            let prev: Vec<&str> = entries.iter().map(|e| e.prev_hash.as_str()).collect();
            let hashes: Vec<&str> = entries.iter().map(|e| e.hash.as_str()).collect();
            let bodies: Vec<&str> = entries.iter().map(|e| e.body.as_str()).collect();
            let at: Vec<DateTime<Utc>> = entries.iter().map(|e| e.at).collect();
            tx.execute(
                "INSERT INTO enforcement_log (seq, prev_hash, hash, body, at) \
                 SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], \
                                      $5::timestamptz[])",
                &[&seqs, &prev, &hashes, &bodies, &at],
            )
            .map_err(|e| {
                conflict_as(e, || {
                    format!("log entries after {expected_head} were taken by another writer")
                })
            })?;
        }
        insert_outbox(&mut tx, outbox)?;
        if let Some(last) = entries.last() {
            tx.execute(
                "UPDATE enforcement_anchor SET seq = $1, hash = $2 WHERE id = 1",
                &[&seq_i64(last.seq)?, &last.hash],
            )?;
        }
        tx.commit()
    }

    fn log_records(&self, after: u64, limit: Option<usize>) -> Result<Vec<LogRecord>> {
        let limit: Option<i64> = limit.map(limit_i64);
        self.conn()?
            .query(
                "SELECT seq, prev_hash, hash, body, at FROM enforcement_log \
                 WHERE seq > $1 ORDER BY seq LIMIT $2",
                &[&seq_i64(after)?, &limit],
            )?
            .iter()
            .map(log_from)
            .collect()
    }

    fn log_record(&self, seq: u64) -> Result<Option<LogRecord>> {
        self.conn()?
            .query_opt(
                "SELECT seq, prev_hash, hash, body, at FROM enforcement_log WHERE seq = $1",
                &[&seq_i64(seq)?],
            )?
            .as_ref()
            .map(log_from)
            .transpose()
    }

    fn log_head_seq(&self) -> Result<u64> {
        let row = self
            .conn()?
            .query_one("SELECT COALESCE(MAX(seq), 0) FROM enforcement_log", &[])?;
        u64_col(&row, 0, "enforcement_log.seq")
    }

    fn log_anchor(&self) -> Result<Option<LogAnchor>> {
        // Seq 0 is the row the schema starts with: nothing appended yet.
        self.conn()?
            .query_opt(
                "SELECT seq, hash FROM enforcement_anchor WHERE id = 1 AND seq > 0",
                &[],
            )?
            .map(|row| {
                Ok(LogAnchor {
                    seq: u64_col(&row, 0, "enforcement_anchor.seq")?,
                    hash: col(&row, 1, "enforcement_anchor.hash")?,
                })
            })
            .transpose()
    }

    fn put_snapshot(&self, s: &Snapshot) -> Result<()> {
        self.conn()?.execute(
            "INSERT INTO enforcement_snapshots (seq, hash, body, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (seq) DO UPDATE SET hash = excluded.hash, \
             body = excluded.body, created_at = excluded.created_at",
            &[&seq_i64(s.seq)?, &s.hash, &s.body, &s.created_at],
        )?;
        Ok(())
    }

    fn latest_snapshot(&self) -> Result<Option<Snapshot>> {
        self.conn()?
            .query_opt(
                "SELECT seq, hash, body, created_at FROM enforcement_snapshots \
                 ORDER BY seq DESC LIMIT 1",
                &[],
            )?
            .map(|row| {
                Ok(Snapshot {
                    seq: u64_col(&row, 0, "enforcement_snapshots.seq")?,
                    hash: col(&row, 1, "enforcement_snapshots.hash")?,
                    body: col(&row, 2, "enforcement_snapshots.body")?,
                    created_at: col(&row, 3, "enforcement_snapshots.created_at")?,
                })
            })
            .transpose()
    }

    fn enforcement_cursor(&self) -> Result<u64> {
        counter(&mut *self.conn()?, CURSOR)
    }

    fn advance_enforcement_cursor(&self, position: u64) -> Result<()> {
        let n = self.conn()?.execute(
            "UPDATE meta SET value = GREATEST(value, $2) WHERE key = $1",
            &[&CURSOR, &seq_i64(position)?],
        )?;
        if n != 1 {
            return Err(corrupt("meta.enforcement_cursor", "missing"));
        }
        Ok(())
    }
}
