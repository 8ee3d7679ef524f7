//! Who may do what: the one permission table every service consults, and
//! the [`Principal`] every door (HTTP, CLI, workers) authenticates callers
//! into.
//!
//! A permission answers "may this *role* do this kind of thing at all".
//! Scope is the second question: a seller may read listings, but only its
//! own shop's; a rights holder may register rights, but only its own
//! holder's. Both live here, so the HTTP API, the CLI and the workers
//! cannot disagree.

use serde::{Deserialize, Serialize};

use crate::Role;

/// Something a caller may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Create rights holders.
    CreateHolders,
    /// Read holders and their rights (scoped: a rights holder reads its own).
    ReadRights,
    /// Register, disable and enable rights (scoped to the holder).
    ManageRights,
    /// Import many rights at once, creating holders by name.
    ImportRights,
    /// Submit content for screening (scoped: a seller submits for its shop).
    SubmitContent,
    /// Read listings, their versions, decisions and status (scoped to shops).
    ReadListings,
    /// Read decisions in storage order (scoped: a rights holder reads the
    /// latest decisions that name its rights).
    ListDecisions,
    /// Create and list API keys.
    ManageKeys,
    /// Hash an uploaded image (PDQ and its dihedral variants).
    HashImages,
    /// Match hashes and images against the registered image banks.
    MatchImages,
    /// Put re-read policy packs in force.
    ReloadPolicy,
    /// Read which policy packs are in force.
    ReadPolicy,
    /// Record a shop's licences and registrations.
    RecordQualifications,
    /// Read a shop's qualifications (scoped to shops).
    ReadQualifications,
    /// See review queues and cases; claim, release and decide cases.
    WorkCases,
    /// Decide appeals (never one's own original decision).
    DecideAppeals,
    /// File an appeal of a violation recorded against oneself.
    FileAppeals,
    /// Read a shop's or creator's enforcement record (scoped).
    ReadEnforcementRecords,
    /// Read the enforcement log and the webhook outbox.
    ReadAuditLog,
    /// Hand decisions to enforcement and run its clock (ticks).
    RunEnforcement,
    /// Read transparency reports and export DSA statements of reasons.
    ReadReports,
    /// Run sweeps of live listings now.
    RunSweeps,
    /// Read sweeps and their progress.
    ReadSweeps,
    /// Search the live catalogue for a right's marks (scoped: a rights
    /// holder searches for its own rights).
    SearchCatalogue,
    /// File rights holders' notices (scoped: a rights holder files for its
    /// own holder's rights) and record court actions on them.
    FileNotices,
    /// Read notices and their items (scoped: a rights holder its own, a
    /// seller the items on its shop's listings).
    ReadNotices,
    /// Work the notice queue: accept or reject notice items.
    ReviewNotices,
    /// File a counter-notice to an item taken down from one's own shop.
    FileCounterNotices,
    /// Ask a rights holder for authorisation on a right (scoped: a seller
    /// asks for its own shop) and withdraw a pending request.
    RequestAuthorization,
    /// Approve, refuse or revoke authorisation requests (scoped: a rights
    /// holder decides on its own holder's rights).
    DecideAuthorization,
    /// Read authorisation requests (scoped: a seller its shop's, a rights
    /// holder those on its rights).
    ReadAuthorizations,
    /// Approve or refuse a right held for review (another holder's right
    /// carries the same mark in overlapping classes and regions).
    ReviewRights,
}

impl Permission {
    /// Every permission, in table order.
    pub const ALL: [Permission; 32] = [
        Permission::CreateHolders,
        Permission::ReadRights,
        Permission::ManageRights,
        Permission::ImportRights,
        Permission::SubmitContent,
        Permission::ReadListings,
        Permission::ListDecisions,
        Permission::ManageKeys,
        Permission::HashImages,
        Permission::MatchImages,
        Permission::ReloadPolicy,
        Permission::ReadPolicy,
        Permission::RecordQualifications,
        Permission::ReadQualifications,
        Permission::WorkCases,
        Permission::DecideAppeals,
        Permission::FileAppeals,
        Permission::ReadEnforcementRecords,
        Permission::ReadAuditLog,
        Permission::RunEnforcement,
        Permission::ReadReports,
        Permission::RunSweeps,
        Permission::ReadSweeps,
        Permission::SearchCatalogue,
        Permission::FileNotices,
        Permission::ReadNotices,
        Permission::ReviewNotices,
        Permission::FileCounterNotices,
        Permission::RequestAuthorization,
        Permission::DecideAuthorization,
        Permission::ReadAuthorizations,
        Permission::ReviewRights,
    ];

