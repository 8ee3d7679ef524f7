//! [`AuthorizationStore`] on PostgreSQL. A request changes only where its
//! stored version is the one the change was computed from (one statement,
//! re-checked by PostgreSQL against a concurrent update); an approval or
//! revocation takes the registry lock first, as every registry writer
//! does, and changes the right, the registry version and the request in
//! one transaction.

use shopshield_model::{Authorization, Right};
use shopshield_store::{
    AuthorizationChange, AuthorizationFilter, AuthorizationStore, OutboxRow, Result, SellerChange,
    StoreError,
};

use crate::PgStore;
use crate::conn::{col, conflict_as, corrupt, json_col, limit_i64, seq_i64, to_json, u64_col};

fn decode(doc: &str) -> Result<Authorization> {
    serde_json::from_str(doc).map_err(|e| corrupt("authorizations.doc", e.to_string()))
}

impl AuthorizationStore for PgStore {
    fn insert_authorization(&self, a: &Authorization, outbox: &[OutboxRow]) -> Result<()> {
        let doc = to_json(a)?;
        let registry_version = a.registry_version.map(seq_i64).transpose()?;
        let mut conn = self.conn()?;
        let mut tx = conn.begin()?;
        tx.execute(
            "INSERT INTO authorizations (id, right_id, holder_id, shop_id, state, version, \
             registry_version, created_at, doc) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                &a.id,
                &a.right_id,
                &a.holder_id,
                &a.shop_id,
                &a.state.as_str(),
                &i64::from(a.version),
                &registry_version,
                &a.created_at,
                &doc,
            ],
        )
        .map_err(|e| {
            conflict_as(e, || {
                format!(
                    "authorisation {:?} exists, or shop {:?} already has a pending request on right {:?}",
                    a.id, a.shop_id, a.right_id
                )
            })
        })?;
        crate::outbox::insert_outbox(&mut tx, outbox)?;
        tx.commit()?;
        Ok(())
    }

    fn authorization(&self, id: &str) -> Result<Option<Authorization>> {
        let row = self
            .conn()?
            .query_opt("SELECT doc FROM authorizations WHERE id = $1", &[&id])?;
        row.map(|r| decode(col(&r, 0, "authorizations.doc")?))
            .transpose()
    }

    fn pending_authorization(
        &self,
        right_id: &str,
        shop_id: &str,
    ) -> Result<Option<Authorization>> {
        let row = self.conn()?.query_opt(
            "SELECT doc FROM authorizations WHERE right_id = $1 AND shop_id = $2 \
             AND state = 'pending'",
            &[&right_id, &shop_id],
        )?;
        row.map(|r| decode(col(&r, 0, "authorizations.doc")?))
            .transpose()
    }

    fn authorizations(&self, f: &AuthorizationFilter) -> Result<Vec<Authorization>> {
        let state = f.state.map(|s| s.as_str());
        self.conn()?
            .query(
                "SELECT doc FROM authorizations WHERE ($1::text IS NULL OR holder_id = $1) \
                 AND ($2::text IS NULL OR shop_id = $2) AND ($3::text IS NULL OR right_id = $3) \
                 AND ($4::text IS NULL OR state = $4) AND ($5::text IS NULL OR id > $5) \
                 ORDER BY id LIMIT $6",
                &[
                    &f.holder_id,
                    &f.shop_id,
                    &f.right_id,
                    &state,
                    &f.after,
                    &limit_i64(f.limit),
                ],
            )?
            .iter()
            .map(|r| decode(col(r, 0, "authorizations.doc")?))
            .collect()
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
        let mut conn = self.conn()?;
        let mut tx = conn.begin()?;
        if let Some(change) = sellers {
            // The registry lock first, as every registry writer takes it.
            let v = crate::registry::bump_registry(&mut tx)?;
            let Some(row) = tx.query_opt(
                "SELECT doc FROM rights WHERE id = $1 FOR UPDATE",
                &[&a.right_id],
            )?
            else {
                return Err(StoreError::Conflict(format!(
                    "right {:?} no longer exists",
                    a.right_id
                )));
            };
            let mut right: Right = json_col(&row, 0, "rights.doc")?;
            change.apply(&mut right, &a.shop_id);
            right.updated_at = a.updated_at;
            tx.execute(
                "UPDATE rights SET doc = $2, updated_at = $3, changed_version = $4 WHERE id = $1",
                &[
                    &right.id,
                    &to_json(&right)?,
                    &right.updated_at,
                    &seq_i64(v)?,
                ],
            )?;
            tx.execute(
                "INSERT INTO authorization_changes (registry_version, authorization_id, right_id, \
                 shop_id, change) VALUES ($1, $2, $3, $4, $5)",
                &[
                    &seq_i64(v)?,
                    &a.id,
                    &a.right_id,
                    &a.shop_id,
                    &change.as_str(),
                ],
            )?;
            a.registry_version = Some(v);
        }
        let doc = to_json(&a)?;
        let registry_version = a.registry_version.map(seq_i64).transpose()?;
        let n = tx
            .execute(
                "UPDATE authorizations SET state = $2, version = $3, registry_version = $4, \
                 doc = $5 WHERE id = $1 AND version = $6",
                &[
                    &a.id,
                    &a.state.as_str(),
                    &i64::from(a.version),
                    &registry_version,
                    &doc,
                    &i64::from(expected),
                ],
            )
            .map_err(|e| {
                conflict_as(e, || {
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
        crate::outbox::insert_outbox(&mut tx, outbox)?;
        tx.commit()?;
        Ok(a)
    }

    fn authorization_changes_since(&self, after: u64) -> Result<Vec<AuthorizationChange>> {
        self.conn()?
            .query(
                "SELECT registry_version, authorization_id, right_id, shop_id, change \
                 FROM authorization_changes WHERE registry_version > $1 ORDER BY registry_version",
                &[&seq_i64(after)?],
            )?
            .iter()
            .map(|r| {
                let change: &str = col(r, 4, "authorization_changes.change")?;
                Ok(AuthorizationChange {
                    registry_version: u64_col(r, 0, "authorization_changes.registry_version")?,
                    authorization_id: col::<&str>(r, 1, "authorization_changes.authorization_id")?
                        .to_string(),
                    right_id: col::<&str>(r, 2, "authorization_changes.right_id")?.to_string(),
                    shop_id: col::<&str>(r, 3, "authorization_changes.shop_id")?.to_string(),
                    change: SellerChange::parse(change).ok_or_else(|| {
                        corrupt(
                            "authorization_changes.change",
                            format!("{change:?} is not approved or revoked"),
                        )
                    })?,
                })
            })
            .collect()
    }
}
