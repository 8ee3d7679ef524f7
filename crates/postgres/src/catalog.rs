//! [`CatalogStore`] on PostgreSQL: listings, their versions, decisions.
//!
//! A batch of screenings is written with a handful of set-based statements
//! (arrays bound as parameters and `unnest`ed), not one statement per
//! listing: a batch of 512 costs about eight round trips instead of some
//! two thousand. The version guard is the same as SQLite's: a new listing
//! is inserted only if its id is free (`ON CONFLICT DO NOTHING`, which
//! waits for a concurrent inserter of the same id and then yields), a next
//! version is written only where the stored row still has the version
//! before it and the same shop (`UPDATE ... WHERE version = v - 1`, which
//! PostgreSQL re-checks against the row a concurrent writer committed).
//! The statements return the ids they wrote, so a stale entry is named.
//!
//! Decision sequence numbers come from `meta.decision_seq`, bumped after
//! the listings are written and locked from then until commit: the next
//! writer gets its numbers only once this one committed, so numbers follow
//! commit order and a reader that saw `n` never later finds a smaller one
//! appear (a rolled-back bump leaves no gap either).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use postgres::Row;
use shopshield_store::{
    BacklogItem, CatalogStore, ContextKey, Page, Prior, Result, Screened, ScreeningContext,
    StoreError, StoredListing,
};

use crate::conn::{
    Conn, col, conflict_as, json_col, limit_i64, seq_i64, to_json, u32_col, u64_col,
};
use crate::{PgStore, bump_counter, counter};

const DECISION_SEQ: &str = "decision_seq";

fn listing_from(row: &Row) -> Result<StoredListing> {
    Ok(StoredListing {
        listing: json_col(row, 0, "listing_versions.doc")?,
        version: u32_col(row, 1, "listing_versions.version")?,
        content_hash: col(row, 2, "listing_versions.content_hash")?,
        submitted_at: col(row, 3, "listing_versions.submitted_at")?,
    })
}

/// The documents of a batch (in parallel for large batches).
fn encode(batch: &[Screened]) -> Result<Vec<(String, String)>> {
    use rayon::prelude::*;
    let one = |s: &Screened| Ok((to_json(&s.listing)?, to_json(&s.decision)?));
    if batch.len() >= 64 {
        batch.par_iter().map(one).collect()
    } else {
        batch.iter().map(one).collect()
    }
}

/// Splits a batch into waves in which each listing appears once: wave `k`
/// holds each listing's `k`-th entry, so a batch holding versions 1 and 2
/// of one listing writes 1 before 2, as one statement per entry would.
fn waves(batch: &[Screened]) -> Vec<Vec<usize>> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut waves: Vec<Vec<usize>> = Vec::new();
    for (i, s) in batch.iter().enumerate() {
        let k = seen.entry(s.listing.id.as_str()).or_insert(0);
        if waves.len() <= *k {
            waves.push(Vec::new());
        }
        waves[*k].push(i);
        *k += 1;
    }
    waves
}

fn stale(s: &Screened) -> StoreError {
    StoreError::Conflict(format!(
        "listing {:?}: version {} is not the next version for shop {:?}; \
         another writer stored it first or another shop owns the id",
        s.listing.id, s.version, s.listing.shop_id
    ))
}

const INSERT_LISTINGS: &str = "INSERT INTO listings \
     (id, shop_id, version, content_hash, action, updated_at) \
     SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], \
                          $6::timestamptz[]) \
          AS u(id, shop_id, version, content_hash, action, updated_at) \
     ORDER BY id \
     ON CONFLICT (id) DO NOTHING RETURNING id";

const UPDATE_LISTINGS: &str = "UPDATE listings l SET version = u.version, \
     content_hash = u.content_hash, action = u.action, updated_at = u.updated_at \
     FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], \
                 $6::timestamptz[]) AS u(id, shop_id, version, content_hash, action, updated_at) \
     WHERE l.id = u.id AND l.shop_id = u.shop_id AND l.version = u.version - 1 \
     RETURNING l.id";

const INSERT_VERSIONS: &str = "INSERT INTO listing_versions \
     (listing_id, version, content_hash, doc, submitted_at) \
     SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::timestamptz[])";

const INSERT_DECISIONS: &str = "INSERT INTO decisions \
     (decision_id, seq, listing_id, version, action, score, doc, decided_at) \
     SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[], $5::text[], \
                          $6::float8[], $7::text[], $8::timestamptz[])";