    /// The permission table: the roles that hold this permission.
    pub const fn roles(self) -> &'static [Role] {
        use Role::*;
        match self {
            Permission::CreateHolders => &[Admin],
            Permission::ReadRights => &[Admin, Reviewer, RightsHolder],
            Permission::ManageRights => &[Admin, RightsHolder],
            Permission::ImportRights => &[Admin],
            Permission::SubmitContent => &[Admin, Service, Seller],
            Permission::ReadListings => &[Admin, Reviewer, Service, Seller],
            Permission::ListDecisions => &[Admin, Reviewer, Service, RightsHolder],
            Permission::ManageKeys => &[Admin],
            Permission::HashImages => &[Admin, Reviewer, Service],
            Permission::MatchImages => &[Admin, Reviewer, Service],
            Permission::ReloadPolicy => &[Admin],
            Permission::ReadPolicy => &[Admin, Reviewer, Service, Seller, RightsHolder, Creator],
            Permission::RecordQualifications => &[Admin, Service],
            Permission::ReadQualifications => &[Admin, Reviewer, Service, Seller],
            Permission::WorkCases => &[Admin, Reviewer],
            Permission::DecideAppeals => &[Admin, Reviewer],
            Permission::FileAppeals => &[Seller, Creator],
            Permission::ReadEnforcementRecords => &[Admin, Reviewer, Seller, Creator],
            Permission::ReadAuditLog => &[Admin],
            Permission::RunEnforcement => &[Admin, Service],
            Permission::ReadReports => &[Admin],
            Permission::RunSweeps => &[Admin, Service],
            Permission::ReadSweeps => &[Admin, Reviewer, Service],
            Permission::SearchCatalogue => &[Admin, Reviewer, RightsHolder],
            Permission::FileNotices => &[Admin, RightsHolder],
            Permission::ReadNotices => &[Admin, Reviewer, Seller, Creator, RightsHolder],
            Permission::ReviewNotices => &[Admin, Reviewer],
            Permission::FileCounterNotices => &[Seller, Creator],
            Permission::RequestAuthorization => &[Admin, Seller],
            Permission::DecideAuthorization => &[Admin, RightsHolder],
            Permission::ReadAuthorizations => &[Admin, Reviewer, Seller, RightsHolder],
            Permission::ReviewRights => &[Admin],
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::CreateHolders => "create_holders",
            Permission::ReadRights => "read_rights",
            Permission::ManageRights => "manage_rights",
            Permission::ImportRights => "import_rights",
            Permission::SubmitContent => "submit_content",
            Permission::ReadListings => "read_listings",
            Permission::ListDecisions => "list_decisions",
            Permission::ManageKeys => "manage_keys",
            Permission::HashImages => "hash_images",
            Permission::MatchImages => "match_images",
            Permission::ReloadPolicy => "reload_policy",
            Permission::ReadPolicy => "read_policy",
            Permission::RecordQualifications => "record_qualifications",
            Permission::ReadQualifications => "read_qualifications",
            Permission::WorkCases => "work_cases",
            Permission::DecideAppeals => "decide_appeals",
            Permission::FileAppeals => "file_appeals",
            Permission::ReadEnforcementRecords => "read_enforcement_records",
            Permission::ReadAuditLog => "read_audit_log",
            Permission::RunEnforcement => "run_enforcement",
            Permission::ReadReports => "read_reports",
            Permission::RunSweeps => "run_sweeps",
            Permission::ReadSweeps => "read_sweeps",
            Permission::SearchCatalogue => "search_catalogue",
            Permission::FileNotices => "file_notices",
            Permission::ReadNotices => "read_notices",
            Permission::ReviewNotices => "review_notices",
            Permission::FileCounterNotices => "file_counter_notices",
            Permission::RequestAuthorization => "request_authorization",
            Permission::DecideAuthorization => "decide_authorization",
            Permission::ReadAuthorizations => "read_authorizations",
            Permission::ReviewRights => "review_rights",
        }
    }

    /// Does `role` hold this permission?
    pub fn allows(self, role: Role) -> bool {
        self.roles().contains(&role)
    }
}

impl std::fmt::Display for Permission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The caller lacks a permission.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{role} keys may not {what}", what = describe(*permission))]
pub struct Denied {
    pub role: Role,
    pub permission: Permission,
}

