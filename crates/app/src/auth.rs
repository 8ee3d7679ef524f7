use rand::RngCore;
use sha2::{Digest, Sha256};
use shopshield_model::Role;
use shopshield_store::ApiKey;

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

/// An authenticated caller and the scope it acts in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub role: Role,
    /// For `rights_holder`: the one holder it acts for.
    pub holder_id: Option<String>,
    /// For `seller`: the one shop it acts for.
    pub shop_id: Option<String>,
    /// For `creator`: the one creator it acts for.
    pub creator_id: Option<String>,
    pub label: String,
    /// Who the caller is in enforcement records (the reviewer of a case or
    /// an appeal): the key's label when it is a valid id, otherwise
    /// `key-` and the first 12 hex digits of the key's hash.
    pub id: String,
}

impl From<ApiKey> for Principal {
    fn from(k: ApiKey) -> Self {
        let id = if !k.label.is_empty() && shopshield_model::validate_id("label", &k.label).is_ok()
        {
            k.label.clone()
        } else {
            format!("key-{}", k.key_hash.get(..12).unwrap_or(&k.key_hash))
        };
        Principal {
            role: k.role,
            holder_id: k.holder_id,
            shop_id: k.shop_id,
            creator_id: k.creator_id,
            label: k.label,
            id,
        }
    }
}

impl Principal {
    /// The operator at the command line: full access.
    pub fn admin(label: &str) -> Principal {
        Principal {
            role: Role::Admin,
            holder_id: None,
            shop_id: None,
            creator_id: None,
            label: label.to_string(),
            id: label.to_string(),
        }
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// May see a shop's listings and decisions.
    pub fn sees_shop(&self, shop_id: &str) -> bool {
        match self.role {
            Role::Admin | Role::Reviewer | Role::Service => true,
            Role::Seller => self.shop_id.as_deref() == Some(shop_id),
            Role::RightsHolder | Role::Creator => false,
        }
    }

    /// May submit listings for a shop.
    pub fn submits_for(&self, shop_id: &str) -> bool {
        match self.role {
            Role::Admin | Role::Service => true,
            Role::Seller => self.shop_id.as_deref() == Some(shop_id),
            Role::Reviewer | Role::RightsHolder | Role::Creator => false,
        }
    }

    /// May read a holder and its rights.
    pub fn sees_holder(&self, holder_id: &str) -> bool {
        match self.role {
            Role::Admin | Role::Reviewer => true,
            Role::RightsHolder => self.holder_id.as_deref() == Some(holder_id),
            Role::Seller | Role::Service | Role::Creator => false,
        }
    }

    /// May see a creator's enforcement record.
    pub fn sees_creator(&self, creator_id: &str) -> bool {
        match self.role {
            Role::Admin | Role::Reviewer => true,
            Role::Creator => self.creator_id.as_deref() == Some(creator_id),
            Role::Seller | Role::Service | Role::RightsHolder => false,
        }
    }

    /// May create, disable and enable a holder's rights.
    pub fn manages_holder(&self, holder_id: &str) -> bool {
        match self.role {
            Role::Admin => true,
            Role::RightsHolder => self.holder_id.as_deref() == Some(holder_id),
            _ => false,
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
    }

    #[test]
    fn scopes() {
        let seller = Principal {
            role: Role::Seller,
            holder_id: None,
            shop_id: Some("s1".into()),
            creator_id: None,
            label: String::new(),
            id: "seller".into(),
        };
        assert!(seller.sees_shop("s1") && !seller.sees_shop("s2"));
        assert!(seller.submits_for("s1") && !seller.submits_for("s2"));
        assert!(!seller.sees_holder("h"));
        let holder = Principal {
            role: Role::RightsHolder,
            holder_id: Some("h1".into()),
            shop_id: None,
            creator_id: None,
            label: String::new(),
            id: "holder".into(),
        };
        assert!(holder.manages_holder("h1") && !holder.manages_holder("h2"));
        assert!(!holder.sees_shop("s1"));
        let reviewer = Principal {
            role: Role::Reviewer,
            ..holder.clone()
        };
        assert!(
            reviewer.sees_shop("s1")
                && !reviewer.submits_for("s1")
                && !reviewer.manages_holder("h1")
        );
        assert!(reviewer.sees_creator("c1") && !seller.sees_creator("c1"));
        let creator = Principal {
            role: Role::Creator,
            holder_id: None,
            shop_id: None,
            creator_id: Some("c1".into()),
            label: String::new(),
            id: "c".into(),
        };
        assert!(creator.sees_creator("c1") && !creator.sees_creator("c2"));
        assert!(!creator.sees_shop("s1") && !creator.submits_for("s1"));
        assert!(!creator.sees_holder("h1") && !creator.manages_holder("h1"));
    }

    #[test]
    fn principal_ids_come_from_labels_or_key_hashes() {
        let key = |label: &str| ApiKey {
            key_hash: "ab".repeat(32),
            role: Role::Reviewer,
            holder_id: None,
            shop_id: None,
            creator_id: None,
            label: label.into(),
            created_at: chrono::Utc::now(),
        };
        assert_eq!(Principal::from(key("alice")).id, "alice");
        assert_eq!(Principal::from(key("")).id, "key-abababababab");
        assert_eq!(Principal::from(key("two words")).id, "key-abababababab");
    }
}