/// Writes the listing rows of one wave (`idx`: indices into the batch, no
/// listing twice) with one statement for new listings and one for next
/// versions; `Conflict` names the first entry that was not written.
fn write_listings(tx: &mut Conn, batch: &[Screened], idx: &[usize], sql: &str) -> Result<()> {
    if idx.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = idx.iter().map(|&i| batch[i].listing.id.as_str()).collect();
    let shops: Vec<&str> = idx
        .iter()
        .map(|&i| batch[i].listing.shop_id.as_str())
        .collect();
    let versions: Vec<i64> = idx.iter().map(|&i| i64::from(batch[i].version)).collect();
    let hashes: Vec<&str> = idx
        .iter()
        .map(|&i| batch[i].content_hash.as_str())
        .collect();
    let actions: Vec<&str> = idx
        .iter()
        .map(|&i| batch[i].decision.action.as_str())
        .collect();
    let at: Vec<DateTime<Utc>> = idx.iter().map(|&i| batch[i].decision.decided_at).collect();
    let rows = tx.query(sql, &[&ids, &shops, &versions, &hashes, &actions, &at])?;
    if rows.len() != idx.len() {
        let written = rows
            .iter()
            .map(|r| col::<&str>(r, 0, "listings.id"))
            .collect::<Result<HashSet<&str>>>()?;
        let first = idx
            .iter()
            .find(|&&i| !written.contains(batch[i].listing.id.as_str()))
            .map_or(idx[0], |&i| i);
        return Err(stale(&batch[first]));
    }
    Ok(())
}

/// Replaces the sweep index entries of the batch's listings (their latest
/// entry in the batch wins) and adds new terms to the vocabulary.
fn write_terms(tx: &mut Conn, batch: &[Screened]) -> Result<()> {
    let mut last: HashMap<&str, &Screened> = HashMap::new();
    for s in batch {
        last.insert(s.listing.id.as_str(), s);
    }
    let replaced: Vec<&str> = last
        .values()
        .filter(|s| s.version > 1)
        .map(|s| s.listing.id.as_str())
        .collect();
    if !replaced.is_empty() {
        tx.execute(
            "DELETE FROM listing_terms WHERE listing_id = ANY($1)",
            &[&replaced],
        )?;
    }
    let mut terms: Vec<&str> = Vec::new();
    let mut ids: Vec<&str> = Vec::new();
    for s in last.values() {
        for t in &s.terms {
            terms.push(t);
            ids.push(&s.listing.id);
        }
    }
    if terms.is_empty() {
        return Ok(());
    }
    tx.execute(
        "INSERT INTO listing_terms (term, listing_id) \
         SELECT * FROM unnest($1::text[], $2::text[]) ORDER BY 1, 2 ON CONFLICT DO NOTHING",
        &[&terms, &ids],
    )?;
    tx.execute(
        "INSERT INTO index_terms (term) SELECT DISTINCT t FROM unnest($1::text[]) AS t \
         ORDER BY 1 ON CONFLICT DO NOTHING",
        &[&terms],
    )?;
    Ok(())
}

