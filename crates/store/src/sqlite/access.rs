//! [`KeyStore`] and [`QualificationStore`] on SQLite.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use shopshield_model::{Qualification, Role};

use super::{conflict_or, corrupt, from_json, parse_ts, to_json, ts};
use crate::{ApiKey, KeyStore, QualificationStore, Result, SqliteStore};

const KEY_COLUMNS: &str =
    "key_hash, role, holder_id, shop_id, label, created_at, creator_id, principal_id";

type RawKey = (
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    Option<String>,
    Option<String>,
);

fn key_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawKey> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    ))
}

fn key_from(t: RawKey) -> Result<ApiKey> {
    let role = Role::parse(&t.1)
        .ok_or_else(|| corrupt("api_keys.role", format!("unknown role {:?}", t.1)))?;
    let principal_id =
        t.7.ok_or_else(|| corrupt("api_keys.principal_id", "missing"))?;
    Ok(ApiKey {
        key_hash: t.0,
        role,
        holder_id: t.2,
        shop_id: t.3,
        label: t.4,
        created_at: parse_ts("api_keys.created_at", &t.5)?,
        creator_id: t.6,
        principal_id,
    })
}

/// The principal of a key stored before keys had one: its label when that
/// is a valid id (the identity it had), otherwise `key-` and the first 12
/// hex digits of its hash.
pub(crate) fn legacy_principal(label: &str, key_hash: &str) -> String {
    if !label.is_empty() && shopshield_model::validate_id("label", label).is_ok() {
        label.to_string()
    } else {
        format!("key-{}", key_hash.get(..12).unwrap_or(key_hash))
    }
}

/// Migration 4: gives every existing key its principal.
pub(super) fn fill_principals(conn: &Connection) -> Result<()> {
    let keys: Vec<(String, String)> = {
        let mut st =
            conn.prepare("SELECT key_hash, label FROM api_keys WHERE principal_id IS NULL")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for (hash, label) in keys {
        conn.execute(
            "UPDATE api_keys SET principal_id = ?2 WHERE key_hash = ?1",
            params![hash, legacy_principal(&label, &hash)],
        )?;
    }
    Ok(())
}

impl KeyStore for SqliteStore {
    fn insert_api_key(&self, k: &ApiKey) -> Result<()> {
        self.write()
            .prepare_cached(&format!(
                "INSERT INTO api_keys ({KEY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
            ))?
            .execute(params![
                k.key_hash,
                k.role.as_str(),
                k.holder_id,
                k.shop_id,
                k.label,
                ts(k.created_at),
                k.creator_id,
                k.principal_id
            ])
            .map_err(|e| conflict_or(e, || "a key with this hash exists".into()))?;
        Ok(())
    }

    fn api_key(&self, key_hash: &str) -> Result<Option<ApiKey>> {
        self.read()
            .prepare_cached(&format!(
                "SELECT {KEY_COLUMNS} FROM api_keys WHERE key_hash = ?1"
            ))?
            .query_row([key_hash], key_row)
            .optional()?
            .map(key_from)
            .transpose()
    }

    fn api_keys(&self) -> Result<Vec<ApiKey>> {
        let conn = self.read();
        let mut st = conn.prepare_cached(&format!(
            "SELECT {KEY_COLUMNS} FROM api_keys ORDER BY created_at, key_hash"
        ))?;
        let rows = st.query_map([], key_row)?;
        rows.map(|r| key_from(r?)).collect()
    }
}

impl QualificationStore for SqliteStore {
    fn put_qualification(&self, q: &Qualification, now: DateTime<Utc>) -> Result<()> {
        self.write()
            .prepare_cached(
                "INSERT INTO qualifications (shop_id, qualification, region, doc, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(shop_id, qualification, region) \
                 DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at",
            )?
            .execute(params![
                q.shop_id,
                q.qualification,
                q.region.as_str(),
                to_json(q)?,
                ts(now)
            ])?;
        Ok(())
    }

    fn qualifications(&self, shop_id: &str) -> Result<Vec<Qualification>> {
        let conn = self.read();
        let mut st = conn.prepare_cached(
            "SELECT doc FROM qualifications WHERE shop_id = ?1 ORDER BY qualification, region",
        )?;
        let rows = st.query_map([shop_id], |r| r.get::<_, String>(0))?;
        rows.map(|d| from_json("qualifications.doc", &d?)).collect()
    }
}
