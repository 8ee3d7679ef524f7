//! [`SweepStore`] on SQLite: the term index and the sweeps.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use shopshield_model::Decision;

use super::{begin, bump_counter, from_json, limit_i64, parse_ts, to_json, ts};
use crate::{
    Page, Result, SqliteStore, StoreError, StoredListing, SweepRecord, SweepStore, SweepWatermark,
};

const WATERMARK: &str = "sweep_watermark";
const SWEEP_SEQ: &str = "sweep_seq";

fn watermark(conn: &rusqlite::Connection) -> Result<SweepWatermark> {
    let v: Option<String> = conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([WATERMARK], |r| r.get(0))
        .optional()?;
    match v {
        Some(v) => from_json("meta.sweep_watermark", &v),
        None => Ok(SweepWatermark::default()),
    }
}

impl SweepStore for SqliteStore {
    fn index_terms(&self, after: Option<&str>, limit: usize) -> Result<Vec<String>> {
        let conn = self.read();
        let mut st = conn.prepare_cached(
            "SELECT term FROM index_terms WHERE (?1 IS NULL OR term > ?1) ORDER BY term LIMIT ?2",
        )?;
        let rows = st.query_map(params![after, limit_i64(limit)], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<Vec<String>>>()?)
    }

    fn listings_with_terms(
        &self,
        terms: &[String],
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>> {
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        let conn = self.read();
        let mut st = conn.prepare_cached(
            "SELECT DISTINCT t.listing_id FROM json_each(?1) j \
             JOIN listing_terms t ON t.term = j.value \
             WHERE (?2 IS NULL OR t.listing_id > ?2) ORDER BY t.listing_id LIMIT ?3",
        )?;
        let rows = st.query_map(params![to_json(&terms)?, after, limit_i64(limit)], |r| {
            r.get(0)
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<String>>>()?)
    }

    fn clear_term(&self, term: &str, listing_id: &str, version: u32) -> Result<bool> {
        let conn = self.write();
        let mut st = conn.prepare_cached(
            "DELETE FROM listing_terms WHERE term = ?1 AND listing_id = ?2 \
             AND EXISTS (SELECT 1 FROM listings WHERE id = ?2 AND version = ?3)",
        )?;
        Ok(st.execute(params![term, listing_id, version])? > 0)
    }

    fn latest_decided(&self, ids: &[String]) -> Result<Vec<(StoredListing, Decision)>> {
        let conn = self.read();
        let mut st = conn.prepare_cached(
            "SELECT v.doc, v.version, v.content_hash, v.submitted_at, d.doc \
             FROM listings l JOIN listing_versions v ON v.listing_id = l.id AND v.version = l.version \
             JOIN decisions d ON d.listing_id = l.id AND d.version = l.version WHERE l.id = ?1",
        )?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let row: Option<(String, u32, String, String, String)> = st
                .query_row([id], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })
                .optional()?;
            if let Some((doc, version, content_hash, at, decision)) = row {
                out.push((
                    StoredListing {
                        listing: from_json("listing_versions.doc", &doc)?,
                        version,
                        content_hash,
                        submitted_at: parse_ts("listing_versions.submitted_at", &at)?,
                    },
                    from_json("decisions.doc", &decision)?,
                ));
            }
        }
        Ok(out)
    }

    fn sweep_watermark(&self) -> Result<SweepWatermark> {
        watermark(&self.read())
    }

