//! [`RegistryStore`] on PostgreSQL: holders and rights.
//!
//! Every change bumps `meta.registry_version` first, which locks that row
//! until commit: registry writers queue behind one another, so a right's
//! `changed_version` order is commit order, and what an import reads of
//! the stored rights cannot change under it. The same transaction sends
//! `NOTIFY shopshield_registry` with the new version, which PostgreSQL
//! delivers to listeners when (and only if) it commits.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use postgres::Row;
use shopshield_model::{Right, RightReview, RightReviewState, RightsHolder};
use shopshield_store::{RegistryStore, Result, RightChange, RightRecord};

use crate::conn::{Conn, col, conflict_as, json_col, seq_i64, to_json, u64_col};
use crate::{PgStore, REGISTRY_CHANNEL, counter};

const REGISTRY: &str = "registry_version";

fn holder_from(row: &Row) -> Result<RightsHolder> {
    Ok(RightsHolder {
        id: col(row, 0, "holders.id")?,
        name: col(row, 1, "holders.name")?,
        created_at: col(row, 2, "holders.created_at")?,
    })
}

/// Bumps the registry version inside the transaction (locking it until
/// commit) and queues the notification of it.
pub(crate) fn bump_registry(tx: &mut Conn) -> Result<u64> {
    let row = tx.query_opt(
        "WITH bumped AS (UPDATE meta SET value = value + 1 WHERE key = $1 RETURNING value) \
         SELECT value, pg_notify($2, value::text)::text FROM bumped",
        &[&REGISTRY, &REGISTRY_CHANNEL],
    )?;
    match row {
        None => Err(crate::conn::corrupt("meta.registry_version", "missing")),
        Some(row) => u64_col(&row, 0, "meta.registry_version"),
    }
}

const INSERT_RIGHT: &str = "INSERT INTO rights \
     (id, holder_id, kind, enabled, doc, image, features, changed_version, updated_at, expires_on) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

/// The `expires_on` column: the registration's last day.
fn expiry(r: &Right) -> Option<NaiveDate> {
    r.registration.as_ref().map(|g| g.expires_on)
}

/// Upserts every right of an import in one statement.
const UPSERT_RIGHTS: &str = "INSERT INTO rights \
     (id, holder_id, kind, enabled, doc, image, features, changed_version, updated_at, expires_on) \
     SELECT id, holder_id, kind, enabled, doc, image, features, $8, updated_at, expires_on \
     FROM unnest($1::text[], $2::text[], $3::text[], $4::boolean[], $5::text[], $6::bytea[], \
                 $7::bytea[], $9::timestamptz[], $10::date[]) \
          AS u(id, holder_id, kind, enabled, doc, image, features, updated_at, expires_on) \
     ORDER BY id \
     ON CONFLICT (id) DO UPDATE SET holder_id = excluded.holder_id, kind = excluded.kind, \
     enabled = excluded.enabled, doc = excluded.doc, image = excluded.image, \
     features = excluded.features, changed_version = excluded.changed_version, \
     updated_at = excluded.updated_at, expires_on = excluded.expires_on";

impl RegistryStore for PgStore {
    fn registry_version(&self) -> Result<u64> {
        counter(&mut *self.conn()?, REGISTRY)
    }

    fn holder(&self, id: &str) -> Result<Option<RightsHolder>> {
        self.conn()?
            .query_opt(
                "SELECT id, name, created_at FROM holders WHERE id = $1",
                &[&id],
            )?
            .as_ref()
            .map(holder_from)
            .transpose()
    }

    fn holder_by_name(&self, name: &str) -> Result<Option<RightsHolder>> {
        self.conn()?
            .query_opt(
                "SELECT id, name, created_at FROM holders WHERE name = $1",
                &[&name],
            )?
            .as_ref()
            .map(holder_from)
            .transpose()
    }

    fn holders(&self) -> Result<Vec<RightsHolder>> {
        self.conn()?
            .query("SELECT id, name, created_at FROM holders ORDER BY id", &[])?
            .iter()
            .map(holder_from)
            .collect()
    }

    fn insert_holder(&self, h: &RightsHolder) -> Result<()> {
        self.conn()?
            .execute(
                "INSERT INTO holders (id, name, created_at) VALUES ($1, $2, $3)",
                &[&h.id, &h.name, &h.created_at],
            )
            .map_err(|e| {
                conflict_as(e, || {
                    format!(
                        "a holder with id {:?} or name {:?} already exists",
                        h.id, h.name
                    )
                })
            })?;
        Ok(())
    }

