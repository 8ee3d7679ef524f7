//! [`EnforcementStore`] on SQLite: the event log, its anchor, snapshots,
//! case leases and the enforcement cursor.

use rusqlite::{OptionalExtension, params};

use super::{begin, conflict_or, counter, limit_i64, parse_ts, seq_i64, to_u64, ts};
use crate::sqlite::outbox::insert_outbox;
use crate::{
    EnforcementStore, LeaseChange, LogAnchor, LogRecord, OutboxRow, Result, Snapshot, SqliteStore,
    StoreError,
};

const CURSOR: &str = "enforcement_cursor";

type RawLog = (i64, String, String, String, String);

fn log_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawLog> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn log_from(t: RawLog) -> Result<LogRecord> {
    Ok(LogRecord {
        seq: to_u64("enforcement_log.seq", t.0)?,
        prev_hash: t.1,
        hash: t.2,
        body: t.3,
        at: parse_ts("enforcement_log.at", &t.4)?,
    })
}

/// Applies lease changes inside the append's transaction.
fn apply_leases(tx: &rusqlite::Transaction<'_>, leases: &[LeaseChange]) -> Result<()> {
    for change in leases {
        match change {
            LeaseChange::Claim {
                case_id,
                reviewer,
                until,
                now,
            } => {
                let held: Option<(String, String)> = tx
                    .prepare_cached("SELECT reviewer, until FROM case_leases WHERE case_id = ?1")?
                    .query_row([case_id], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?;
                if let Some((holder, held_until)) = held
                    && holder != *reviewer
                    && parse_ts("case_leases.until", &held_until)? > *now
                {
                    return Err(StoreError::Conflict(format!(
                        "case {case_id} is claimed by {holder} until {held_until}"
                    )));
                }
                tx.prepare_cached(
                    "INSERT INTO case_leases (case_id, reviewer, until) VALUES (?1, ?2, ?3) \
                     ON CONFLICT(case_id) DO UPDATE SET reviewer = excluded.reviewer, \
                     until = excluded.until",
                )?
                .execute(params![case_id, reviewer, ts(*until)])?;
            }
            LeaseChange::End { case_id } => {
                tx.prepare_cached("DELETE FROM case_leases WHERE case_id = ?1")?
                    .execute([case_id])?;
            }
        }
    }
    Ok(())
}

impl EnforcementStore for SqliteStore {
    fn append_log(
        &self,
        expected_head: u64,
        entries: &[LogRecord],
        outbox: &[OutboxRow],
        leases: &[LeaseChange],
    ) -> Result<()> {
        let mut conn = self.write();
        let tx = begin(&mut conn)?;
        let head: i64 = tx
            .prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM enforcement_log")?
            .query_row([], |r| r.get(0))?;
        if head != seq_i64(expected_head)? {
            return Err(StoreError::Conflict(format!(
                "the enforcement log is at {head}, not {expected_head}; reload and retry"
            )));
        }
        apply_leases(&tx, leases)?;
        let mut want = expected_head;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO enforcement_log (seq, prev_hash, hash, body, at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for e in entries {
                want += 1;
                if e.seq != want {
                    return Err(StoreError::Conflict(format!(
                        "entry {} does not follow {}",
                        e.seq,
                        want - 1
                    )));
                }
                insert
                    .execute(params![
                        seq_i64(e.seq)?,
                        e.prev_hash,
                        e.hash,
                        e.body,
                        ts(e.at)
                    ])
                    .map_err(|err| {
                        conflict_or(err, || {
                            format!("log entry {} was taken by another writer", e.seq)
                        })
                    })?;
            }
        }
        insert_outbox(&tx, outbox)?;
        if let Some(last) = entries.last() {
            tx.prepare_cached(
                "INSERT INTO enforcement_anchor (id, seq, hash) VALUES (1, ?1, ?2) \
                 ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
            )?
            .execute(params![seq_i64(last.seq)?, last.hash])?;
        }
        tx.commit()?;
        Ok(())
    }

    fn log_records(&self, after: u64, limit: Option<usize>) -> Result<Vec<LogRecord>> {
        let conn = self.read();
        let mut st = conn.prepare_cached(
            "SELECT seq, prev_hash, hash, body, at FROM enforcement_log \
             WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let lim = limit.map_or(-1, limit_i64);
        let rows = st.query_map(params![seq_i64(after)?, lim], log_row)?;
        rows.map(|r| log_from(r?)).collect()
    }

    fn log_record(&self, seq: u64) -> Result<Option<LogRecord>> {
        self.read()
            .prepare_cached(
                "SELECT seq, prev_hash, hash, body, at FROM enforcement_log WHERE seq = ?1",
            )?
            .query_row([seq_i64(seq)?], log_row)
            .optional()?
            .map(log_from)
            .transpose()
    }

    fn log_head_seq(&self) -> Result<u64> {
        let head: i64 = self
            .read()
            .prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM enforcement_log")?
            .query_row([], |r| r.get(0))?;
        to_u64("enforcement_log.seq", head)
    }

    fn log_anchor(&self) -> Result<Option<LogAnchor>> {
        let row: Option<(i64, String)> = self
            .read()
            .prepare_cached("SELECT seq, hash FROM enforcement_anchor WHERE id = 1")?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        row.map(|(seq, hash)| {
            Ok(LogAnchor {
                seq: to_u64("enforcement_anchor.seq", seq)?,
                hash,
            })
        })
        .transpose()
    }

    fn put_snapshot(&self, s: &Snapshot) -> Result<()> {
        self.write()
            .prepare_cached(
                "INSERT INTO enforcement_snapshots (seq, hash, body, created_at) \
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT(seq) DO UPDATE SET hash = excluded.hash, \
                 body = excluded.body, created_at = excluded.created_at",
            )?
            .execute(params![seq_i64(s.seq)?, s.hash, s.body, ts(s.created_at)])?;
        Ok(())
    }

    fn latest_snapshot(&self) -> Result<Option<Snapshot>> {
        type Row = (i64, String, Vec<u8>, String);
        let row: Option<Row> = self
            .read()
            .prepare_cached(
                "SELECT seq, hash, body, created_at FROM enforcement_snapshots \
                 ORDER BY seq DESC LIMIT 1",
            )?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .optional()?;
        row.map(|(seq, hash, body, created_at)| {
            Ok(Snapshot {
                seq: to_u64("enforcement_snapshots.seq", seq)?,
                hash,
                body,
                created_at: parse_ts("enforcement_snapshots.created_at", &created_at)?,
            })
        })
        .transpose()
    }

    fn enforcement_cursor(&self) -> Result<u64> {
        counter(&self.read(), CURSOR)
    }

    fn advance_enforcement_cursor(&self, position: u64) -> Result<()> {
        self.write()
            .prepare_cached(
                "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE \
                 SET value = excluded.value \
                 WHERE CAST(excluded.value AS INTEGER) > CAST(meta.value AS INTEGER)",
            )?
            .execute(params![CURSOR, position.to_string()])?;
        Ok(())
    }
}
