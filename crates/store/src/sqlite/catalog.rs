//! [`CatalogStore`] on SQLite: listings, their versions, decisions.

use std::collections::HashMap;

use rusqlite::{OptionalExtension, params};
use shopshield_model::Decision;

use super::{
    begin, bump_counter, conflict_or, counter, from_json, limit_i64, parse_ts, seq_i64, to_json,
    to_u64, ts,
};
use crate::{
    BacklogItem, CatalogStore, ContextKey, Page, Prior, Result, Screened, ScreeningContext,
    SqliteStore, StoreError, StoredListing,
};

const DECISION_SEQ: &str = "decision_seq";

type RawListing = (String, u32, String, String);

fn listing_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawListing> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

fn listing_from(t: RawListing) -> Result<StoredListing> {
    Ok(StoredListing {
        listing: from_json("listing_versions.doc", &t.0)?,
        version: t.1,
        content_hash: t.2,
        submitted_at: parse_ts("listing_versions.submitted_at", &t.3)?,
    })
}

/// The documents of a batch (listing, decision, indexed terms), encoded
/// before the write lock is taken (in parallel for large batches).
fn encode(batch: &[Screened]) -> Result<Vec<(String, String, String)>> {
    use rayon::prelude::*;
    let one = |s: &Screened| {
        Ok((
            to_json(&s.listing)?,
            to_json(&s.decision)?,
            to_json(&s.terms)?,
        ))
    };
    if batch.len() >= 64 {
        batch.par_iter().map(one).collect()
    } else {
        batch.iter().map(one).collect()
    }
}