    fn insert_right(&self, rec: &RightRecord) -> Result<u64> {
        let r = &rec.right;
        let doc = to_json(r)?;
        let mut conn = self.conn()?;
        let mut tx = conn.begin()?;
        let v = bump_registry(&mut tx)?;
        tx.execute(
            INSERT_RIGHT,
            &[
                &r.id,
                &r.holder_id,
                &r.kind.as_str(),
                &r.enabled,
                &doc,
                &rec.image,
                &rec.features,
                &seq_i64(v)?,
                &r.updated_at,
                &expiry(r),
            ],
        )
        .map_err(|e| {
            conflict_as(e, || {
                format!(
                    "right {:?} already exists, or holder {:?} does not",
                    r.id, r.holder_id
                )
            })
        })?;
        tx.commit()?;
        Ok(v)
    }

    fn import_rights(&self, holders: &[RightsHolder], rights: &[RightRecord]) -> Result<u64> {
        // A right listed twice: the last one stands, as if written in turn.
        let mut last: HashMap<&str, usize> = HashMap::new();
        for (i, rec) in rights.iter().enumerate() {
            last.insert(&rec.right.id, i);
        }
        let rights: Vec<&RightRecord> = rights
            .iter()
            .enumerate()
            .filter(|(i, rec)| last.get(rec.right.id.as_str()) == Some(i))
            .map(|(_, rec)| rec)
            .collect();
        let ids: Vec<&str> = rights.iter().map(|r| r.right.id.as_str()).collect();

        let mut conn = self.conn()?;
        let mut tx = conn.begin()?;
        if !holders.is_empty() {
            let hid: Vec<&str> = holders.iter().map(|h| h.id.as_str()).collect();
            let hname: Vec<&str> = holders.iter().map(|h| h.name.as_str()).collect();
            let hat: Vec<DateTime<Utc>> = holders.iter().map(|h| h.created_at).collect();
            tx.execute(
                "INSERT INTO holders (id, name, created_at) \
                 SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[]) \
                 ON CONFLICT DO NOTHING",
                &[&hid, &hname, &hat],
            )?;
        }
        let v = bump_registry(&mut tx)?;
        // Replaced rights keep their created_at. The registry lock taken
        // above keeps every other registry writer out until commit.
        let mut created: HashMap<String, DateTime<Utc>> = HashMap::new();
        for row in tx.query("SELECT id, doc FROM rights WHERE id = ANY($1)", &[&ids])? {
            let old: Right = json_col(&row, 1, "rights.doc")?;
            created.insert(col(&row, 0, "rights.id")?, old.created_at);
        }
        let mut docs = Vec::with_capacity(rights.len());
        for rec in &rights {
            let mut right = rec.right.clone();
            if let Some(at) = created.get(&right.id) {
                right.created_at = *at;
            }
            docs.push(to_json(&right)?);
        }
        if !rights.is_empty() {
            let holder_ids: Vec<&str> = rights.iter().map(|r| r.right.holder_id.as_str()).collect();
            let kinds: Vec<&str> = rights.iter().map(|r| r.right.kind.as_str()).collect();
            let enabled: Vec<bool> = rights.iter().map(|r| r.right.enabled).collect();
            let images: Vec<Option<&[u8]>> = rights.iter().map(|r| r.image.as_deref()).collect();
            let features: Vec<Option<&[u8]>> =
                rights.iter().map(|r| r.features.as_deref()).collect();
            let updated: Vec<DateTime<Utc>> = rights.iter().map(|r| r.right.updated_at).collect();
            let expires: Vec<Option<NaiveDate>> = rights.iter().map(|r| expiry(&r.right)).collect();
            tx.execute(
                UPSERT_RIGHTS,
                &[
                    &ids,
                    &holder_ids,
                    &kinds,
                    &enabled,
                    &docs,
                    &images,
                    &features,
                    &seq_i64(v)?,
                    &updated,
                    &expires,
                ],
            )
            .map_err(|e| {
                conflict_as(e, || {
                    "a right names a holder that does not exist".to_string()
                })
            })?;
        }
        tx.commit()?;
        Ok(v)
    }

    fn right(&self, id: &str) -> Result<Option<RightRecord>> {
        self.conn()?
            .query_opt(
                "SELECT doc, image, features FROM rights WHERE id = $1",
                &[&id],
            )?
            .map(|row| {
                Ok(RightRecord {
                    right: json_col(&row, 0, "rights.doc")?,
                    image: col(&row, 1, "rights.image")?,
                    features: col(&row, 2, "rights.features")?,
                })
            })
            .transpose()
    }

