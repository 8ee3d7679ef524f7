use serde::{Deserialize, Serialize};

/// Who is calling, as carried by an API key.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Sees and changes everything.
    Admin,
    /// Manages the rights of one holder.
    RightsHolder,
    /// Submits and sees the listings of one shop.
    Seller,
    /// Reads listings, decisions and rights; works review queues.
    Reviewer,
    /// Platform ingest: submits listings for any shop, reads decisions.
    Service,
    /// A creator (video, livestream, affiliate seller): sees its own
    /// enforcement record and appeals its violations.
    Creator,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Admin,
        Role::RightsHolder,
        Role::Seller,
        Role::Reviewer,
        Role::Service,
        Role::Creator,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::RightsHolder => "rights_holder",
            Role::Seller => "seller",
            Role::Reviewer => "reviewer",
            Role::Service => "service",
            Role::Creator => "creator",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_round_trips_by_name() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
            let json = serde_json::to_string(&r).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", r.as_str()));
        }
        assert_eq!(Role::parse("creator"), Some(Role::Creator));
        assert_eq!(Role::parse("Creator"), None);
    }
}
