//! The brand-authorisation service: letters of authorisation.
//!
//! A seller asks the holder of a right to authorise its shop (its
//! relationship to the brand, a statement, optionally a supporting
//! document). The holder (or an admin) approves or refuses; an approval
//! can later be revoked. An approval adds the shop to the right's
//! authorised sellers and bumps the registry version in the same
//! transaction as the request's change, so every process's engine picks
//! it up; a revocation removes it the same way. Each such change is a
//! registry change of its own that sweeps scope to the shop
//! (`authorization_approved`, `authorization_revoked`): only that shop's
//! listings are rescreened, now by this process and durably by the sweep
//! any process runs. Every change is checked against the version it was
//! computed from (two decisions on one request: one wins, the other is a
//! conflict) and writes its webhook to the outbox in the same
//! transaction; both parties' ids are in the payload.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shopshield_model::{
    Authorization, AuthorizationDecision, AuthorizationState, MAX_AUTHORIZED_SELLERS,
    NewAuthorization, Permission, Principal, Role, ValidationError, validate_authorization_reason,
    validate_id,
};
use shopshield_store::{
    AuthorizationChange, AuthorizationFilter, OutboxRow, SellerChange, Store, StoreError,
    SweepCounts,
};

use crate::registry::Registry;
use crate::sweep::Sweeps;
use crate::{AppError, Clock};

/// What the holder decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthorizationOutcome {
    /// Authorise the shop: it is added to the right's authorised sellers.
    Approve,
    /// Do not authorise it; nothing else changes.
    Refuse,
    /// Take an approval back: the shop is removed from the authorised
    /// sellers.
    Revoke,
}

/// The holder's decision on a request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    /// `approve`, `refuse` or `revoke`.
    #[serde(default)]
    pub outcome: Option<AuthorizationOutcome>,
    /// Why; required to refuse or revoke, shown to the seller.
    #[serde(default)]
    pub reason: String,
}

/// A decided request and what rescreening the shop's listings did.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Decided {
    pub authorization: Authorization,
    /// The shop's listings looked at and changed (zero for a refusal).
    pub rescreen: SweepCounts,
    /// The decisions taken on the shop's listings.
    pub decisions: Vec<String>,
}

/// The brand-authorisation service.
pub struct Authorizations {
    store: Arc<dyn Store>,
    registry: Arc<Registry>,
    sweeps: Arc<Sweeps>,
    clock: Arc<dyn Clock>,
}

