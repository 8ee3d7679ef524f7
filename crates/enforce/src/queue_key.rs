//! The key of a review queue: a violation type and a region. A leaf
//! module: configuration (per-queue SLAs), events and cases all name queues,
//! and it depends on none of them.

use std::fmt;

use serde::{Deserialize, Serialize};
use shopshield_model::{Decision, Region, ViolationType};

/// A review queue: one per violation type and region. Cases whose decision
/// names no violation go to the `unclassified` queue of their region.
#[derive(
    utoipa::ToSchema,
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
)]
pub struct QueueKey {
    #[serde(rename = "type")]
    pub kind: Option<ViolationType>,
    pub region: Region,
}

impl QueueKey {
    /// The queue of a `review` decision: the type of its most confident
    /// violation (ties: the first in `ViolationType` order).
    pub fn for_decision(decision: &Decision, region: Region) -> QueueKey {
        let kind = decision
            .violations
            .iter()
            .max_by(|a, b| {
                a.confidence
                    .total_cmp(&b.confidence)
                    .then_with(|| b.kind.cmp(&a.kind))
            })
            .map(|v| v.kind);
        QueueKey { kind, region }
    }

    pub fn kind_str(&self) -> &'static str {
        self.kind.map_or("unclassified", ViolationType::as_str)
    }

    /// Checks an SLA override key: `type/region`, `type/*` or `*/region`.
    pub(crate) fn check_pattern(key: &str) -> Result<(), String> {
        let Some((kind, region)) = key.split_once('/') else {
            return Err("must be type/region".into());
        };
        let kind_ok = kind == "*"
            || kind == "unclassified"
            || ViolationType::ALL.iter().any(|t| t.as_str() == kind);
        if !kind_ok {
            return Err(format!("unknown violation type {kind:?}"));
        }
        if kind == "*" && region == "*" {
            return Err("use default_sla_hours for */*".into());
        }
        Region::parse("region", region).map_err(|e| e.reason)?;
        Ok(())
    }
}

impl fmt::Display for QueueKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.kind_str(), self.region)
    }
}
