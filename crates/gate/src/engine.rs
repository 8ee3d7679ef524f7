use std::collections::BTreeMap;
use std::sync::Arc;

use arc_swap::ArcSwap;
use serde::{Deserialize, Serialize};
use shopshield_model::{Action, Violation};

use crate::{Detector, ScreenInput};

/// Score thresholds that turn evidence into an action.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GateConfig {
    /// A listing whose score reaches this goes to human review.
    pub review: f64,
    /// A listing whose score reaches this is rejected.
    pub reject: f64,
}

impl Default for GateConfig {
    fn default() -> Self {
        GateConfig {
            review: 0.5,
            reject: 0.85,
        }
    }
}

impl GateConfig {
    /// Checks that 0 < review ≤ reject ≤ 1.
    pub fn validate(&self) -> Result<(), String> {
        let ok = |x: f64| x.is_finite() && x > 0.0 && x <= 1.0;
        if !ok(self.review) || !ok(self.reject) || self.review > self.reject {
            return Err(format!(
                "thresholds must satisfy 0 < review ({}) <= reject ({}) <= 1",
                self.review, self.reject
            ));
        }
        Ok(())
    }

    pub fn action(&self, score: f64) -> Action {
        if score >= self.reject {
            Action::Reject
        } else if score >= self.review {
            Action::Review
        } else {
            Action::Approve
        }
    }
}

/// What the engine concluded about one listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub action: Action,
    /// The highest violation confidence (0 when nothing was found).
    pub score: f64,
    /// Violations at or above the review threshold, strongest first.
    pub violations: Vec<Violation>,
    pub registry_version: u64,
    /// Versions of detector data (policy packs...) used.
    pub versions: BTreeMap<String, String>,
}

/// An immutable set of detectors built from one registry snapshot.
pub struct Engine {
    registry_version: u64,
    config: GateConfig,
    detectors: Vec<Box<dyn Detector>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("registry_version", &self.registry_version)
            .field("config", &self.config)
            .field(
                "detectors",
                &self.detectors.iter().map(|d| d.name()).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Assembles an [`Engine`].
pub struct EngineBuilder {
    registry_version: u64,
    config: GateConfig,
    detectors: Vec<Box<dyn Detector>>,
}

impl EngineBuilder {
    pub fn new(registry_version: u64, config: GateConfig) -> Self {
        EngineBuilder {
            registry_version,
            config,
            detectors: Vec::new(),
        }
    }

    pub fn detector(mut self, d: impl Detector + 'static) -> Self {
        self.detectors.push(Box::new(d));
        self
    }

    pub fn boxed_detector(mut self, d: Box<dyn Detector>) -> Self {
        self.detectors.push(d);
        self
    }

    pub fn build(self) -> Engine {
        Engine {
            registry_version: self.registry_version,
            config: self.config,
            detectors: self.detectors,
        }
    }
}

impl Engine {
    /// An engine with no detectors: approves everything. Used before the
    /// registry is loaded and in tests.
    pub fn empty(config: GateConfig) -> Engine {
        EngineBuilder::new(0, config).build()
    }

    pub fn registry_version(&self) -> u64 {
        self.registry_version
    }

    pub fn config(&self) -> &GateConfig {
        &self.config
    }

    pub fn detector_names(&self) -> Vec<&'static str> {
        self.detectors.iter().map(|d| d.name()).collect()
    }

    /// Runs every detector and decides.
    ///
    /// The score is the strongest single violation's confidence: evidence
    /// that is weak on its own is not added up into a takedown, because a
    /// false takedown costs an honest seller their income. Violations below
    /// the review threshold are dropped; the rest are ordered strongest
    /// first (ties in a fixed order, so equal input gives equal output).
    pub fn screen(&self, input: &ScreenInput<'_>) -> Verdict {
        let mut found = Vec::new();
        let mut versions = BTreeMap::new();
        for d in &self.detectors {
            d.detect(input, &mut found);
            versions.extend(d.data_versions(input));
        }
        found.retain(|v| v.confidence.is_finite() && v.confidence >= self.config.review);
        found.sort_by(|a, b| {
            b.confidence
                .total_cmp(&a.confidence)
                .then_with(|| a.kind.cmp(&b.kind))
                .then_with(|| a.right_id.cmp(&b.right_id))
                .then_with(|| a.rule_id.cmp(&b.rule_id))
                .then_with(|| a.evidence.field.cmp(&b.evidence.field))
                .then_with(|| a.evidence.span.cmp(&b.evidence.span))
        });
        let score = found.first().map_or(0.0, |v| v.confidence.clamp(0.0, 1.0));
        Verdict {
            action: self.config.action(score),
            score,
            violations: found,
            registry_version: self.registry_version,
            versions,
        }
    }
}

impl Engine {
    /// Screens a video or a stream window: every detector sees the
    /// content's listing-shaped units (or the content itself, if it
    /// understands it), one violation per right or rule is kept (the
    /// strongest), and the action follows from the score as for listings.
    pub fn screen_content(&self, input: &crate::ContentInput<'_>) -> Verdict {
        let units = crate::content::units(input);
        let mut found = Vec::new();
        let mut versions = BTreeMap::new();
        for d in &self.detectors {
            d.detect_content(input, &units, &mut found);
            versions.extend(d.content_data_versions(input.region));
        }
        found.retain(|v| v.confidence.is_finite() && v.confidence >= self.config.review);
        crate::content::strongest_per_subject(&mut found);
        found.sort_by(|a, b| {
            b.confidence
                .total_cmp(&a.confidence)
                .then_with(|| a.kind.cmp(&b.kind))
                .then_with(|| a.right_id.cmp(&b.right_id))
                .then_with(|| a.rule_id.cmp(&b.rule_id))
                .then_with(|| a.evidence.field.cmp(&b.evidence.field))
        });
        let score = found.first().map_or(0.0, |v| v.confidence.clamp(0.0, 1.0));
        Verdict {
            action: self.config.action(score),
            score,
            violations: found,
            registry_version: self.registry_version,
            versions,
        }
    }
}

/// Holds the current engine and swaps it atomically.
pub struct Gate {
    current: ArcSwap<Engine>,
}

impl Gate {
    pub fn new(engine: Engine) -> Gate {
        Gate {
            current: ArcSwap::from_pointee(engine),
        }
    }

    /// The engine in force now. Hold the `Arc` for the whole screening of a
    /// listing so it sees one consistent snapshot.
    pub fn engine(&self) -> Arc<Engine> {
        self.current.load_full()
    }

    /// Puts a new engine in force for every listing screened from now on.
    pub fn swap(&self, engine: Engine) {
        self.current.store(Arc::new(engine));
    }

    pub fn screen(&self, input: &ScreenInput<'_>) -> Verdict {
        self.current.load().screen(input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds() {
        let c = GateConfig::default();
        assert_eq!(c.action(0.0), Action::Approve);
        assert_eq!(c.action(0.5), Action::Review);
        assert_eq!(c.action(0.85), Action::Reject);
        assert!(c.validate().is_ok());
        assert!(
            GateConfig {
                review: 0.9,
                reject: 0.5
            }
            .validate()
            .is_err()
        );
        assert!(
            GateConfig {
                review: f64::NAN,
                reject: 0.5
            }
            .validate()
            .is_err()
        );
    }
}