    fn open_sweeps(
        &self,
        mark: Option<(&SweepWatermark, &SweepWatermark)>,
        sweeps: &[SweepRecord],
    ) -> Result<()> {
        let docs = sweeps.iter().map(to_json).collect::<Result<Vec<_>>>()?;
        let mut conn = self.write();
        let tx = begin(&mut conn)?;
        if let Some((expected, new)) = mark {
            let current = watermark(&tx)?;
            if &current != expected {
                return Err(StoreError::Conflict(format!(
                    "the sweep watermark moved to registry version {}",
                    current.registry_version
                )));
            }
            tx.prepare_cached("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)")?
                .execute(params![WATERMARK, to_json(new)?])?;
        }
        {
            let mut exists = tx.prepare_cached("SELECT 1 FROM sweeps WHERE id = ?1")?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO sweeps (id, seq, state, claimed_by, claim_until, doc) \
                 VALUES (?1, ?2, ?3, NULL, NULL, ?4)",
            )?;
            for (s, doc) in sweeps.iter().zip(&docs) {
                if exists.exists([&s.id])? {
                    continue;
                }
                let seq = bump_counter(&tx, SWEEP_SEQ, 1)?;
                insert.execute(params![s.id, super::seq_i64(seq)?, s.state.as_str(), doc])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn claim_sweep(
        &self,
        now: DateTime<Utc>,
        claimer: &str,
        until: DateTime<Utc>,
        skip: &[String],
    ) -> Result<Option<SweepRecord>> {
        let mut conn = self.write();
        let tx = begin(&mut conn)?;
        let found = {
            let mut st = tx.prepare_cached(
                "SELECT doc FROM sweeps WHERE state = 'open' \
                 AND (claimed_by IS NULL OR claimed_by = ?1 OR claim_until <= ?2) ORDER BY seq",
            )?;
            let rows = st.query_map(params![claimer, ts(now)], |r| r.get::<_, String>(0))?;
            let mut found = None;
            for doc in rows {
                let rec: SweepRecord = from_json("sweeps.doc", &doc?)?;
                if !skip.contains(&rec.id) {
                    found = Some(rec);
                    break;
                }
            }
            found
        };
        let Some(mut rec) = found else {
            return Ok(None);
        };
        rec.claimed_by = Some(claimer.to_string());
        rec.claim_until = Some(until);
        tx.prepare_cached(
            "UPDATE sweeps SET claimed_by = ?2, claim_until = ?3, doc = ?4 WHERE id = ?1",
        )?
        .execute(params![rec.id, claimer, ts(until), to_json(&rec)?])?;
        tx.commit()?;
        Ok(Some(rec))
    }

    fn save_sweep(&self, sweep: &SweepRecord, claimer: &str) -> Result<()> {
        let doc = to_json(sweep)?;
        let mut conn = self.write();
        let tx = begin(&mut conn)?;
        let n = tx
            .prepare_cached(
                "UPDATE sweeps SET state = ?3, claimed_by = ?4, claim_until = ?5, doc = ?6 \
                 WHERE id = ?1 AND claimed_by = ?2",
            )?
            .execute(params![
                sweep.id,
                claimer,
                sweep.state.as_str(),
                sweep.claimed_by,
                sweep.claim_until.map(ts),
                doc
            ])?;
        if n != 1 {
            return Err(StoreError::Conflict(format!(
                "sweep {:?} is not held by {claimer:?}",
                sweep.id
            )));
        }
        tx.commit()?;
        Ok(())
    }

    fn sweep(&self, id: &str) -> Result<Option<SweepRecord>> {
        let doc: Option<String> = self
            .read()
            .prepare_cached("SELECT doc FROM sweeps WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        doc.map(|d| from_json("sweeps.doc", &d)).transpose()
    }

    fn sweeps(&self, page: &Page) -> Result<Vec<SweepRecord>> {
        let conn = self.read();
        let mut st = conn.prepare_cached(
            "SELECT doc FROM sweeps WHERE (?1 IS NULL OR seq < \
             (SELECT seq FROM sweeps WHERE id = ?1)) ORDER BY seq DESC LIMIT ?2",
        )?;
        let rows = st.query_map(
            params![page.after, limit_i64(page.limit.clamp(1, 10_000))],
            |r| r.get::<_, String>(0),
        )?;
        rows.map(|d| from_json("sweeps.doc", &d?)).collect()
    }
}