impl CatalogStore for SqliteStore {
    fn screening_context(&self, keys: &[ContextKey<'_>]) -> Result<ScreeningContext> {
        let mut conn = self.read();
        let tx = conn.transaction()?;
        let mut ctx = ScreeningContext::default();
        {
            let mut latest = tx.prepare_cached(
                "SELECT l.shop_id, l.version, l.content_hash, d.doc FROM listings l \
                 LEFT JOIN decisions d ON d.listing_id = l.id AND d.version = l.version \
                 AND l.content_hash = ?2 WHERE l.id = ?1",
            )?;
            let mut quals = tx.prepare_cached(
                "SELECT doc FROM qualifications WHERE shop_id = ?1 ORDER BY qualification, region",
            )?;
            for k in keys {
                if !ctx.priors.contains_key(k.id) {
                    let row: Option<(String, u32, String, Option<String>)> = latest
                        .query_row(params![k.id, k.content_hash], |r| {
                            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                        })
                        .optional()?;
                    if let Some((shop_id, version, content_hash, doc)) = row {
                        let same_content_decision = doc
                            .map(|d| from_json::<Decision>("decisions.doc", &d))
                            .transpose()?;
                        ctx.priors.insert(
                            k.id.to_string(),
                            Prior {
                                shop_id,
                                version,
                                content_hash,
                                same_content_decision,
                            },
                        );
                    }
                }
                if !ctx.qualifications.contains_key(k.shop_id) {
                    let rows = quals.query_map([k.shop_id], |r| r.get::<_, String>(0))?;
                    let list = rows
                        .map(|d| from_json("qualifications.doc", &d?))
                        .collect::<Result<Vec<_>>>()?;
                    ctx.qualifications.insert(k.shop_id.to_string(), list);
                }
            }
        }
        ctx.qualifications.retain(|_, q| !q.is_empty());
        tx.commit()?;
        Ok(ctx)
    }

    fn record_screenings(&self, batch: &[Screened]) -> Result<Vec<u64>> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let docs = encode(batch)?;
        let mut conn = self.write();
        let tx = begin(&mut conn)?;
        let last = bump_counter(&tx, DECISION_SEQ, batch.len() as u64)?;
        let first = last + 1 - batch.len() as u64;
        let mut seqs = Vec::with_capacity(batch.len());
        {
            // The index entries of the versions stored before this batch,
            // for the listings it replaces: read in one statement (the row
            // keeps the terms it is indexed under) and deleted by key, in
            // key order. Only the batch's last version of a listing is
            // indexed, below.
            let mut replaced: Vec<&str> = batch
                .iter()
                .filter(|s| s.version > 1)
                .map(|s| s.listing.id.as_str())
                .collect();
            replaced.sort_unstable();
            replaced.dedup();
            if !replaced.is_empty() {
                let mut indexed_terms = tx.prepare_cached(
                    "SELECT l.id, l.terms FROM json_each(?1) j JOIN listings l ON l.id = j.value",
                )?;
                let rows = indexed_terms.query_map([to_json(&replaced)?], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
                })?;
                let mut old: Vec<(String, String)> = Vec::new();
                for row in rows {
                    let (id, terms) = row?;
                    if let Some(terms) = terms {
                        let terms: Vec<String> = from_json("listings.terms", &terms)?;
                        old.extend(terms.into_iter().map(|t| (t, id.clone())));
                    }
                }
                old.sort_unstable();
                let mut delete_term = tx.prepare_cached(
                    "DELETE FROM listing_terms WHERE term = ?1 AND listing_id = ?2",
                )?;
                for (t, id) in &old {
                    delete_term.execute(params![t, id])?;
                }
            }
        }
        {
            let mut insert_listing = tx.prepare_cached(
                "INSERT INTO listings (id, shop_id, version, content_hash, action, updated_at, terms) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            // The row keeps the terms of the version it now points at.
            let mut update_listing = tx.prepare_cached(
                "UPDATE listings SET version = ?3, content_hash = ?4, action = ?5, updated_at = ?6, \
                 terms = ?7 WHERE id = ?1 AND shop_id = ?2 AND version = ?3 - 1",
            )?;
            let mut insert_version = tx.prepare_cached(
                "INSERT INTO listing_versions (listing_id, version, content_hash, doc, submitted_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            let mut insert_decision = tx.prepare_cached(
                "INSERT INTO decisions (decision_id, listing_id, version, action, score, doc, decided_at, seq) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            let mut insert_term = tx.prepare_cached(
                "INSERT OR IGNORE INTO listing_terms (term, listing_id) VALUES (?1, ?2)",
            )?;
            let mut insert_vocabulary =
                tx.prepare_cached("INSERT OR IGNORE INTO index_terms (term) VALUES (?1)")?;
            for (i, (s, (listing_doc, decision_doc, terms_doc))) in
                batch.iter().zip(&docs).enumerate()
            {
                let id = &s.listing.id;
                let stale_message = || {
                    format!(
                        "listing {id:?}: version {} is not the next version for shop {:?}; \
                         another writer stored it first or another shop owns the id",
                        s.version, s.listing.shop_id
                    )
                };
                let stale = || StoreError::Conflict(stale_message());
                let at = ts(s.decision.decided_at);
                let action = s.decision.action.as_str();
                let listing_params = params![
                    id,
                    s.listing.shop_id,
                    s.version,
                    s.content_hash,
                    action,
                    at,
                    terms_doc
                ];
                if s.version == 1 {
                    insert_listing
                        .execute(listing_params)
                        .map_err(|e| conflict_or(e, stale_message))?;
                } else if update_listing.execute(listing_params)? != 1 {
                    return Err(stale());
                }
                insert_version
                    .execute(params![id, s.version, s.content_hash, listing_doc, at])
                    .map_err(|e| conflict_or(e, stale_message))?;
                let seq = first + i as u64;
                insert_decision
                    .execute(params![
                        s.decision.decision_id,
                        id,
                        s.version,
                        action,
                        s.decision.score,
                        decision_doc,
                        at,
                        seq_i64(seq)?
                    ])
                    .map_err(|e| {
                        conflict_or(e, || {
                            format!("decision {:?} exists", s.decision.decision_id)
                        })
                    })?;
                seqs.push(seq);
            }
            // The sweep index is written once per batch, sorted: the term
            // tree then takes its inserts in key order, page by page, and
            // each distinct term is looked up in the vocabulary once. Only
            // a listing's last version in the batch keeps its terms.
            let mut last: HashMap<&str, usize> = HashMap::with_capacity(batch.len());
            for (i, s) in batch.iter().enumerate() {
                last.insert(s.listing.id.as_str(), i);
            }
            let mut pairs: Vec<(&str, &str)> = last
                .values()
                .flat_map(|&i| {
                    let s = &batch[i];
                    s.terms.iter().map(|t| (t.as_str(), s.listing.id.as_str()))
                })
                .collect();
            pairs.sort_unstable();
            for (t, id) in &pairs {
                insert_term.execute(params![t, id])?;
            }
            pairs.dedup_by(|a, b| a.0 == b.0);
            for (t, _) in &pairs {
                insert_vocabulary.execute([t])?;
            }
        }
        tx.commit()?;
        Ok(seqs)
    }

