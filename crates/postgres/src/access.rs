//! [`KeyStore`] and [`QualificationStore`] on PostgreSQL.

use chrono::{DateTime, Utc};
use postgres::Row;
use shopshield_model::{Qualification, Role};
use shopshield_store::{ApiKey, KeyStore, QualificationStore, Result};

use crate::PgStore;
use crate::conn::{col, conflict_as, corrupt, json_col, to_json};

fn key_from(row: &Row) -> Result<ApiKey> {
    let role: &str = col(row, 1, "api_keys.role")?;
    let role = Role::parse(role)
        .ok_or_else(|| corrupt("api_keys.role", format!("unknown role {role:?}")))?;
    Ok(ApiKey {
        key_hash: col(row, 0, "api_keys.key_hash")?,
        role,
        holder_id: col(row, 2, "api_keys.holder_id")?,
        shop_id: col(row, 3, "api_keys.shop_id")?,
        label: col(row, 4, "api_keys.label")?,
        created_at: col(row, 5, "api_keys.created_at")?,
        creator_id: col(row, 6, "api_keys.creator_id")?,
        principal_id: col(row, 7, "api_keys.principal_id")?,
    })
}

impl KeyStore for PgStore {
    fn insert_api_key(&self, k: &ApiKey) -> Result<()> {
        self.conn()?
            .execute(
                "INSERT INTO api_keys (key_hash, role, holder_id, shop_id, label, created_at, \
                 creator_id, principal_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                &[
                    &k.key_hash,
                    &k.role.as_str(),
                    &k.holder_id,
                    &k.shop_id,
                    &k.label,
                    &k.created_at,
                    &k.creator_id,
                    &k.principal_id,
                ],
            )
            .map_err(|e| conflict_as(e, || "a key with this hash exists".into()))?;
        Ok(())
    }

    fn api_key(&self, key_hash: &str) -> Result<Option<ApiKey>> {
        self.conn()?
            .query_opt(
                "SELECT key_hash, role, holder_id, shop_id, label, created_at, creator_id, \
                 principal_id FROM api_keys WHERE key_hash = $1",
                &[&key_hash],
            )?
            .as_ref()
            .map(key_from)
            .transpose()
    }

    fn api_keys(&self) -> Result<Vec<ApiKey>> {
        self.conn()?
            .query(
                "SELECT key_hash, role, holder_id, shop_id, label, created_at, creator_id, \
                 principal_id FROM api_keys ORDER BY created_at, key_hash",
                &[],
            )?
            .iter()
            .map(key_from)
            .collect()
    }
}

impl QualificationStore for PgStore {
    fn put_qualification(&self, q: &Qualification, now: DateTime<Utc>) -> Result<()> {
        self.conn()?.execute(
            "INSERT INTO qualifications (shop_id, qualification, region, doc, updated_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (shop_id, qualification, region) \
             DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at",
            &[
                &q.shop_id,
                &q.qualification,
                &q.region.as_str(),
                &to_json(q)?,
                &now,
            ],
        )?;
        Ok(())
    }

    fn qualifications(&self, shop_id: &str) -> Result<Vec<Qualification>> {
        self.conn()?
            .query(
                "SELECT doc FROM qualifications WHERE shop_id = $1 \
                 ORDER BY qualification, region",
                &[&shop_id],
            )?
            .iter()
            .map(|row| json_col(row, 0, "qualifications.doc"))
            .collect()
    }
}
