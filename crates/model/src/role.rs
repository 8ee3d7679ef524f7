use serde::{Deserialize, Serialize};

/// Who is calling, as carried by an API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
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
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::RightsHolder,
        Role::Seller,
        Role::Reviewer,
        Role::Service,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::RightsHolder => "rights_holder",
            Role::Seller => "seller",
            Role::Reviewer => "reviewer",
            Role::Service => "service",
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