    fn latest_listing(&self, id: &str) -> Result<Option<StoredListing>> {
        self.read()
            .prepare_cached(
                "SELECT v.doc, v.version, v.content_hash, v.submitted_at \
                 FROM listings l JOIN listing_versions v \
                 ON v.listing_id = l.id AND v.version = l.version WHERE l.id = ?1",
            )?
            .query_row([id], listing_row)
            .optional()?
            .map(listing_from)
            .transpose()
    }

    fn listing_history(&self, id: &str) -> Result<Vec<StoredListing>> {
        let conn = self.read();
        let mut st = conn.prepare_cached(
            "SELECT doc, version, content_hash, submitted_at FROM listing_versions \
             WHERE listing_id = ?1 ORDER BY version",
        )?;
        let rows = st.query_map([id], listing_row)?;
        rows.map(|r| listing_from(r?)).collect()
    }

    fn listings_by_shop(&self, shop_id: &str, page: &Page) -> Result<Vec<StoredListing>> {
        let conn = self.read();
        let mut st = conn.prepare_cached(
            "SELECT v.doc, v.version, v.content_hash, v.submitted_at \
             FROM listings l JOIN listing_versions v ON v.listing_id = l.id AND v.version = l.version \
             WHERE l.shop_id = ?1 AND (?2 IS NULL OR l.id > ?2) ORDER BY l.id LIMIT ?3",
        )?;
        let rows = st.query_map(
            params![shop_id, page.after, limit_i64(page.limit.clamp(1, 10_000))],
            listing_row,
        )?;
        rows.map(|r| listing_from(r?)).collect()
    }

    fn decision(&self, decision_id: &str) -> Result<Option<Decision>> {
        let doc: Option<String> = self
            .read()
            .prepare_cached("SELECT doc FROM decisions WHERE decision_id = ?1")?
            .query_row([decision_id], |r| r.get(0))
            .optional()?;
        doc.map(|d| from_json("decisions.doc", &d)).transpose()
    }

    fn decisions_for_listing(&self, listing_id: &str) -> Result<Vec<Decision>> {
        let conn = self.read();
        let mut st = conn
            .prepare_cached("SELECT doc FROM decisions WHERE listing_id = ?1 ORDER BY version")?;
        let rows = st.query_map([listing_id], |r| r.get::<_, String>(0))?;
        rows.map(|d| from_json("decisions.doc", &d?)).collect()
    }

    fn decisions(&self, page: &Page) -> Result<Vec<Decision>> {
        let conn = self.read();
        let mut st = conn.prepare_cached(
            "SELECT doc FROM decisions WHERE (?1 IS NULL OR seq > \
             (SELECT seq FROM decisions WHERE decision_id = ?1)) ORDER BY seq LIMIT ?2",
        )?;
        let rows = st.query_map(
            params![page.after, limit_i64(page.limit.clamp(1, 10_000))],
            |r| r.get::<_, String>(0),
        )?;
        rows.map(|d| from_json("decisions.doc", &d?)).collect()
    }

    fn enforcement_backlog(&self, after: u64, limit: usize) -> Result<Vec<BacklogItem>> {
        let conn = self.read();
        let mut st = conn.prepare_cached(
            "SELECT d.seq, v.doc, d.doc FROM decisions d JOIN listing_versions v \
             ON v.listing_id = d.listing_id AND v.version = d.version \
             WHERE d.seq > ?1 AND d.action != 'approve' ORDER BY d.seq LIMIT ?2",
        )?;
        let rows = st.query_map(params![seq_i64(after)?, limit_i64(limit)], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        rows.map(|r| {
            let (seq, listing, decision) = r?;
            Ok(BacklogItem {
                position: to_u64("decisions.seq", seq)?,
                listing: from_json("listing_versions.doc", &listing)?,
                decision: from_json("decisions.doc", &decision)?,
            })
        })
        .collect()
    }

    fn decisions_end(&self) -> Result<u64> {
        counter(&self.read(), DECISION_SEQ)
    }
}
