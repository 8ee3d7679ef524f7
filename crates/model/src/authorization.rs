//! Brand authorisation: a seller asks a rights holder for a letter of
//! authorisation on one right; the holder approves, refuses or, later,
//! revokes it. An approved request puts the seller's shop among the
//! right's authorised sellers.
//!
//! Validation reports the first bad element by its field name.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ValidationError;
use crate::ids::{check_text, validate_id};

/// Longest seller's statement or holder's reason, in bytes.
pub const MAX_AUTHORIZATION_TEXT_LEN: usize = 4_096;
/// Longest supporting document (a reference, a URL or a short text), in
/// bytes.
pub const MAX_AUTHORIZATION_DOCUMENT_LEN: usize = 8_192;

/// How the seller stands to the brand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Relationship {
    /// Buys from the brand or its distributor and supplies retailers.
    Distributor,
    /// Sells genuine goods bought from the brand or a distributor.
    Retailer,
    /// Resells genuine goods bought elsewhere.
    Reseller,
    /// Makes goods under a licence of the right.
    Licensee,
    /// Anything else, explained in the message.
    Other,
}

impl Relationship {
    pub fn as_str(self) -> &'static str {
        match self {
            Relationship::Distributor => "distributor",
            Relationship::Retailer => "retailer",
            Relationship::Reseller => "reseller",
            Relationship::Licensee => "licensee",
            Relationship::Other => "other",
        }
    }
}

/// Where an authorisation request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthorizationState {
    /// Waiting for the holder.
    Pending,
    /// The holder approved it: the shop is an authorised seller.
    Approved,
    /// The holder refused it.
    Refused,
    /// The seller withdrew it before the holder decided.
    Withdrawn,
    /// The holder approved it, then revoked it: the shop is no longer an
    /// authorised seller.
    Revoked,
}

impl AuthorizationState {
    pub const ALL: [AuthorizationState; 5] = [
        AuthorizationState::Pending,
        AuthorizationState::Approved,
        AuthorizationState::Refused,
        AuthorizationState::Withdrawn,
        AuthorizationState::Revoked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuthorizationState::Pending => "pending",
            AuthorizationState::Approved => "approved",
            AuthorizationState::Refused => "refused",
            AuthorizationState::Withdrawn => "withdrawn",
            AuthorizationState::Revoked => "revoked",
        }
    }

    pub fn parse(s: &str) -> Option<AuthorizationState> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A seller's request for authorisation, as submitted (the body of
/// `POST /v1/rights/{id}/authorizations`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAuthorization {
    /// The seller's shop. Sellers may leave it out (their own shop is
    /// used); admins must name it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shop_id: Option<String>,
    /// How the seller stands to the brand.
    #[serde(default)]
    pub relationship: Option<Relationship>,
    /// The seller's statement: where its goods come from and why it should
    /// be authorised.
    #[serde(default)]
    pub message: String,
    /// A supporting document: an invoice number, a distribution agreement's
    /// reference, a URL, or its text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
}

impl NewAuthorization {
    /// Checks every element; the first problem names its field.
    pub fn validate(&self) -> Result<(), ValidationError> {
        if let Some(s) = &self.shop_id {
            validate_id("shop_id", s)?;
        }
        if self.relationship.is_none() {
            return Err(ValidationError::new(
                "relationship",
                "is required: distributor, retailer, reseller, licensee or other",
            ));
        }
        if self.message.trim().is_empty() {
            return Err(ValidationError::new(
                "message",
                "is required and must not be empty",
            ));
        }
        check_text("message", &self.message, MAX_AUTHORIZATION_TEXT_LEN)?;
        if let Some(d) = &self.document {
            if d.trim().is_empty() {
                return Err(ValidationError::new(
                    "document",
                    "must not be empty when given",
                ));
            }
            check_text("document", d, MAX_AUTHORIZATION_DOCUMENT_LEN)?;
        }
        Ok(())
    }
}

