//! [`RegistryStore`] on SQLite: holders and rights.

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{OptionalExtension, params};
use shopshield_model::{Right, RightReview, RightReviewState, RightsHolder};

use super::{
    begin, bump_counter, conflict_or, counter, from_json, parse_ts, seq_i64, to_json, to_u64, ts,
};
use crate::{RegistryStore, Result, RightChange, RightRecord, SqliteStore};

const REGISTRY: &str = "registry_version";

fn holder_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, String, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
}

fn holder_from(t: (String, String, String)) -> Result<RightsHolder> {
    Ok(RightsHolder {
        created_at: parse_ts("holders.created_at", &t.2)?,
        id: t.0,
        name: t.1,
    })
}

fn write_right(
    tx: &rusqlite::Transaction<'_>,
    rec: &RightRecord,
    version: u64,
    replace: bool,
) -> Result<()> {
    let r = &rec.right;
    let sql = if replace {
        "INSERT INTO rights (id, holder_id, kind, enabled, doc, image, features, changed_version, updated_at, expires_on) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
         ON CONFLICT(id) DO UPDATE SET holder_id = excluded.holder_id, kind = excluded.kind, \
         enabled = excluded.enabled, doc = excluded.doc, image = excluded.image, \
         features = excluded.features, changed_version = excluded.changed_version, \
         updated_at = excluded.updated_at, expires_on = excluded.expires_on"
    } else {
        "INSERT INTO rights (id, holder_id, kind, enabled, doc, image, features, changed_version, updated_at, expires_on) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
    };
    tx.prepare_cached(sql)?
        .execute(params![
            r.id,
            r.holder_id,
            r.kind.as_str(),
            r.enabled,
            to_json(r)?,
            rec.image,
            rec.features,
            seq_i64(version)?,
            ts(r.updated_at),
            expiry(r),
        ])
        .map_err(|e| {
            conflict_or(e, || {
                format!(
                    "right {:?} already exists, or holder {:?} does not",
                    r.id, r.holder_id
                )
            })
        })?;
    Ok(())
}

/// The `expires_on` column: the registration's last day, `YYYY-MM-DD`.
fn expiry(r: &Right) -> Option<String> {
    r.registration.as_ref().map(|g| g.expires_on.to_string())
}

impl RegistryStore for SqliteStore {
    fn registry_version(&self) -> Result<u64> {
        counter(&self.read(), REGISTRY)
    }

    fn holder(&self, id: &str) -> Result<Option<RightsHolder>> {
        self.read()
            .prepare_cached("SELECT id, name, created_at FROM holders WHERE id = ?1")?
            .query_row([id], holder_row)
            .optional()?
            .map(holder_from)
            .transpose()
    }

    fn holder_by_name(&self, name: &str) -> Result<Option<RightsHolder>> {
        self.read()
            .prepare_cached("SELECT id, name, created_at FROM holders WHERE name = ?1")?
            .query_row([name], holder_row)
            .optional()?
            .map(holder_from)
            .transpose()
    }

    fn holders(&self) -> Result<Vec<RightsHolder>> {
        let conn = self.read();
        let mut st = conn.prepare_cached("SELECT id, name, created_at FROM holders ORDER BY id")?;
        let rows = st.query_map([], holder_row)?;
        rows.map(|r| holder_from(r?)).collect()
    }

    fn insert_holder(&self, h: &RightsHolder) -> Result<()> {
        self.write()
            .prepare_cached("INSERT INTO holders (id, name, created_at) VALUES (?1, ?2, ?3)")?
            .execute(params![h.id, h.name, ts(h.created_at)])
            .map_err(|e| {
                conflict_or(e, || {
                    format!(
                        "a holder with id {:?} or name {:?} already exists",
                        h.id, h.name
                    )
                })
            })?;
        Ok(())
    }

    fn insert_right(&self, rec: &RightRecord) -> Result<u64> {
        let mut conn = self.write();
        let tx = begin(&mut conn)?;
        let v = bump_counter(&tx, REGISTRY, 1)?;
        write_right(&tx, rec, v, false)?;
        tx.commit()?;
        Ok(v)
    }

    fn import_rights(&self, holders: &[RightsHolder], rights: &[RightRecord]) -> Result<u64> {
        let mut conn = self.write();
        let tx = begin(&mut conn)?;
        for h in holders {
            tx.prepare_cached(
                "INSERT INTO holders (id, name, created_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT DO NOTHING",
            )?
            .execute(params![h.id, h.name, ts(h.created_at)])?;
        }
        let v = bump_counter(&tx, REGISTRY, 1)?;
        for rec in rights {
            let existing: Option<String> = tx
                .prepare_cached("SELECT doc FROM rights WHERE id = ?1")?
                .query_row([&rec.right.id], |r| r.get(0))
                .optional()?;
            if let Some(doc) = existing {
                let old: Right = from_json("rights.doc", &doc)?;
                let mut kept = rec.clone();
                kept.right.created_at = old.created_at;
                write_right(&tx, &kept, v, true)?;
            } else {
                write_right(&tx, rec, v, true)?;
            }
        }
        tx.commit()?;
        Ok(v)
    }

