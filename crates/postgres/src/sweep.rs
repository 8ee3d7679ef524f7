//! [`SweepStore`] on PostgreSQL: the term index and the sweeps. A sweep is
//! claimed `FOR UPDATE SKIP LOCKED`, so two processes never take the same
//! one; progress is saved only while the claim is still the saver's.

use chrono::{DateTime, Utc};
use shopshield_model::Decision;
use shopshield_store::{
    Page, Result, StoreError, StoredListing, SweepRecord, SweepStore, SweepWatermark,
};

use crate::conn::{Conn, col, corrupt, json_col, limit_i64, seq_i64, to_json, u32_col};
use crate::{PgStore, bump_counter};

fn watermark(conn: &mut Conn, lock: bool) -> Result<SweepWatermark> {
    let sql = if lock {
        "SELECT doc FROM sweep_watermark WHERE id = 1 FOR UPDATE"
    } else {
        "SELECT doc FROM sweep_watermark WHERE id = 1"
    };
    match conn.query_opt(sql, &[])? {
        Some(row) => {
            let doc: &str = col(&row, 0, "sweep_watermark.doc")?;
            serde_json::from_str(doc).map_err(|e| corrupt("sweep_watermark.doc", e.to_string()))
        }
        None => Ok(SweepWatermark::default()),
    }
}

fn sweep_from(doc: &str) -> Result<SweepRecord> {
    serde_json::from_str(doc).map_err(|e| corrupt("sweeps.doc", e.to_string()))
}

impl SweepStore for PgStore {
    fn index_terms(&self, after: Option<&str>, limit: usize) -> Result<Vec<String>> {
        self.conn()?
            .query(
                "SELECT term FROM index_terms WHERE ($1::text IS NULL OR term > $1) \
                 ORDER BY term LIMIT $2",
                &[&after, &limit_i64(limit)],
            )?
            .iter()
            .map(|r| col(r, 0, "index_terms.term"))
            .collect()
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
        self.conn()?
            .query(
                "SELECT DISTINCT listing_id FROM listing_terms \
                 WHERE term = ANY($1) AND ($2::text IS NULL OR listing_id > $2) \
                 ORDER BY listing_id LIMIT $3",
                &[&terms, &after, &limit_i64(limit)],
            )?
            .iter()
            .map(|r| col(r, 0, "listing_terms.listing_id"))
            .collect()
    }

    fn clear_term(&self, term: &str, listing_id: &str, version: u32) -> Result<bool> {
        // The listing's row is locked first, so a new version stored at
        // the same time (which updates that row) either comes before,
        // and the check fails, or waits until this is done.
        let mut conn = self.conn()?;
        let mut tx = conn.begin()?;
        let current = tx
            .query_opt(
                "SELECT version FROM listings WHERE id = $1 FOR UPDATE",
                &[&listing_id],
            )?
            .map(|r| u32_col(&r, 0, "listings.version"))
            .transpose()?;
        if current != Some(version) {
            // Dropped uncommitted: rolled back.
            return Ok(false);
        }
        let n = tx.execute(
            "DELETE FROM listing_terms WHERE term = $1 AND listing_id = $2",
            &[&term, &listing_id],
        )?;
        tx.commit()?;
        Ok(n > 0)
    }