fn describe(p: Permission) -> &'static str {
    match p {
        Permission::CreateHolders => "create rights holders",
        Permission::ReadRights => "read rights",
        Permission::ManageRights => "register or change rights",
        Permission::ImportRights => "import rights",
        Permission::SubmitContent => "submit content for screening",
        Permission::ReadListings => "read listings",
        Permission::ListDecisions => "list decisions",
        Permission::ManageKeys => "manage API keys",
        Permission::HashImages => "hash images",
        Permission::MatchImages => "query the image banks",
        Permission::ReloadPolicy => "reload policy packs",
        Permission::ReadPolicy => "read policy packs",
        Permission::RecordQualifications => "record qualifications",
        Permission::ReadQualifications => "read qualifications",
        Permission::WorkCases => "work review cases",
        Permission::DecideAppeals => "decide appeals",
        Permission::FileAppeals => "file appeals",
        Permission::ReadEnforcementRecords => "read enforcement records",
        Permission::ReadAuditLog => "read the enforcement log or the outbox",
        Permission::RunEnforcement => "run enforcement",
        Permission::ReadReports => "read transparency reports",
        Permission::RunSweeps => "run sweeps",
        Permission::ReadSweeps => "read sweeps",
        Permission::SearchCatalogue => "search the catalogue for a right's marks",
        Permission::FileNotices => "file notices",
        Permission::ReadNotices => "read notices",
        Permission::ReviewNotices => "review notices",
        Permission::FileCounterNotices => "file counter-notices",
        Permission::RequestAuthorization => "request brand authorisation",
        Permission::DecideAuthorization => "decide brand authorisation requests",
        Permission::ReadAuthorizations => "read brand authorisation requests",
        Permission::ReviewRights => "approve or refuse rights held for review",
    }
}

/// An authenticated caller and the scope it acts in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// The caller's unique identity: who it is in enforcement records (the
    /// reviewer of a case, the decider of an appeal). Several keys may
    /// belong to one principal (key rotation); two principals never share
    /// an id.
    pub id: String,
    pub role: Role,
    /// For `rights_holder`: the one holder it acts for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder_id: Option<String>,
    /// For `seller`: the one shop it acts for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shop_id: Option<String>,
    /// For `creator`: the one creator it acts for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator_id: Option<String>,
    /// A display name; never used to decide anything.
    #[serde(default)]
    pub label: String,
}

