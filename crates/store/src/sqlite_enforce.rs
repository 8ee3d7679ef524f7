//! [`EnforcementStore`] on SQLite: the event log, its anchor, the outbox.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, TransactionBehavior, params};

use crate::sqlite::{from_json, is_unique_violation, parse_ts, ts};
use crate::{
    BacklogItem, EnforcementStore, LogAnchor, LogRecord, OutboxRow, OutboxStatus, Result,
    SqliteStore, StoreError,
};

fn seq_i64(seq: u64) -> Result<i64> {
    i64::try_from(seq).map_err(|_| StoreError::Conflict(format!("sequence number {seq} too large")))
}

fn corrupt(what: &str, reason: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        what: what.to_string(),
        reason: reason.into(),
    }
}

type RawLog = (i64, String, String, String, String);

fn row_log(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawLog> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn log_from(t: RawLog) -> Result<LogRecord> {
    Ok(LogRecord {
        seq: u64::try_from(t.0).map_err(|_| corrupt("enforcement_log.seq", "negative"))?,
        prev_hash: t.1,
        hash: t.2,
        body: t.3,
        at: parse_ts("enforcement_log.at", &t.4)?,
    })
}

type RawOutbox = (
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

const OUTBOX_COLUMNS: &str = "idempotency_key, seq, kind, payload, status, failures, \
     next_attempt_at, delivered_at, last_error";

fn row_outbox(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawOutbox> {
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

fn outbox_from(t: RawOutbox) -> Result<OutboxRow> {
    Ok(OutboxRow {
        idempotency_key: t.0,
        seq: u64::try_from(t.1).map_err(|_| corrupt("outbox.seq", "negative"))?,
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

impl EnforcementStore for SqliteStore {
    fn append_log(
        &self,
        expected_head: u64,
        entries: &[LogRecord],
        outbox: &[OutboxRow],
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let head: i64 = tx.query_row(
            "SELECT COALESCE(MAX(seq), 0) FROM enforcement_log",
            [],
            |r| r.get(0),
        )?;
        if head != seq_i64(expected_head)? {
            return Err(StoreError::Conflict(format!(
                "the enforcement log is at {head}, not {expected_head}; reload and retry"
            )));
        }
        let mut want = expected_head;
        let mut insert_log = tx.prepare_cached(
            "INSERT INTO enforcement_log (seq, prev_hash, hash, body, at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        let outbox_sql = format!(
            "INSERT INTO outbox ({OUTBOX_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
             ON CONFLICT(idempotency_key) DO NOTHING"
        );
        let mut insert_outbox = tx.prepare_cached(&outbox_sql)?;
        for e in entries {
            want += 1;
            if e.seq != want {
                return Err(StoreError::Conflict(format!(
                    "entry {} does not follow {}",
                    e.seq,
                    want - 1
                )));
            }
            insert_log
                .execute(params![
                    seq_i64(e.seq)?,
                    e.prev_hash,
                    e.hash,
                    e.body,
                    ts(e.at)
                ])
                .map_err(|err| {
                    if is_unique_violation(&err) {
                        StoreError::Conflict(format!(
                            "log entry {} was taken by another writer",
                            e.seq
                        ))
                    } else {
                        err.into()
                    }
                })?;
        }
        for o in outbox {
            insert_outbox.execute(params![
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
        drop(insert_log);
        drop(insert_outbox);
        if let Some(last) = entries.last() {
            tx.execute(
                "INSERT INTO enforcement_anchor (id, seq, hash) VALUES (1, ?1, ?2) \
                 ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
                params![seq_i64(last.seq)?, last.hash],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn log_records(&self, after: u64, limit: Option<usize>) -> Result<Vec<LogRecord>> {
        let conn = self.conn();
        let mut st = conn.prepare(
            "SELECT seq, prev_hash, hash, body, at FROM enforcement_log \
             WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let lim = limit.map_or(-1, |l| i64::try_from(l).unwrap_or(i64::MAX));
        let rows = st.query_map(params![seq_i64(after)?, lim], row_log)?;
        rows.map(|r| log_from(r?)).collect()
    }

    fn log_head_seq(&self) -> Result<u64> {
        let head: i64 = self.conn().query_row(
            "SELECT COALESCE(MAX(seq), 0) FROM enforcement_log",
            [],
            |r| r.get(0),
        )?;
        u64::try_from(head).map_err(|_| corrupt("enforcement_log.seq", "negative"))
    }

    fn log_anchor(&self) -> Result<Option<LogAnchor>> {
        let row: Option<(i64, String)> = self
            .conn()
            .query_row(
                "SELECT seq, hash FROM enforcement_anchor WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        row.map(|(seq, hash)| {
            Ok(LogAnchor {
                seq: u64::try_from(seq)
                    .map_err(|_| corrupt("enforcement_anchor.seq", "negative"))?,
                hash,
            })
        })
        .transpose()
    }

    fn due_deliveries(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<OutboxRow>> {
        let conn = self.conn();
        let mut st = conn.prepare(&format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE status = 'pending' \
             AND next_attempt_at <= ?1 ORDER BY seq LIMIT ?2"
        ))?;
        let rows = st.query_map(
            params![ts(now), i64::try_from(limit).unwrap_or(i64::MAX)],
            row_outbox,
        )?;
        rows.map(|r| outbox_from(r?)).collect()
    }

    fn outbox_rows(&self, after_seq: u64, limit: usize) -> Result<Vec<OutboxRow>> {
        let conn = self.conn();
        let mut st = conn.prepare(&format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE seq > ?1 ORDER BY seq LIMIT ?2"
        ))?;
        let rows = st.query_map(
            params![
                seq_i64(after_seq)?,
                i64::try_from(limit).unwrap_or(i64::MAX)
            ],
            row_outbox,
        )?;
        rows.map(|r| outbox_from(r?)).collect()
    }

    fn update_delivery(&self, row: &OutboxRow) -> Result<()> {
        let n = self.conn().execute(
            "UPDATE outbox SET status = ?2, failures = ?3, next_attempt_at = ?4, \
             delivered_at = ?5, last_error = ?6 WHERE idempotency_key = ?1",
            params![
                row.idempotency_key,
                row.status.as_str(),
                row.failures,
                ts(row.next_attempt_at),
                row.delivered_at.map(ts),
                row.last_error
            ],
        )?;
        if n == 0 {
            return Err(StoreError::Conflict(format!(
                "no outbox row {:?}",
                row.idempotency_key
            )));
        }
        Ok(())
    }

    fn enforcement_backlog(&self, after: u64, limit: usize) -> Result<Vec<BacklogItem>> {
        let conn = self.conn();
        let mut st = conn.prepare(
            "SELECT d.rowid, v.doc, d.doc FROM decisions d JOIN listing_versions v \
             ON v.listing_id = d.listing_id AND v.version = d.version \
             WHERE d.rowid > ?1 AND d.action != 'approve' ORDER BY d.rowid LIMIT ?2",
        )?;
        let rows = st.query_map(
            params![seq_i64(after)?, i64::try_from(limit).unwrap_or(i64::MAX)],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            },
        )?;
        rows.map(|r| {
            let (pos, listing, decision) = r?;
            Ok(BacklogItem {
                position: u64::try_from(pos).unwrap_or(0),
                listing: from_json("listing_versions.doc", &listing)?,
                decision: from_json("decisions.doc", &decision)?,
            })
        })
        .collect()
    }

    fn decisions_end(&self) -> Result<u64> {
        let n: i64 =
            self.conn()
                .query_row("SELECT COALESCE(MAX(rowid), 0) FROM decisions", [], |r| {
                    r.get(0)
                })?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    fn enforcement_cursor(&self) -> Result<u64> {
        let v: Option<String> = self
            .conn()
            .query_row(
                "SELECT value FROM meta WHERE key = 'enforcement_cursor'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        match v {
            None => Ok(0),
            Some(v) => v
                .parse()
                .map_err(|_| corrupt("meta.enforcement_cursor", format!("{v:?} is not a number"))),
        }
    }

    fn set_enforcement_cursor(&self, position: u64) -> Result<()> {
        self.conn().execute(
            "INSERT INTO meta (key, value) VALUES ('enforcement_cursor', ?1) \
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [position.to_string()],
        )?;
        Ok(())
    }
}
