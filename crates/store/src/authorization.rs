//! Brand authorisation requests, and the log of the authorised-seller
//! changes they made to rights.

use serde::{Deserialize, Serialize};
use shopshield_model::{Authorization, AuthorizationState, Right};

use crate::{OutboxRow, Result};

/// Which authorisation requests to list.
#[derive(Debug, Clone, Default)]
pub struct AuthorizationFilter {
    /// Only requests on this holder's rights.
    pub holder_id: Option<String>,
    /// Only this shop's requests.
    pub shop_id: Option<String>,
    /// Only requests on this right.
    pub right_id: Option<String>,
    pub state: Option<AuthorizationState>,
    /// Requests after this id, in id order.
    pub after: Option<String>,
    pub limit: usize,
}

/// What a change of a request does to its right's authorised sellers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SellerChange {
    /// The shop is added (an approval).
    Add,
    /// The shop is removed (a revocation).
    Remove,
}

impl SellerChange {
    pub fn as_str(self) -> &'static str {
        match self {
            SellerChange::Add => "approved",
            SellerChange::Remove => "revoked",
        }
    }

    /// Adds the shop to (or removes it from) the right's authorised
    /// sellers; false when it already was (or was not) one.
    pub fn apply(self, right: &mut Right, shop_id: &str) -> bool {
        let has = right.authorizes(shop_id);
        match self {
            SellerChange::Add if !has => {
                right.authorized_sellers.push(shop_id.to_string());
                true
            }
            SellerChange::Remove if has => {
                right.authorized_sellers.retain(|s| s != shop_id);
                true
            }
            _ => false,
        }
    }

    pub fn parse(s: &str) -> Option<SellerChange> {
        match s {
            "approved" => Some(SellerChange::Add),
            "revoked" => Some(SellerChange::Remove),
            _ => None,
        }
    }
}

/// One change of a right's authorised sellers made by a request: a
/// registry change of its own, so sweeps scope it to the shop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationChange {
    /// The registry version the change made.
    pub registry_version: u64,
    pub authorization_id: String,
    pub right_id: String,
    pub shop_id: String,
    pub change: SellerChange,
}

/// Authorisation requests.
pub trait AuthorizationStore: Send + Sync {
    /// Stores a new request (version 1) with its webhook rows, in one
    /// transaction. `Conflict`, writing nothing, when the id is taken or
    /// the shop already has a pending request on the right.
    fn insert_authorization(&self, a: &Authorization, outbox: &[OutboxRow]) -> Result<()>;
    fn authorization(&self, id: &str) -> Result<Option<Authorization>>;
    /// The shop's pending request on the right, if any.
    fn pending_authorization(&self, right_id: &str, shop_id: &str)
    -> Result<Option<Authorization>>;
    /// Requests in id order.
    fn authorizations(&self, filter: &AuthorizationFilter) -> Result<Vec<Authorization>>;
    /// Replaces a request with `a` (whose `version` must be one more than
    /// the stored one) and writes its webhook rows, in one transaction.
    /// With `sellers`, the same transaction adds the shop to (or removes
    /// it from) the right's authorised sellers, bumps the registry version
    /// (the right's change carries it, so every process's engine picks it
    /// up), logs the [`AuthorizationChange`] and stores that version in
    /// the request's `registry_version`. Returns the request as stored.
    /// `Conflict`, writing nothing, when the stored version is not
    /// `a.version - 1` or the right no longer exists.
    fn update_authorization(
        &self,
        a: &Authorization,
        sellers: Option<SellerChange>,
        outbox: &[OutboxRow],
    ) -> Result<Authorization>;
    /// Changes of authorised sellers made after registry version `after`,
    /// in version order.
    fn authorization_changes_since(&self, after: u64) -> Result<Vec<AuthorizationChange>>;
}