    fn right(&self, id: &str) -> Result<Option<RightRecord>> {
        type Row = (String, Option<Vec<u8>>, Option<Vec<u8>>);
        let row: Option<Row> = self
            .read()
            .prepare_cached("SELECT doc, image, features FROM rights WHERE id = ?1")?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        row.map(|(doc, image, features)| {
            Ok(RightRecord {
                right: from_json("rights.doc", &doc)?,
                image,
                features,
            })
        })
        .transpose()
    }

    fn rights(&self, holder_id: Option<&str>) -> Result<Vec<Right>> {
        let conn = self.read();
        let mut st = conn.prepare_cached(
            "SELECT doc FROM rights WHERE ?1 IS NULL OR holder_id = ?1 ORDER BY id",
        )?;
        let rows = st.query_map([holder_id], |r| r.get::<_, String>(0))?;
        rows.map(|d| from_json("rights.doc", &d?)).collect()
    }

    fn rights_changed_since(&self, after: u64) -> Result<Vec<RightChange>> {
        let conn = self.read();
        let mut st = conn.prepare_cached(
            "SELECT doc, features, image IS NOT NULL, changed_version FROM rights \
             WHERE changed_version > ?1 ORDER BY id",
        )?;
        let rows = st.query_map([seq_i64(after)?], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<Vec<u8>>>(1)?,
                r.get::<_, bool>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })?;
        rows.map(|row| {
            let (doc, features, has_image, version) = row?;
            Ok(RightChange {
                right: from_json("rights.doc", &doc)?,
                features,
                has_image,
                version: to_u64("rights.changed_version", version)?,
            })
        })
        .collect()
    }

    fn right_image(&self, id: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .read()
            .prepare_cached("SELECT image FROM rights WHERE id = ?1")?
            .query_row([id], |r| r.get::<_, Option<Vec<u8>>>(0))
            .optional()?
            .flatten())
    }

    fn set_right_enabled(
        &self,
        id: &str,
        enabled: bool,
        now: DateTime<Utc>,
    ) -> Result<Option<(Right, u64)>> {
        let mut conn = self.write();
        let tx = begin(&mut conn)?;
        let doc: Option<String> = tx
            .prepare_cached("SELECT doc FROM rights WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        let Some(doc) = doc else { return Ok(None) };
        let mut right: Right = from_json("rights.doc", &doc)?;
        right.enabled = enabled;
        right.updated_at = now;
        let v = bump_counter(&tx, REGISTRY, 1)?;
        tx.prepare_cached(
            "UPDATE rights SET enabled = ?2, doc = ?3, updated_at = ?4, changed_version = ?5 \
             WHERE id = ?1",
        )?
        .execute(params![id, enabled, to_json(&right)?, ts(now), seq_i64(v)?])?;
        tx.commit()?;
        Ok(Some((right, v)))
    }

    fn set_right_features(&self, id: &str, features: &[u8]) -> Result<()> {
        self.write()
            .prepare_cached("UPDATE rights SET features = ?2 WHERE id = ?1")?
            .execute(params![id, features])?;
        Ok(())
    }

    fn set_right_review(
        &self,
        id: &str,
        review: &RightReview,
        now: DateTime<Utc>,
    ) -> Result<Option<(Right, u64)>> {
        let mut conn = self.write();
        let tx = begin(&mut conn)?;
        let doc: Option<String> = tx
            .prepare_cached("SELECT doc FROM rights WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        let Some(doc) = doc else { return Ok(None) };
        let mut right: Right = from_json("rights.doc", &doc)?;
        let held = right
            .review
            .as_ref()
            .is_some_and(|r| r.state == RightReviewState::Pending);
        if !held {
            return Err(crate::StoreError::Conflict(format!(
                "right {id:?} is not held for review: {}",
                right
                    .review
                    .as_ref()
                    .map_or("it was never held", |r| r.state.as_str())
            )));
        }
        right.review = Some(review.clone());
        right.updated_at = now;
        let v = bump_counter(&tx, REGISTRY, 1)?;
        tx.prepare_cached(
            "UPDATE rights SET doc = ?2, updated_at = ?3, changed_version = ?4 WHERE id = ?1",
        )?
        .execute(params![id, to_json(&right)?, ts(now), seq_i64(v)?])?;
        tx.commit()?;
        Ok(Some((right, v)))
    }

    fn rights_expiring(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<Right>> {
        let conn = self.read();
        let mut st = conn.prepare_cached(
            "SELECT doc FROM rights WHERE expires_on >= ?1 AND expires_on <= ?2 ORDER BY id",
        )?;
        let rows = st.query_map(params![from.to_string(), to.to_string()], |r| {
            r.get::<_, String>(0)
        })?;
        rows.map(|d| from_json("rights.doc", &d?)).collect()
    }
}
