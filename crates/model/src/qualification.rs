use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Region, ValidationError, validate_id};

/// Something a seller holds that lets it sell restricted goods in a region:
/// an alcohol licence, a cosmetics notification, a children's product
/// certificate...
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Qualification {
    /// The shop that holds it.
    pub shop_id: String,
    /// The qualification id policy rules ask for, e.g. `alcohol-licence`.
    pub qualification: String,
    /// Where it is valid; `*` for everywhere.
    pub region: Region,
    /// After this instant it counts as missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// A reference to the document that proves it (a file id, a URL...).
    pub evidence_ref: String,
}

impl Qualification {
    pub fn validate(&self) -> Result<(), ValidationError> {
        validate_id("shop_id", &self.shop_id)?;
        validate_id("qualification", &self.qualification)?;
        if self.evidence_ref.trim().is_empty() || self.evidence_ref.len() > 1000 {
            return Err(ValidationError::new(
                "evidence_ref",
                "must be 1 to 1000 bytes",
            ));
        }
        Ok(())
    }

    /// True if it proves `qualification` for a listing in `region` at `now`.
    pub fn satisfies(&self, qualification: &str, region: Region, now: DateTime<Utc>) -> bool {
        self.qualification == qualification
            && (self.region.is_all() || self.region == region)
            && self.expires_at.is_none_or(|e| e > now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expired_counts_as_missing() {
        let now = Utc::now();
        let us = Region::parse("r", "US").unwrap();
        let mut q = Qualification {
            shop_id: "s".into(),
            qualification: "alcohol-licence".into(),
            region: us,
            expires_at: Some(now + chrono::Duration::days(1)),
            evidence_ref: "doc-1".into(),
        };
        assert!(q.satisfies("alcohol-licence", us, now));
        assert!(!q.satisfies("alcohol-licence", Region::parse("r", "GB").unwrap(), now));
        q.expires_at = Some(now - chrono::Duration::days(1));
        assert!(!q.satisfies("alcohol-licence", us, now));
    }
}