impl CatalogStore for PgStore {
    fn screening_context(&self, keys: &[ContextKey<'_>]) -> Result<ScreeningContext> {
        let mut ctx = ScreeningContext::default();
        if keys.is_empty() {
            return Ok(ctx);
        }
        // The first key of an id counts, as when asked one by one.
        let mut ids: Vec<&str> = Vec::new();
        let mut hashes: Vec<&str> = Vec::new();
        let mut shops: Vec<&str> = Vec::new();
        let mut seen_ids = HashSet::new();
        let mut seen_shops = HashSet::new();
        for k in keys {
            if seen_ids.insert(k.id) {
                ids.push(k.id);
                hashes.push(k.content_hash);
            }
            if seen_shops.insert(k.shop_id) {
                shops.push(k.shop_id);
            }
        }
        // One statement: one round trip, one snapshot.
        let rows = self.conn()?.query(
            "SELECT 1, l.id, l.shop_id, l.version, l.content_hash, d.doc, \
                    NULL::text, NULL::text \
             FROM unnest($1::text[], $2::text[]) AS u(id, hash) \
             JOIN listings l ON l.id = u.id \
             LEFT JOIN decisions d ON d.listing_id = l.id AND d.version = l.version \
                                  AND l.content_hash = u.hash \
             UNION ALL \
             SELECT 2, shop_id, NULL, NULL, NULL, doc, qualification, region \
             FROM qualifications WHERE shop_id = ANY($3) \
             ORDER BY 1, 2, 7, 8",
            &[&ids, &hashes, &shops],
        )?;
        for row in &rows {
            let part: i32 = col(row, 0, "part")?;
            if part == 1 {
                let key: String = col(row, 1, "listings.id")?;
                let doc: Option<&str> = col(row, 5, "decisions.doc")?;
                let same_content_decision = doc
                    .map(|d| {
                        serde_json::from_str(d)
                            .map_err(|e| crate::conn::corrupt("decisions.doc", e.to_string()))
                    })
                    .transpose()?;
                ctx.priors.insert(
                    key,
                    Prior {
                        shop_id: col(row, 2, "listings.shop_id")?,
                        version: u32_col(row, 3, "listings.version")?,
                        content_hash: col(row, 4, "listings.content_hash")?,
                        same_content_decision,
                    },
                );
            } else {
                let key: String = col(row, 1, "qualifications.shop_id")?;
                ctx.qualifications.entry(key).or_default().push(json_col(
                    row,
                    5,
                    "qualifications.doc",
                )?);
            }
        }
        Ok(ctx)
    }

    fn record_screenings(&self, batch: &[Screened]) -> Result<Vec<u64>> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let docs = encode(batch)?;
        let n = batch.len() as u64;
        let mut conn = self.conn()?;
        let mut tx = conn.begin()?;
        for wave in waves(batch) {
            let (new, next): (Vec<usize>, Vec<usize>) =
                wave.iter().partition(|&&i| batch[i].version == 1);
            write_listings(&mut tx, batch, &new, INSERT_LISTINGS)?;
            write_listings(&mut tx, batch, &next, UPDATE_LISTINGS)?;
            let ids: Vec<&str> = wave.iter().map(|&i| batch[i].listing.id.as_str()).collect();
            let versions: Vec<i64> = wave.iter().map(|&i| i64::from(batch[i].version)).collect();
            let hashes: Vec<&str> = wave
                .iter()
                .map(|&i| batch[i].content_hash.as_str())
                .collect();
            let listing_docs: Vec<&str> = wave.iter().map(|&i| docs[i].0.as_str()).collect();
            let at: Vec<DateTime<Utc>> =
                wave.iter().map(|&i| batch[i].decision.decided_at).collect();
            tx.execute(
                INSERT_VERSIONS,
                &[&ids, &versions, &hashes, &listing_docs, &at],
            )
            .map_err(|e| {
                conflict_as(e, || {
                    "a listing version was stored by another writer first".to_string()
                })
            })?;
        }
        // The sweep index (about ten rows per listing) before the numbers.
        write_terms(&mut tx, batch)?;
        // Numbers last: the counter's row lock serialises every writer's
        // commit from here to COMMIT, so it is held for as short a time as
        // can be (the decisions' insert and the commit), and only by a
        // transaction that got this far.
        let last = bump_counter(&mut tx, DECISION_SEQ, n)?;
        let first = last.checked_sub(n - 1).ok_or_else(|| {
            crate::conn::corrupt("meta.decision_seq", format!("{last} is below {n}"))
        })?;
        let seqs: Vec<u64> = (first..=last).collect();
        let seq_params = seqs
            .iter()
            .map(|&s| seq_i64(s))
            .collect::<Result<Vec<i64>>>()?;
        let decision_ids: Vec<&str> = batch
            .iter()
            .map(|s| s.decision.decision_id.as_str())
            .collect();
        let listing_ids: Vec<&str> = batch.iter().map(|s| s.listing.id.as_str()).collect();
        let versions: Vec<i64> = batch.iter().map(|s| i64::from(s.version)).collect();
        let actions: Vec<&str> = batch.iter().map(|s| s.decision.action.as_str()).collect();
        let scores: Vec<f64> = batch.iter().map(|s| s.decision.score).collect();
        let decision_docs: Vec<&str> = docs.iter().map(|d| d.1.as_str()).collect();
        let at: Vec<DateTime<Utc>> = batch.iter().map(|s| s.decision.decided_at).collect();
        tx.execute(
            INSERT_DECISIONS,
            &[
                &decision_ids,
                &seq_params,
                &listing_ids,
                &versions,
                &actions,
                &scores,
                &decision_docs,
                &at,
            ],
        )
        .map_err(|e| conflict_as(e, || "a decision of this batch exists".to_string()))?;
        tx.commit()?;
        Ok(seqs)
    }

