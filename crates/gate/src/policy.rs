//! The region-policy detector: prohibited and restricted goods per the
//! policy packs in force for the listing's region.

use std::sync::Arc;

use shopshield_model::Violation;
use shopshield_policy::{ListingText, PolicySet};

use crate::{Detector, ScreenInput};

/// Screens listings against a set of policy packs.
pub struct PolicyDetector {
    set: Arc<PolicySet>,
}

impl PolicyDetector {
    pub fn new(set: Arc<PolicySet>) -> PolicyDetector {
        PolicyDetector { set }
    }
}

impl Detector for PolicyDetector {
    fn name(&self) -> &'static str {
        "policy"
    }

    fn detect(&self, input: &ScreenInput<'_>, out: &mut Vec<Violation>) {
        // The text was normalised once for every detector.
        let n = input.normalized;
        let text = ListingText::from_normalized(
            n.title.clone().unwrap_or_default(),
            n.brand.clone(),
            n.description.clone(),
        );
        let outcome = self
            .set
            .screen_text(input.listing, &text, input.qualifications, input.now);
        out.extend(outcome.violations);
    }

    fn data_versions(&self, input: &ScreenInput<'_>) -> Vec<(String, String)> {
        self.set
            .versions_for(input.listing.region)
            .into_iter()
            .collect()
    }

    fn content_data_versions(&self, region: shopshield_model::Region) -> Vec<(String, String)> {
        self.set.versions_for(region).into_iter().collect()
    }
}