/// Checks a holder's reason for a decision.
pub fn validate_authorization_reason(
    field: &str,
    reason: &str,
    required: bool,
) -> Result<(), ValidationError> {
    if required && reason.trim().is_empty() {
        return Err(ValidationError::new(
            field,
            "is required and must not be empty",
        ));
    }
    check_text(field, reason, MAX_AUTHORIZATION_TEXT_LEN)
}

/// Who decided (approved, refused, revoked or withdrew), when and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuthorizationDecision {
    /// The principal id.
    pub by: String,
    pub at: DateTime<Utc>,
    #[serde(default)]
    pub reason: String,
}

/// An authorisation request as the registry keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Authorization {
    pub id: String,
    pub right_id: String,
    /// The right's holder, who decides.
    pub holder_id: String,
    /// The seller's shop.
    pub shop_id: String,
    /// The principal that asked.
    pub requested_by: String,
    pub relationship: Relationship,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
    pub state: AuthorizationState,
    /// The holder's approval or refusal (or the seller's withdrawal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<AuthorizationDecision>,
    /// The holder's revocation of an approval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation: Option<AuthorizationDecision>,
    /// The registry version at which the last change of the right's
    /// authorised sellers by this request took effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry_version: Option<u64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Bumped by every change: a change names the version it was computed
    /// from, so two decisions on one request never both succeed.
    pub version: u32,
}

impl Authorization {
    /// Checks a stored or built record's identifiers and texts.
    pub fn validate(&self) -> Result<(), ValidationError> {
        validate_id("id", &self.id)?;
        validate_id("right_id", &self.right_id)?;
        validate_id("holder_id", &self.holder_id)?;
        validate_id("shop_id", &self.shop_id)?;
        if self.message.trim().is_empty() {
            return Err(ValidationError::new(
                "message",
                "is required and must not be empty",
            ));
        }
        check_text("message", &self.message, MAX_AUTHORIZATION_TEXT_LEN)?;
        if let Some(d) = &self.document {
            check_text("document", d, MAX_AUTHORIZATION_DOCUMENT_LEN)?;
        }
        if self.version == 0 {
            return Err(ValidationError::new("version", "starts at 1"));
        }
        Ok(())
    }

    /// The same request: same right, shop, relationship, message and
    /// document (a re-post of it is not a new request).
    pub fn same_request(&self, right_id: &str, shop_id: &str, new: &NewAuthorization) -> bool {
        self.right_id == right_id
            && self.shop_id == shop_id
            && Some(self.relationship) == new.relationship
            && self.message == new.message
            && self.document == new.document
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new() -> NewAuthorization {
        NewAuthorization {
            shop_id: None,
            relationship: Some(Relationship::Retailer),
            message: "We buy from the brand's EU distributor; invoices attached.".into(),
            document: Some("invoice INV-2026-0042".into()),
        }
    }

    #[test]
    fn a_complete_request_passes() {
        new().validate().unwrap();
    }

    #[test]
    fn each_bad_element_is_named() {
        type Edit = Box<dyn Fn(&mut NewAuthorization)>;
        let cases: Vec<(&str, Edit)> = vec![
            ("shop_id", Box::new(|n| n.shop_id = Some("a b".into()))),
            ("relationship", Box::new(|n| n.relationship = None)),
            ("message", Box::new(|n| n.message = "  ".into())),
            ("message", Box::new(|n| n.message = "x".repeat(4_097))),
            ("message", Box::new(|n| n.message = "a\0b".into())),
            ("document", Box::new(|n| n.document = Some(String::new()))),
        ];
        for (field, edit) in cases {
            let mut n = new();
            edit(&mut n);
            assert_eq!(n.validate().unwrap_err().field, field);
        }
    }

    #[test]
    fn states_round_trip() {
        for s in AuthorizationState::ALL {
            assert_eq!(AuthorizationState::parse(s.as_str()), Some(s));
        }
        assert_eq!(AuthorizationState::parse("nope"), None);
        assert_eq!(
            validate_authorization_reason("reason", " ", true)
                .unwrap_err()
                .field,
            "reason"
        );
        validate_authorization_reason("reason", "", false).unwrap();
    }
}
