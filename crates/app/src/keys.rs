//! The access service: API keys and who they authenticate as.
//!
//! A key is 32 random bytes shown once and stored only as its SHA-256. Each
//! key belongs to a principal: the identity that enforcement records name
//! (the reviewer of a case, the decider of an appeal). Several keys may
//! share a principal, so a reviewer can rotate keys and stay one person;
//! two people never share one, whatever their labels say.

use std::sync::Arc;

use rand::RngCore;
use sha2::{Digest, Sha256};
use shopshield_model::{Permission, Principal, Role, ValidationError, validate_id};
use shopshield_store::{ApiKey, KeyStore, RegistryStore};

use crate::{AppError, Clock};

/// Prefix of every API key, so leaked keys are easy to recognise.
pub const KEY_PREFIX: &str = "ssk_";

/// A new API key: `ssk_` followed by 32 random bytes in hex. Show it once;
/// store only [`hash_key`] of it.
pub fn generate_key() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{KEY_PREFIX}{}", hex::encode(bytes))
}

/// SHA-256 of a key, hex: what the store keeps.
pub fn hash_key(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A fresh principal id: `p-` and 16 random hex digits.
fn new_principal_id() -> String {
    let mut bytes = [0u8; 8];
    rand::rng().fill_bytes(&mut bytes);
    format!("p-{}", hex::encode(bytes))
}

/// The principal a stored key authenticates as.
pub fn principal_of(k: ApiKey) -> Principal {
    Principal {
        id: k.principal_id,
        role: k.role,
        holder_id: k.holder_id,
        shop_id: k.shop_id,
        creator_id: k.creator_id,
        label: k.label,
    }
}

/// What a new key is for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewKey {
    pub role: Option<Role>,
    /// For `rights_holder` keys: the holder.
    pub holder: Option<String>,
    /// For `seller` keys: the shop.
    pub shop: Option<String>,
    /// For `creator` keys: the creator.
    pub creator: Option<String>,
    /// A display name; never used to decide anything.
    pub label: String,
    /// An existing principal to add the key to (key rotation), or a new
    /// principal id; a fresh one is made when absent.
    pub principal: Option<String>,
}

/// A key as listed: everything but the secret.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct KeyView {
    /// The first 12 hex digits of the key's SHA-256.
    pub key_sha256_prefix: String,
    pub principal: String,
    pub role: Role,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shop: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creator: Option<String>,
    pub label: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// The access service.
pub struct Keys {
    keys: Arc<dyn KeyStore>,
    registry: Arc<dyn RegistryStore>,
    clock: Arc<dyn Clock>,
}

impl Keys {
    pub(crate) fn new(
        keys: Arc<dyn KeyStore>,
        registry: Arc<dyn RegistryStore>,
        clock: Arc<dyn Clock>,
    ) -> Keys {
        Keys {
            keys,
            registry,
            clock,
        }
    }

    /// The principal a secret authenticates as, if any.
    pub fn authenticate(&self, secret: &str) -> Result<Option<Principal>, AppError> {
        if secret.is_empty() || secret.len() > 200 {
            return Ok(None);
        }
        Ok(self.keys.api_key(&hash_key(secret))?.map(principal_of))
    }

    /// Creates a key (admins; the CLI acts as the operator) and returns its
    /// secret, shown once, with its record.
    pub fn create(&self, p: &Principal, new: NewKey) -> Result<(String, ApiKey), AppError> {
        p.require(Permission::ManageKeys)?;
        let role = new
            .role
            .ok_or_else(|| ValidationError::new("role", "a key needs a role"))?;
        self.check_scope(role, &new)?;
        let principal_id = match &new.principal {
            Some(id) => {
                validate_id("principal", id)?;
                self.check_principal(id, role, &new)?;
                id.clone()
            }
            None => new_principal_id(),
        };
        if new.label.len() > 200 || new.label.chars().any(char::is_control) {
            return Err(ValidationError::new(
                "label",
                "a label is at most 200 bytes without control characters",
            )
            .into());
        }
        let secret = generate_key();
        let key = ApiKey {
            key_hash: hash_key(&secret),
            role,
            holder_id: new.holder,
            shop_id: new.shop,
            label: new.label,
            created_at: self.clock.now(),
            creator_id: new.creator,
            principal_id,
        };
        self.keys.insert_api_key(&key)?;
        Ok((secret, key))
    }

    /// Every key, without secrets (admins).
    pub fn list(&self, p: &Principal) -> Result<Vec<KeyView>, AppError> {
        p.require(Permission::ManageKeys)?;
        Ok(self
            .keys
            .api_keys()?
            .into_iter()
            .map(|k| KeyView {
                key_sha256_prefix: k.key_hash.chars().take(12).collect(),
                principal: k.principal_id,
                role: k.role,
                holder: k.holder_id,
                shop: k.shop_id,
                creator: k.creator_id,
                label: k.label,
                created_at: k.created_at,
            })
            .collect())
    }

    /// A key's scope must match its role.
    fn check_scope(&self, role: Role, new: &NewKey) -> Result<(), AppError> {
        let only = |field: &str, what: &str| -> AppError {
            ValidationError::new(field, format!("only {what} keys name a {field}")).into()
        };
        match role {
            Role::RightsHolder => {
                let Some(h) = &new.holder else {
                    return Err(ValidationError::new(
                        "holder",
                        "a rights_holder key needs --holder",
                    )
                    .into());
                };
                if self.registry.holder(h)?.is_none() {
                    return Err(
                        ValidationError::new("holder", format!("no holder with id {h:?}")).into(),
                    );
                }
            }
            Role::Seller => {
                let Some(s) = &new.shop else {
                    return Err(ValidationError::new("shop", "a seller key needs --shop").into());
                };
                validate_id("shop", s)?;
            }
            Role::Creator => {
                let Some(c) = &new.creator else {
                    return Err(
                        ValidationError::new("creator", "a creator key needs --creator").into(),
                    );
                };
                validate_id("creator", c)?;
            }
            Role::Admin | Role::Reviewer | Role::Service => {}
        }
        if new.holder.is_some() && role != Role::RightsHolder {
            return Err(only("holder", "rights_holder"));
        }
        if new.shop.is_some() && role != Role::Seller {
            return Err(only("shop", "seller"));
        }
        if new.creator.is_some() && role != Role::Creator {
            return Err(only("creator", "creator"));
        }
        Ok(())
    }

    /// A key added to an existing principal must have the same role and
    /// scope as its other keys.
    fn check_principal(&self, id: &str, role: Role, new: &NewKey) -> Result<(), AppError> {
        let same = self
            .keys
            .api_keys()?
            .into_iter()
            .find(|k| k.principal_id == id);
        match same {
            Some(k)
                if k.role != role
                    || k.holder_id != new.holder
                    || k.shop_id != new.shop
                    || k.creator_id != new.creator =>
            {
                Err(ValidationError::new(
                    "principal",
                    format!(
                        "principal {id:?} holds {} keys with another scope; a principal has one role and scope",
                        k.role
                    ),
                )
                .into())
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_random_and_hashed() {
        let a = generate_key();
        let b = generate_key();
        assert_ne!(a, b);
        assert_eq!(a.len(), KEY_PREFIX.len() + 64);
        assert_eq!(hash_key(&a).len(), 64);
        assert_ne!(hash_key(&a), hash_key(&b));
        assert_ne!(new_principal_id(), new_principal_id());
        assert!(validate_id("p", &new_principal_id()).is_ok());
    }
}