impl Principal {
    /// The operator at the command line, or a process's own scheduler:
    /// full access under the given id.
    pub fn operator(id: &str) -> Principal {
        Principal {
            id: id.to_string(),
            role: Role::Admin,
            holder_id: None,
            shop_id: None,
            creator_id: None,
            label: id.to_string(),
        }
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Does the caller's role hold `permission`?
    pub fn can(&self, permission: Permission) -> bool {
        permission.allows(self.role)
    }

    /// Like [`Principal::can`], as an error naming what is missing.
    pub fn require(&self, permission: Permission) -> Result<(), Denied> {
        if self.can(permission) {
            Ok(())
        } else {
            Err(Denied {
                role: self.role,
                permission,
            })
        }
    }

    /// The one holder and the one shop a listing of records shared between
    /// holders and sellers (notices, authorisation requests) is limited to:
    /// a rights holder sees its own holder's, a seller its own shop's
    /// (an unbound key matches nothing), other roles are not limited here.
    pub fn own_parties(&self) -> (Option<String>, Option<String>) {
        match self.role {
            Role::RightsHolder => (Some(self.holder_id.clone().unwrap_or_default()), None),
            Role::Seller => (None, Some(self.shop_id.clone().unwrap_or_default())),
            Role::Admin | Role::Reviewer | Role::Service | Role::Creator => (None, None),
        }
    }

    /// May see a shop's listings, decisions and qualifications.
    pub fn sees_shop(&self, shop_id: &str) -> bool {
        match self.role {
            Role::Admin | Role::Reviewer | Role::Service => true,
            Role::Seller => self.shop_id.as_deref() == Some(shop_id),
            Role::RightsHolder | Role::Creator => false,
        }
    }

    /// May submit content for a shop.
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

    /// May create, disable and enable a holder's rights.
    pub fn manages_holder(&self, holder_id: &str) -> bool {
        match self.role {
            Role::Admin => true,
            Role::RightsHolder => self.holder_id.as_deref() == Some(holder_id),
            _ => false,
        }
    }

    /// May see a shop's enforcement record.
    pub fn sees_shop_record(&self, shop_id: &str) -> bool {
        match self.role {
            Role::Admin | Role::Reviewer => true,
            Role::Seller => self.shop_id.as_deref() == Some(shop_id),
            _ => false,
        }
    }

    /// May ask for authorisation for a shop (and see its requests).
    pub fn acts_for_shop(&self, shop_id: &str) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Seller => self.shop_id.as_deref() == Some(shop_id),
            _ => false,
        }
    }

    /// May see an authorisation request between this shop and holder.
    pub fn sees_authorization(&self, holder_id: &str, shop_id: &str) -> bool {
        match self.role {
            Role::Admin | Role::Reviewer => true,
            Role::Seller => self.shop_id.as_deref() == Some(shop_id),
            Role::RightsHolder => self.holder_id.as_deref() == Some(holder_id),
            Role::Service | Role::Creator => false,
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role) -> Principal {
        Principal {
            id: "p".into(),
            role,
            holder_id: Some("h1".into()),
            shop_id: Some("s1".into()),
            creator_id: Some("c1".into()),
            label: String::new(),
        }
    }

    #[test]
    fn the_table_names_every_permission_once() {
        let mut seen = std::collections::HashSet::new();
        for p in Permission::ALL {
            assert!(seen.insert(p.as_str()), "{p} twice");
            assert!(!p.roles().is_empty(), "{p} has no role");
        }
        // Admins hold everything but filing appeals and counter-notices,
        // which only the party a decision is against does.
        for p in Permission::ALL {
            assert_eq!(
                p.allows(Role::Admin),
                !matches!(p, Permission::FileAppeals | Permission::FileCounterNotices),
                "{p}"
            );
        }
    }

    #[test]
    fn only_admins_review_held_rights() {
        for role in Role::ALL {
            assert_eq!(
                principal(role).can(Permission::ReviewRights),
                role == Role::Admin,
                "{role:?}"
            );
        }
    }

    #[test]
    fn sellers_and_creators_hold_little() {
        let seller = principal(Role::Seller);
        assert!(seller.can(Permission::SubmitContent));
        assert!(!seller.can(Permission::MatchImages));
        assert!(!seller.can(Permission::HashImages));
        assert!(!seller.can(Permission::ListDecisions));
        assert!(seller.sees_shop("s1") && !seller.sees_shop("s2"));
        assert!(seller.submits_for("s1") && !seller.submits_for("s2"));
        assert!(!seller.sees_holder("h1"));
        let creator = principal(Role::Creator);
        assert!(creator.sees_creator("c1") && !creator.sees_creator("c2"));
        assert!(!creator.sees_shop("s1") && !creator.submits_for("s1"));
        let err = creator.require(Permission::WorkCases).unwrap_err();
        assert_eq!(err.to_string(), "creator keys may not work review cases");
    }

    #[test]
    fn holders_manage_only_their_own() {
        let holder = principal(Role::RightsHolder);
        assert!(holder.manages_holder("h1") && !holder.manages_holder("h2"));
        assert!(!holder.sees_shop("s1"));
        let reviewer = principal(Role::Reviewer);
        assert!(reviewer.sees_shop("s1") && !reviewer.submits_for("s1"));
        assert!(!reviewer.manages_holder("h1"));
        assert!(reviewer.sees_creator("c9") && reviewer.sees_shop_record("s9"));
    }

    #[test]
    fn authorisations_are_asked_by_sellers_and_decided_by_holders() {
        let seller = principal(Role::Seller);
        assert!(seller.can(Permission::RequestAuthorization));
        assert!(!seller.can(Permission::DecideAuthorization));
        assert!(seller.acts_for_shop("s1") && !seller.acts_for_shop("s2"));
        assert!(seller.sees_authorization("h9", "s1") && !seller.sees_authorization("h1", "s2"));
        let holder = principal(Role::RightsHolder);
        assert!(holder.can(Permission::DecideAuthorization));
        assert!(!holder.can(Permission::RequestAuthorization));
        assert!(holder.sees_authorization("h1", "s9") && !holder.sees_authorization("h2", "s1"));
        assert!(!holder.acts_for_shop("s1"));
        let reviewer = principal(Role::Reviewer);
        assert!(reviewer.can(Permission::ReadAuthorizations));
        assert!(!reviewer.can(Permission::DecideAuthorization));
        assert!(!principal(Role::Creator).sees_authorization("h1", "s1"));
    }

    /// docs/model.md shows this very table.
    #[test]
    fn the_documented_table_is_this_one() {
        let doc = include_str!("../../../docs/model.md");
        for p in Permission::ALL {
            let cells: Vec<&str> = Role::ALL
                .iter()
                .map(|r| if p.allows(*r) { "✓" } else { "" })
                .collect();
            let row = format!(
                "| `{}` ({}) | {} |",
                p.as_str(),
                describe(p),
                cells.join(" | ")
            );
            assert!(
                doc.contains(&row),
                "docs/model.md lacks or differs on: {row}"
            );
        }
    }
}
