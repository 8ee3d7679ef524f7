//! Who may run which command and see whose record, on the one
//! [`Principal`] and permission table of `shopshield-model`.
//!
//! The services authenticate the caller into a [`Principal`] and call
//! [`authorize`] before [`crate::Enforcer::execute`]. Commands name the
//! identity they act for (the reviewer, the appellant); a caller may only
//! act for itself, and its role must hold the command's permission.

use shopshield_model::{Permission, Principal, Role};

use crate::enforcer::Command;
use crate::event::{Actor, Party};

/// The caller may not do this.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("forbidden: {0}")]
pub struct Forbidden(pub String);

/// The permission a command needs.
pub fn permission_for(command: &Command) -> Permission {
    match command {
        Command::Ingest { .. } | Command::Tick | Command::CloseCase { .. } => {
            Permission::RunEnforcement
        }
        Command::ClaimCase { .. } | Command::ReleaseCase { .. } | Command::DecideCase { .. } => {
            Permission::WorkCases
        }
        Command::DecideAppeal { .. } => Permission::DecideAppeals,
        Command::FileAppeal { .. } => Permission::FileAppeals,
    }
}

/// The actor recorded on the events of a caller's commands.
pub fn actor_of(p: &Principal) -> Actor {
    match p.role {
        Role::Admin => Actor::Admin { id: p.id.clone() },
        Role::Reviewer => Actor::Reviewer { id: p.id.clone() },
        Role::Seller => Actor::Shop {
            id: p.shop_id.clone().unwrap_or_default(),
        },
        Role::Creator => Actor::Creator {
            id: p.creator_id.clone().unwrap_or_default(),
        },
        Role::Service | Role::RightsHolder => Actor::Service,
    }
}

/// The party a caller acts as when it appeals: its shop or its creator.
pub fn party_of(p: &Principal) -> Option<Party> {
    match p.role {
        Role::Seller => p.shop_id.clone().map(Party::Shop),
        Role::Creator => p.creator_id.clone().map(Party::Creator),
        _ => None,
    }
}

/// May this caller see `party`'s points, violations, evidence, penalties
/// and appeal deadlines?
pub fn can_view(p: &Principal, party: &Party) -> bool {
    p.can(Permission::ReadEnforcementRecords)
        && match party {
            Party::Shop(id) => p.sees_shop_record(id),
            Party::Creator(id) => p.sees_creator(id),
        }
}

/// Checks that `principal` may run `command`: its role holds the
/// command's permission, and it acts only for itself.
pub fn authorize(principal: &Principal, command: &Command) -> Result<(), Forbidden> {
    let permission = permission_for(command);
    if let Err(denied) = principal.require(permission) {
        return Err(Forbidden(denied.to_string()));
    }
    let for_itself = match command {
        Command::Ingest { .. } | Command::Tick | Command::CloseCase { .. } => true,
        Command::ClaimCase { reviewer, .. }
        | Command::ReleaseCase { reviewer, .. }
        | Command::DecideCase { reviewer, .. }
        | Command::DecideAppeal { reviewer, .. } => *reviewer == principal.id,
        Command::FileAppeal { appellant, .. } => party_of(principal).as_ref() == Some(appellant),
    };
    if for_itself {
        Ok(())
    } else {
        Err(Forbidden(format!(
            "{} {} may act only for itself",
            principal.role, principal.id
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role, id: &str) -> Principal {
        Principal {
            id: id.into(),
            role,
            holder_id: None,
            shop_id: (role == Role::Seller).then(|| "s1".to_string()),
            creator_id: (role == Role::Creator).then(|| "c1".to_string()),
            label: String::new(),
        }
    }

    #[test]
    fn callers_act_only_for_themselves() {
        let seller = principal(Role::Seller, "seller-key");
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
        assert!(authorize(&principal(Role::Reviewer, "r1"), &claim).is_ok());
        assert!(authorize(&principal(Role::Reviewer, "r2"), &claim).is_err());
        assert!(authorize(&principal(Role::Admin, "r1"), &claim).is_ok());
        assert!(authorize(&seller, &claim).is_err());
        // A service key named like the reviewer still may not work cases.
        assert!(authorize(&principal(Role::Service, "r1"), &claim).is_err());
        assert!(authorize(&principal(Role::Service, "svc"), &Command::Tick).is_ok());
        assert!(can_view(&seller, &Party::Shop("s1".into())));
        assert!(!can_view(&seller, &Party::Shop("s2".into())));
        assert!(!can_view(&seller, &Party::Creator("s1".into())));
        let creator = principal(Role::Creator, "c");
        assert!(can_view(&creator, &Party::Creator("c1".into())));
        assert!(authorize(&creator, &appeal(Party::Creator("c1".into()))).is_ok());
        assert!(!can_view(
            &principal(Role::Service, "svc"),
            &Party::Shop("s1".into())
        ));
    }
}