impl Authorizations {
    pub(crate) fn new(
        store: Arc<dyn Store>,
        registry: Arc<Registry>,
        sweeps: Arc<Sweeps>,
        clock: Arc<dyn Clock>,
    ) -> Authorizations {
        Authorizations {
            store,
            registry,
            sweeps,
            clock,
        }
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// A webhook row for a request's change, written with it.
    fn webhook(
        &self,
        kind: &str,
        a: &Authorization,
        extra: serde_json::Value,
    ) -> Result<OutboxRow, AppError> {
        let seq = self.store.log_head_seq()?;
        let key = format!("authorization-{}-v{}", a.id, a.version);
        let now = self.now();
        let body = serde_json::json!({
            "idempotency_key": key,
            "kind": kind,
            "seq": seq,
            "at": now,
            "payload": {
                "authorization_id": a.id,
                "right_id": a.right_id,
                "holder_id": a.holder_id,
                "shop_id": a.shop_id,
                "state": a.state,
                "details": extra,
            },
        });
        Ok(OutboxRow::pending(key, seq, kind, body.to_string(), now))
    }

    // ------------------------------------------------------------ asking

    /// A seller asks for authorisation on a right for its own shop (an
    /// admin names the shop). Re-posting the same request while it is
    /// pending answers it (`false`: not created now); another request
    /// while one is pending is a conflict.
    pub fn request(
        &self,
        p: &Principal,
        right_id: &str,
        new: NewAuthorization,
    ) -> Result<(bool, Authorization), AppError> {
        p.require(Permission::RequestAuthorization)?;
        if validate_id("right_id", right_id).is_err() {
            return Err(AppError::not_found("right", right_id));
        }
        new.validate()?;
        let shop = match (p.role, new.shop_id.as_deref(), p.shop_id.as_deref()) {
            (Role::Seller, Some(asked), Some(own)) if asked != own => {
                return Err(AppError::Forbidden(format!(
                    "a seller asks for authorisation only for its own shop ({own:?}), not {asked:?}"
                )));
            }
            (Role::Seller, _, Some(own)) => own.to_string(),
            (Role::Seller, _, None) => {
                return Err(AppError::Forbidden("this seller key has no shop".into()));
            }
            (_, Some(asked), _) => asked.to_string(),
            (_, None, _) => {
                return Err(ValidationError::new(
                    "shop_id",
                    "is required: name the shop to authorise",
                )
                .into());
            }
        };
        if !p.acts_for_shop(&shop) {
            return Err(AppError::Forbidden(format!(
                "may not ask for authorisation for shop {shop:?}"
            )));
        }
        let right = self
            .store
            .right(right_id)?
            .ok_or_else(|| AppError::not_found("right", right_id))?
            .right;
        if right.authorizes(&shop) {
            return Err(AppError::Conflict(format!(
                "shop {shop:?} is already an authorised seller of right {right_id:?}"
            )));
        }
        if let Some(existing) = self.store.pending_authorization(right_id, &shop)? {
            return self.same_or_conflict(existing, right_id, &shop, &new);
        }
        let now = self.now();
        let Some(relationship) = new.relationship else {
            return Err(ValidationError::new("relationship", "is required").into());
        };
        let a = Authorization {
            id: format!("auth-{:016x}", rand::random::<u64>()),
            right_id: right.id.clone(),
            holder_id: right.holder_id.clone(),
            shop_id: shop.clone(),
            requested_by: p.id.clone(),
            relationship,
            message: new.message.clone(),
            document: new.document.clone(),
            state: AuthorizationState::Pending,
            decision: None,
            revocation: None,
            registry_version: None,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        a.validate()?;
        let row = self.webhook(
            "authorization_requested",
            &a,
            serde_json::json!({"relationship": a.relationship, "message": a.message}),
        )?;
        match self.store.insert_authorization(&a, &[row]) {
            Ok(()) => {
                tracing::info!(authorization = %a.id, right = %a.right_id, shop = %a.shop_id, "authorisation requested");
                Ok((true, a))
            }
            // Another request for the shop and right was stored first.
            Err(StoreError::Conflict(e)) => {
                match self.store.pending_authorization(right_id, &shop)? {
                    Some(existing) => self.same_or_conflict(existing, right_id, &shop, &new),
                    None => Err(AppError::Conflict(e)),
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    fn same_or_conflict(
        &self,
        existing: Authorization,
        right_id: &str,
        shop: &str,
        new: &NewAuthorization,
    ) -> Result<(bool, Authorization), AppError> {
        if existing.same_request(right_id, shop, new) {
            Ok((false, existing))
        } else {
            Err(AppError::Conflict(format!(
                "shop {shop:?} already has a pending request on right {right_id:?}: {}",
                existing.id
            )))
        }
    }

    /// The seller withdraws its pending request.
    pub fn withdraw(&self, p: &Principal, id: &str) -> Result<Authorization, AppError> {
        p.require(Permission::RequestAuthorization)?;
        let old = self.load(p, id)?;
        if !p.acts_for_shop(&old.shop_id) {
            return Err(AppError::not_found("authorization", id));
        }
        if old.state != AuthorizationState::Pending {
            return Err(AppError::Conflict(format!(
                "only a pending request can be withdrawn; {id:?} is {}",
                old.state.as_str()
            )));
        }
        let mut a = old;
        a.version += 1;
        a.updated_at = self.now();
        a.state = AuthorizationState::Withdrawn;
        a.decision = Some(AuthorizationDecision {
            by: p.id.clone(),
            at: a.updated_at,
            reason: String::new(),
        });
        let row = self.webhook("authorization_withdrawn", &a, serde_json::json!({}))?;
        Ok(self.store.update_authorization(&a, None, &[row])?)
    }

    // ------------------------------------------------------------- reads

    /// A request within the caller's scope (404 outside it).
    fn load(&self, p: &Principal, id: &str) -> Result<Authorization, AppError> {
        if validate_id("id", id).is_err() {
            return Err(AppError::not_found("authorization", id));
        }
        match self.store.authorization(id)? {
            Some(a) if p.sees_authorization(&a.holder_id, &a.shop_id) => Ok(a),
            _ => Err(AppError::not_found("authorization", id)),
        }
    }

    pub fn get(&self, p: &Principal, id: &str) -> Result<Authorization, AppError> {
        p.require(Permission::ReadAuthorizations)?;
        self.load(p, id)
    }

    /// The requests the caller sees, in id order: a seller its shop's, a
    /// rights holder those on its rights, reviewers and admins all.
    pub fn list(
        &self,
        p: &Principal,
        state: Option<AuthorizationState>,
        right_id: Option<String>,
        after: Option<String>,
        limit: usize,
    ) -> Result<Vec<Authorization>, AppError> {
        p.require(Permission::ReadAuthorizations)?;
        if let Some(a) = &after {
            validate_id("after", a)?;
        }
        if let Some(r) = &right_id {
            validate_id("right_id", r)?;
        }
        let mut f = AuthorizationFilter {
            state,
            right_id,
            after,
            limit: limit.clamp(1, 1_000),
            ..AuthorizationFilter::default()
        };
        if matches!(p.role, Role::Service | Role::Creator) {
            return Ok(Vec::new());
        }
        (f.holder_id, f.shop_id) = p.own_parties();
        Ok(self.store.authorizations(&f)?)
    }

    // --------------------------------------------------------- deciding

    /// The holder (or an admin) approves, refuses or revokes. Approving
    /// or revoking changes the right's authorised sellers and the
    /// registry version with the request, then rescreens the shop's
    /// affected listings. Two decisions on one request: one wins, the
    /// other is a conflict.
    pub fn decide(
        &self,
        p: &Principal,
        id: &str,
        input: DecisionInput,
    ) -> Result<Decided, AppError> {
        p.require(Permission::DecideAuthorization)?;
        let Some(outcome) = input.outcome else {
            return Err(
                ValidationError::new("outcome", "is required: approve, refuse or revoke").into(),
            );
        };
        validate_authorization_reason(
            "reason",
            &input.reason,
            outcome != AuthorizationOutcome::Approve,
        )?;
        let old = self.load(p, id)?;
        if !p.manages_holder(&old.holder_id) {
            return Err(AppError::not_found("authorization", id));
        }
        let wanted = match outcome {
            AuthorizationOutcome::Approve | AuthorizationOutcome::Refuse => {
                AuthorizationState::Pending
            }
            AuthorizationOutcome::Revoke => AuthorizationState::Approved,
        };
        if old.state != wanted {
            return Err(AppError::Conflict(format!(
                "authorisation {id:?} is {}; only a {} request can be {}",
                old.state.as_str(),
                wanted.as_str(),
                match outcome {
                    AuthorizationOutcome::Approve => "approved",
                    AuthorizationOutcome::Refuse => "refused",
                    AuthorizationOutcome::Revoke => "revoked",
                }
            )));
        }
        if outcome == AuthorizationOutcome::Approve {
            let right = self
                .store
                .right(&old.right_id)?
                .ok_or_else(|| {
                    AppError::Conflict(format!("right {:?} no longer exists", old.right_id))
                })?
                .right;
            if !right.authorizes(&old.shop_id)
                && right.authorized_sellers.len() >= MAX_AUTHORIZED_SELLERS
            {
                return Err(AppError::Conflict(format!(
                    "right {:?} has {MAX_AUTHORIZED_SELLERS} authorised sellers, the limit",
                    right.id
                )));
            }
        }
        let now = self.now();
        let mut a = old;
        a.version += 1;
        a.updated_at = now;
        let decision = AuthorizationDecision {
            by: p.id.clone(),
            at: now,
            reason: input.reason.clone(),
        };
        let (kind, sellers) = match outcome {
            AuthorizationOutcome::Approve => {
                a.state = AuthorizationState::Approved;
                a.decision = Some(decision);
                ("authorization_approved", Some(SellerChange::Add))
            }
            AuthorizationOutcome::Refuse => {
                a.state = AuthorizationState::Refused;
                a.decision = Some(decision);
                ("authorization_refused", None)
            }
            AuthorizationOutcome::Revoke => {
                a.state = AuthorizationState::Revoked;
                a.revocation = Some(decision);
                ("authorization_revoked", Some(SellerChange::Remove))
            }
        };
        let row = self.webhook(kind, &a, serde_json::json!({"reason": input.reason}))?;
        let stored = self.store.update_authorization(&a, sellers, &[row])?;
        tracing::info!(authorization = %stored.id, state = stored.state.as_str(), "authorisation decided");
        let mut out = Decided {
            authorization: stored,
            rescreen: SweepCounts::default(),
            decisions: Vec::new(),
        };
        if let (Some(change), Some(v)) = (sellers, out.authorization.registry_version) {
            let c = AuthorizationChange {
                registry_version: v,
                authorization_id: out.authorization.id.clone(),
                right_id: out.authorization.right_id.clone(),
                shop_id: out.authorization.shop_id.clone(),
                change,
            };
            let cause = crate::sweep::authorization_sweep_cause(&c);
            match self.sweeps.rescreen_shop(&cause) {
                Ok((counts, decisions)) => {
                    out.rescreen = counts;
                    out.decisions = decisions.into_iter().map(|d| d.decision_id).collect();
                }
                // Stored: the durable sweep does it.
                Err(e) => {
                    tracing::error!(authorization = %out.authorization.id, error = %e, "rescreen left to the sweep");
                    if let Err(e) = self.registry.refresh() {
                        tracing::error!(error = %e, "registry refresh failed");
                    }
                }
            }
        }
        Ok(out)
    }
}