    fn latest_listing(&self, id: &str) -> Result<Option<StoredListing>> {
        self.conn()?
            .query_opt(
                "SELECT v.doc, v.version, v.content_hash, v.submitted_at \
                 FROM listings l JOIN listing_versions v \
                 ON v.listing_id = l.id AND v.version = l.version WHERE l.id = $1",
                &[&id],
            )?
            .as_ref()
            .map(listing_from)
            .transpose()
    }

    fn listing_history(&self, id: &str) -> Result<Vec<StoredListing>> {
        self.conn()?
            .query(
                "SELECT v.doc, v.version, v.content_hash, v.submitted_at \
                 FROM listing_versions v WHERE v.listing_id = $1 ORDER BY v.version",
                &[&id],
            )?
            .iter()
            .map(listing_from)
            .collect()
    }

    fn listings_by_shop(&self, shop_id: &str, page: &Page) -> Result<Vec<StoredListing>> {
        let limit = limit_i64(page.limit.clamp(1, 10_000));
        // Two statements rather than `$2 IS NULL OR id > $2`, so each
        // keeps an index range scan once its plan is cached.
        let mut conn = self.conn()?;
        let rows = match &page.after {
            None => conn.query(
                "SELECT v.doc, v.version, v.content_hash, v.submitted_at \
                 FROM listings l JOIN listing_versions v \
                 ON v.listing_id = l.id AND v.version = l.version \
                 WHERE l.shop_id = $1 ORDER BY l.id LIMIT $2",
                &[&shop_id, &limit],
            )?,
            Some(after) => conn.query(
                "SELECT v.doc, v.version, v.content_hash, v.submitted_at \
                 FROM listings l JOIN listing_versions v \
                 ON v.listing_id = l.id AND v.version = l.version \
                 WHERE l.shop_id = $1 AND l.id > $2 ORDER BY l.id LIMIT $3",
                &[&shop_id, after, &limit],
            )?,
        };
        rows.iter().map(listing_from).collect()
    }

    fn decision(&self, decision_id: &str) -> Result<Option<shopshield_model::Decision>> {
        self.conn()?
            .query_opt(
                "SELECT doc FROM decisions WHERE decision_id = $1",
                &[&decision_id],
            )?
            .map(|row| json_col(&row, 0, "decisions.doc"))
            .transpose()
    }

    fn decisions_for_listing(&self, listing_id: &str) -> Result<Vec<shopshield_model::Decision>> {
        self.conn()?
            .query(
                "SELECT doc FROM decisions WHERE listing_id = $1 ORDER BY version",
                &[&listing_id],
            )?
            .iter()
            .map(|row| json_col(row, 0, "decisions.doc"))
            .collect()
    }

    fn decisions(&self, page: &Page) -> Result<Vec<shopshield_model::Decision>> {
        let limit = limit_i64(page.limit.clamp(1, 10_000));
        let mut conn = self.conn()?;
        let rows = match &page.after {
            None => conn.query("SELECT doc FROM decisions ORDER BY seq LIMIT $1", &[&limit])?,
            // An unknown decision id: nothing after it.
            Some(after) => conn.query(
                "SELECT doc FROM decisions WHERE seq > \
                 (SELECT seq FROM decisions WHERE decision_id = $1) ORDER BY seq LIMIT $2",
                &[after, &limit],
            )?,
        };
        rows.iter()
            .map(|row| json_col(row, 0, "decisions.doc"))
            .collect()
    }

    fn enforcement_backlog(&self, after: u64, limit: usize) -> Result<Vec<BacklogItem>> {
        self.conn()?
            .query(
                "SELECT d.seq, v.doc, d.doc FROM decisions d JOIN listing_versions v \
                 ON v.listing_id = d.listing_id AND v.version = d.version \
                 WHERE d.seq > $1 AND d.action <> 'approve' ORDER BY d.seq LIMIT $2",
                &[&seq_i64(after)?, &limit_i64(limit)],
            )?
            .iter()
            .map(|row| {
                Ok(BacklogItem {
                    position: u64_col(row, 0, "decisions.seq")?,
                    listing: json_col(row, 1, "listing_versions.doc")?,
                    decision: json_col(row, 2, "decisions.doc")?,
                })
            })
            .collect()
    }

    fn decisions_end(&self) -> Result<u64> {
        counter(&mut *self.conn()?, DECISION_SEQ)
    }
}