    fn latest_decided(&self, ids: &[String]) -> Result<Vec<(StoredListing, Decision)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = self.conn()?.query(
            "SELECT v.doc, v.version, v.content_hash, v.submitted_at, d.doc \
             FROM unnest($1::text[]) WITH ORDINALITY AS u(id, n) \
             JOIN listings l ON l.id = u.id \
             JOIN listing_versions v ON v.listing_id = l.id AND v.version = l.version \
             JOIN decisions d ON d.listing_id = l.id AND d.version = l.version ORDER BY u.n",
            &[&ids],
        )?;
        rows.iter()
            .map(|row| {
                Ok((
                    StoredListing {
                        listing: json_col(row, 0, "listing_versions.doc")?,
                        version: u32_col(row, 1, "listing_versions.version")?,
                        content_hash: col(row, 2, "listing_versions.content_hash")?,
                        submitted_at: col(row, 3, "listing_versions.submitted_at")?,
                    },
                    json_col(row, 4, "decisions.doc")?,
                ))
            })
            .collect()
    }

    fn sweep_watermark(&self) -> Result<SweepWatermark> {
        let mut conn = self.conn()?;
        watermark(&mut conn, false)
    }

    fn open_sweeps(
        &self,
        mark: Option<(&SweepWatermark, &SweepWatermark)>,
        sweeps: &[SweepRecord],
    ) -> Result<()> {
        let docs = sweeps.iter().map(to_json).collect::<Result<Vec<_>>>()?;
        let mut conn = self.conn()?;
        let mut tx = conn.begin()?;
        if let Some((expected, new)) = mark {
            let current = watermark(&mut tx, true)?;
            if &current != expected {
                return Err(StoreError::Conflict(format!(
                    "the sweep watermark moved to registry version {}",
                    current.registry_version
                )));
            }
            tx.execute(
                "INSERT INTO sweep_watermark (id, doc) VALUES (1, $1) \
                 ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc",
                &[&to_json(new)?],
            )?;
        }
        for (s, doc) in sweeps.iter().zip(&docs) {
            let exists = tx.query_opt("SELECT 1 FROM sweeps WHERE id = $1", &[&s.id])?;
            if exists.is_some() {
                continue;
            }
            let seq = seq_i64(bump_counter(&mut tx, "sweep_seq", 1)?)?;
            tx.execute(
                "INSERT INTO sweeps (id, seq, state, claimed_by, claim_until, doc) \
                 VALUES ($1, $2, $3, NULL, NULL, $4) ON CONFLICT (id) DO NOTHING",
                &[&s.id, &seq, &s.state.as_str(), doc],
            )?;
        }
        tx.commit()
    }

    fn claim_sweep(
        &self,
        now: DateTime<Utc>,
        claimer: &str,
        until: DateTime<Utc>,
        skip: &[String],
    ) -> Result<Option<SweepRecord>> {
        let mut conn = self.conn()?;
        let mut tx = conn.begin()?;
        let row = tx.query_opt(
            "SELECT doc FROM sweeps WHERE state = 'open' \
             AND (claimed_by IS NULL OR claimed_by = $1 OR claim_until <= $2) \
             AND NOT (id = ANY($3)) ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED",
            &[&claimer, &now, &skip],
        )?;
        let Some(row) = row else {
            return Ok(None);
        };
        let mut rec = sweep_from(col(&row, 0, "sweeps.doc")?)?;
        rec.claimed_by = Some(claimer.to_string());
        rec.claim_until = Some(until);
        tx.execute(
            "UPDATE sweeps SET claimed_by = $2, claim_until = $3, doc = $4 WHERE id = $1",
            &[&rec.id, &claimer, &until, &to_json(&rec)?],
        )?;
        tx.commit()?;
        Ok(Some(rec))
    }

    fn save_sweep(&self, sweep: &SweepRecord, claimer: &str) -> Result<()> {
        let n = self.conn()?.execute(
            "UPDATE sweeps SET state = $3, claimed_by = $4, claim_until = $5, doc = $6 \
             WHERE id = $1 AND claimed_by = $2",
            &[
                &sweep.id,
                &claimer,
                &sweep.state.as_str(),
                &sweep.claimed_by,
                &sweep.claim_until,
                &to_json(sweep)?,
            ],
        )?;
        if n != 1 {
            return Err(StoreError::Conflict(format!(
                "sweep {:?} is not held by {claimer:?}",
                sweep.id
            )));
        }
        Ok(())
    }

    fn sweep(&self, id: &str) -> Result<Option<SweepRecord>> {
        self.conn()?
            .query_opt("SELECT doc FROM sweeps WHERE id = $1", &[&id])?
            .map(|row| sweep_from(col(&row, 0, "sweeps.doc")?))
            .transpose()
    }

    fn sweeps(&self, page: &Page) -> Result<Vec<SweepRecord>> {
        self.conn()?
            .query(
                "SELECT doc FROM sweeps WHERE ($1::text IS NULL OR seq < \
                 (SELECT seq FROM sweeps WHERE id = $1)) ORDER BY seq DESC LIMIT $2",
                &[&page.after, &limit_i64(page.limit.clamp(1, 10_000))],
            )?
            .iter()
            .map(|row| sweep_from(col(row, 0, "sweeps.doc")?))
            .collect()
    }
}