    fn rights(&self, holder_id: Option<&str>) -> Result<Vec<Right>> {
        let mut conn = self.conn()?;
        let rows = match holder_id {
            None => conn.query("SELECT doc FROM rights ORDER BY id", &[])?,
            Some(h) => conn.query(
                "SELECT doc FROM rights WHERE holder_id = $1 ORDER BY id",
                &[&h],
            )?,
        };
        rows.iter()
            .map(|row| json_col(row, 0, "rights.doc"))
            .collect()
    }

    fn rights_changed_since(&self, after: u64) -> Result<Vec<RightChange>> {
        self.conn()?
            .query(
                "SELECT doc, features, image IS NOT NULL, changed_version FROM rights \
                 WHERE changed_version > $1 ORDER BY id",
                &[&seq_i64(after)?],
            )?
            .iter()
            .map(|row| {
                Ok(RightChange {
                    right: json_col(row, 0, "rights.doc")?,
                    features: col(row, 1, "rights.features")?,
                    has_image: col(row, 2, "rights.image")?,
                    version: u64_col(row, 3, "rights.changed_version")?,
                })
            })
            .collect()
    }

    fn right_image(&self, id: &str) -> Result<Option<Vec<u8>>> {
        let row = self
            .conn()?
            .query_opt("SELECT image FROM rights WHERE id = $1", &[&id])?;
        match row {
            None => Ok(None),
            Some(row) => col(&row, 0, "rights.image"),
        }
    }

    fn set_right_enabled(
        &self,
        id: &str,
        enabled: bool,
        now: DateTime<Utc>,
    ) -> Result<Option<(Right, u64)>> {
        let mut conn = self.conn()?;
        let mut tx = conn.begin()?;
        // The registry lock first, as every registry writer takes it (one
        // order, no deadlock). A right that does not exist is no change:
        // dropping the transaction rolls the bump and its notice back.
        let v = bump_registry(&mut tx)?;
        let Some(row) = tx.query_opt("SELECT doc FROM rights WHERE id = $1", &[&id])? else {
            return Ok(None);
        };
        let mut right: Right = json_col(&row, 0, "rights.doc")?;
        right.enabled = enabled;
        right.updated_at = now;
        tx.execute(
            "UPDATE rights SET enabled = $2, doc = $3, updated_at = $4, changed_version = $5 \
             WHERE id = $1",
            &[&id, &enabled, &to_json(&right)?, &now, &seq_i64(v)?],
        )?;
        tx.commit()?;
        Ok(Some((right, v)))
    }

    fn set_right_features(&self, id: &str, features: &[u8]) -> Result<()> {
        self.conn()?.execute(
            "UPDATE rights SET features = $2 WHERE id = $1",
            &[&id, &features],
        )?;
        Ok(())
    }

    fn set_right_review(
        &self,
        id: &str,
        review: &RightReview,
        now: DateTime<Utc>,
    ) -> Result<Option<(Right, u64)>> {
        let mut conn = self.conn()?;
        let mut tx = conn.begin()?;
        // The registry lock first, as every registry writer takes it.
        let v = bump_registry(&mut tx)?;
        let Some(row) = tx.query_opt("SELECT doc FROM rights WHERE id = $1", &[&id])? else {
            return Ok(None);
        };
        let mut right: Right = json_col(&row, 0, "rights.doc")?;
        let held = right
            .review
            .as_ref()
            .is_some_and(|r| r.state == RightReviewState::Pending);
        if !held {
            return Err(shopshield_store::StoreError::Conflict(format!(
                "right {id:?} is not held for review: {}",
                right
                    .review
                    .as_ref()
                    .map_or("it was never held", |r| r.state.as_str())
            )));
        }
        right.review = Some(review.clone());
        right.updated_at = now;
        tx.execute(
            "UPDATE rights SET doc = $2, updated_at = $3, changed_version = $4 WHERE id = $1",
            &[&id, &to_json(&right)?, &now, &seq_i64(v)?],
        )?;
        tx.commit()?;
        Ok(Some((right, v)))
    }

    fn rights_expiring(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<Right>> {
        self.conn()?
            .query(
                "SELECT doc FROM rights WHERE expires_on >= $1 AND expires_on <= $2 ORDER BY id",
                &[&from, &to],
            )?
            .iter()
            .map(|row| json_col(row, 0, "rights.doc"))
            .collect()
    }
}
