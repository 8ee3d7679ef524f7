//! [`AuthorizationStore`] on SQLite: authorisation requests and the
//! authorised-seller changes they made.

use rusqlite::{OptionalExtension, params};
use shopshield_model::{Authorization, Right};

use super::outbox::insert_outbox;
use super::{begin, bump_counter, conflict_or, from_json, limit_i64, seq_i64, to_json, to_u64, ts};
use crate::{
    AuthorizationChange, AuthorizationFilter, AuthorizationStore, OutboxRow, Result, SellerChange,
    SqliteStore, StoreError,
};

const REGISTRY: &str = "registry_version";

fn decode(doc: &str) -> Result<Authorization> {
    from_json("authorizations.doc", doc)
}

impl AuthorizationStore for SqliteStore {
    fn insert_authorization(&self, a: &Authorization, outbox: &[OutboxRow]) -> Result<()> {
        let mut conn = self.write();
        let tx = begin(&mut conn)?;
        tx.prepare_cached(
            "INSERT INTO authorizations (id, right_id, holder_id, shop_id, state, version, \
             registry_version, created_at, doc) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?
        .execute(params![
            a.id,
            a.right_id,
            a.holder_id,
            a.shop_id,
            a.state.as_str(),
            a.version,
            a.registry_version.map(seq_i64).transpose()?,
            ts(a.created_at),
            to_json(a)?
        ])
        .map_err(|e| {
            conflict_or(e, || {
                format!(
                    "authorisation {:?} exists, or shop {:?} already has a pending request on right {:?}",
                    a.id, a.shop_id, a.right_id
                )
            })
        })?;
        insert_outbox(&tx, outbox)?;
        tx.commit()?;
        Ok(())
    }

    fn authorization(&self, id: &str) -> Result<Option<Authorization>> {
        let doc: Option<String> = self
            .read()
            .prepare_cached("SELECT doc FROM authorizations WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        doc.as_deref().map(decode).transpose()
    }

    fn pending_authorization(
        &self,
        right_id: &str,
        shop_id: &str,
    ) -> Result<Option<Authorization>> {
        let doc: Option<String> = self
            .read()
            .prepare_cached(
                "SELECT doc FROM authorizations WHERE right_id = ?1 AND shop_id = ?2 \
                 AND state = 'pending'",
            )?
            .query_row([right_id, shop_id], |r| r.get(0))
            .optional()?;
        doc.as_deref().map(decode).transpose()
    }

    fn authorizations(&self, f: &AuthorizationFilter) -> Result<Vec<Authorization>> {
        let conn = self.read();
        let mut st = conn.prepare_cached(
            "SELECT doc FROM authorizations WHERE (?1 IS NULL OR holder_id = ?1) \
             AND (?2 IS NULL OR shop_id = ?2) AND (?3 IS NULL OR right_id = ?3) \
             AND (?4 IS NULL OR state = ?4) AND (?5 IS NULL OR id > ?5) \
             ORDER BY id LIMIT ?6",
        )?;
        let rows = st.query_map(
            params![
                f.holder_id,
                f.shop_id,
                f.right_id,
                f.state.map(|s| s.as_str()),
                f.after,
                limit_i64(f.limit)
            ],
            |r| r.get::<_, String>(0),
        )?;
        let mut out = Vec::new();
        for doc in rows {
            out.push(decode(&doc?)?);
        }
        Ok(out)
    }

    fn update_authorization(
        &self,
        a: &Authorization,
        sellers: Option<SellerChange>,
        outbox: &[OutboxRow],
    ) -> Result<Authorization> {
        let Some(expected) = a.version.checked_sub(1) else {
            return Err(StoreError::Conflict(
                "an authorisation's version starts at 1".into(),
            ));
        };
        let mut a = a.clone();
        let mut conn = self.write();
        let tx = begin(&mut conn)?;
        if let Some(change) = sellers {
            let doc: Option<String> = tx
                .prepare_cached("SELECT doc FROM rights WHERE id = ?1")?
                .query_row([&a.right_id], |r| r.get(0))
                .optional()?;
            let Some(doc) = doc else {
                return Err(StoreError::Conflict(format!(
                    "right {:?} no longer exists",
                    a.right_id
                )));
            };
            let mut right: Right = from_json("rights.doc", &doc)?;
            change.apply(&mut right, &a.shop_id);
            right.updated_at = a.updated_at;
            let v = bump_counter(&tx, REGISTRY, 1)?;
            tx.prepare_cached(
                "UPDATE rights SET doc = ?2, updated_at = ?3, changed_version = ?4 WHERE id = ?1",
            )?
            .execute(params![
                right.id,
                to_json(&right)?,
                ts(right.updated_at),
                seq_i64(v)?
            ])?;
            tx.prepare_cached(
                "INSERT INTO authorization_changes (registry_version, authorization_id, right_id, \
                 shop_id, change) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                seq_i64(v)?,
                a.id,
                a.right_id,
                a.shop_id,
                change.as_str()
            ])?;
            a.registry_version = Some(v);
        }
        let doc = to_json(&a)?;
        let registry_version = a.registry_version.map(seq_i64).transpose()?;
        let n = tx
            .prepare_cached(
                "UPDATE authorizations SET state = ?2, version = ?3, registry_version = ?4, \
                 doc = ?5 WHERE id = ?1 AND version = ?6",
            )
            .and_then(|mut st| {
                st.execute(params![
                    a.id,
                    a.state.as_str(),
                    a.version,
                    registry_version,
                    doc,
                    expected
                ])
            })
            .map_err(|e| {
                conflict_or(e, || {
                    format!(
                        "shop {:?} already has a pending request on right {:?}",
                        a.shop_id, a.right_id
                    )
                })
            })?;
        if n == 0 {
            return Err(StoreError::Conflict(format!(
                "authorisation {:?} was changed by someone else (or does not exist)",
                a.id
            )));
        }
        insert_outbox(&tx, outbox)?;
        tx.commit()?;
        Ok(a)
    }

    fn authorization_changes_since(&self, after: u64) -> Result<Vec<AuthorizationChange>> {
        let conn = self.read();
        let mut st = conn.prepare_cached(
            "SELECT registry_version, authorization_id, right_id, shop_id, change \
             FROM authorization_changes WHERE registry_version > ?1 ORDER BY registry_version",
        )?;
        let rows = st.query_map([seq_i64(after)?], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (v, id, right, shop, change) = row?;
            out.push(AuthorizationChange {
                registry_version: to_u64("authorization_changes.registry_version", v)?,
                authorization_id: id,
                right_id: right,
                shop_id: shop,
                change: parse_change(&change)?,
            });
        }
        Ok(out)
    }
}

fn parse_change(s: &str) -> Result<SellerChange> {
    SellerChange::parse(s).ok_or_else(|| {
        super::corrupt(
            "authorization_changes.change",
            format!("{s:?} is not approved or revoked"),
        )
    })
}
