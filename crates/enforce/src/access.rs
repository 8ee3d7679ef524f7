//! Who may run which command and see whose record.
//!
//! The API layer authenticates the caller, builds a [`Principal`], and calls
//! [`authorize`] before [`crate::Enforcer::execute`]. Commands name the
//! identity they act for (the reviewer, the appellant); a caller may only act
//! for itself.

use serde::{Deserialize, Serialize};

use crate::enforcer::Command;
use crate::event::{Actor, Party};

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Principal {
    /// Sees everything; may also review under its own id.
    Admin { id: String },
    /// Works the queues and decides appeals.
    Reviewer { id: String },
    /// A seller: sees its own shop's record and appeals its violations.
    Seller { shop_id: String },
    /// A creator: sees its own record and appeals its violations.
    Creator { creator_id: String },
    /// Platform ingest and the scheduler: feeds decisions, runs ticks.
    Service,
}

/// The caller may not do this.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("forbidden: {0}")]
pub struct Forbidden(pub String);

impl Principal {
    /// The actor recorded on the events of this caller's commands.
    pub fn actor(&self) -> Actor {
        match self {
            Principal::Admin { id } => Actor::Admin { id: id.clone() },
            Principal::Reviewer { id } => Actor::Reviewer { id: id.clone() },
            Principal::Seller { shop_id } => Actor::Shop {
                id: shop_id.clone(),
            },
            Principal::Creator { creator_id } => Actor::Creator {
                id: creator_id.clone(),
            },
            Principal::Service => Actor::Service,
        }
    }

    fn reviews_as(&self, reviewer: &str) -> bool {
        matches!(self, Principal::Reviewer { id } | Principal::Admin { id } if id == reviewer)
    }

    /// May this caller see `party`'s points, violations, evidence,
    /// penalties and appeal deadlines?
    pub fn can_view(&self, party: &Party) -> bool {
        match (self, party) {
            (Principal::Admin { .. } | Principal::Reviewer { .. }, _) => true,
            (Principal::Seller { shop_id }, Party::Shop(id)) => shop_id == id,
            (Principal::Creator { creator_id }, Party::Creator(id)) => creator_id == id,
            _ => false,
        }
    }

    /// May this caller see the review queues?
    pub fn can_view_queues(&self) -> bool {
        matches!(self, Principal::Admin { .. } | Principal::Reviewer { .. })
    }
}

/// Checks that `principal` may run `command`.
pub fn authorize(principal: &Principal, command: &Command) -> Result<(), Forbidden> {
    let ok = match command {
        Command::Ingest { .. } | Command::Tick => {
            matches!(principal, Principal::Service | Principal::Admin { .. })
        }
        Command::ClaimCase { reviewer, .. }
        | Command::ReleaseCase { reviewer, .. }
        | Command::DecideCase { reviewer, .. }
        | Command::DecideAppeal { reviewer, .. } => principal.reviews_as(reviewer),
        Command::FileAppeal { appellant, .. } => match (principal, appellant) {
            (Principal::Seller { shop_id }, Party::Shop(id)) => shop_id == id,
            (Principal::Creator { creator_id }, Party::Creator(id)) => creator_id == id,
            _ => false,
        },
    };
    if ok {
        Ok(())
    } else {
        Err(Forbidden(format!(
            "{principal:?} may not run this command for the identity it names"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callers_act_only_for_themselves() {
        let seller = Principal::Seller {
            shop_id: "s1".into(),
        };
        let appeal = |p: Party| Command::FileAppeal {
            violation_id: "v".into(),
            appellant: p,
            statement: "x".into(),
        };
        assert!(authorize(&seller, &appeal(Party::Shop("s1".into()))).is_ok());
        assert!(authorize(&seller, &appeal(Party::Shop("s2".into()))).is_err());
        assert!(authorize(&seller, &Command::Tick).is_err());
        let claim = Command::ClaimCase {
            case_id: "c".into(),
            reviewer: "r1".into(),
        };
        assert!(authorize(&Principal::Reviewer { id: "r1".into() }, &claim).is_ok());
        assert!(authorize(&Principal::Reviewer { id: "r2".into() }, &claim).is_err());
        assert!(authorize(&seller, &claim).is_err());
        assert!(seller.can_view(&Party::Shop("s1".into())));
        assert!(!seller.can_view(&Party::Shop("s2".into())));
        assert!(!seller.can_view(&Party::Creator("s1".into())));
        assert!(!seller.can_view_queues());
    }
}
