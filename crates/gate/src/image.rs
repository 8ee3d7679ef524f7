//! The image detector: a listing's images against the banks of registered
//! logos (→ `counterfeit`) and copyrighted product photos (→ `copyright`).
//!
//! The banks are shared, not rebuilt: the application inserts and removes
//! entries as rights change, and every engine reads the same banks, so a
//! newly registered image matches the very next listing without rebuilding
//! an index of millions of hashes.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use shopshield_keypoints::{LocalBank, LocalConfig, LocalMatch, Query, Reference};
use shopshield_model::{
    Evidence, NiceClass, Region, RegionSet, Right, RightKind, Violation, ViolationType,
};
use shopshield_pdq::{Bank, BankConfig, BankKind, BankMatch, QueryView};

use crate::{Detector, ScreenInput};

/// A listing image, decoded and hashed: the views to match (the whole
/// image, its border-trimmed version, tiles...).
#[derive(Debug, Clone)]
pub struct ImageSignal {
    /// `images[0]`, `images[1]`...
    pub field: String,
    pub views: Vec<QueryView>,
    /// Local features for the logo-inside-a-photo search (absent when no
    /// logo is registered for it, or the search is switched off).
    pub local: Option<Query>,
}

/// Confidences by match strength. A registered photo reused nearly as it is
/// (re-encoded, resized) is copyright infringement; a looser match, or a
/// logo (which genuine resellers show too), goes to a human.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImageConfig {
    /// A photo match at or below this distance rejects.
    pub photo_reject_distance: u32,
    pub photo_close_confidence: f64,
    pub photo_far_confidence: f64,
    pub logo_confidence: f64,
    /// A registered logo found inside a larger photo by local features.
    pub logo_in_photo_confidence: f64,
}

impl Default for ImageConfig {
    fn default() -> Self {
        ImageConfig {
            photo_reject_distance: 20,
            photo_close_confidence: 0.95,
            photo_far_confidence: 0.7,
            logo_confidence: 0.7,
            logo_in_photo_confidence: 0.6,
        }
    }
}

#[derive(Debug, Clone)]
struct Scope {
    regions: Vec<Region>,
    nice: Vec<NiceClass>,
    authorized: Vec<String>,
}

/// The logo and photo banks with the scope of each right in them.
#[derive(Debug)]
pub struct ImageBanks {
    pub logos: Bank,
    pub photos: Bank,
    /// Logos' local features, for finding them inside larger photos.
    pub local: LocalBank,
    scopes: HashMap<String, Scope>,
}

impl ImageBanks {
    pub fn new(logos: BankConfig, photos: BankConfig, local: LocalConfig) -> ImageBanks {
        ImageBanks {
            logos: Bank::new(logos),
            photos: Bank::new(photos),
            local: LocalBank::new(local),
            scopes: HashMap::new(),
        }
    }

    fn bank_mut(&mut self, kind: RightKind) -> Option<&mut Bank> {
        match kind {
            RightKind::Logo => Some(&mut self.logos),
            RightKind::CopyrightImage => Some(&mut self.photos),
            RightKind::Trademark | RightKind::CopyrightVideo => None,
        }
    }

    /// Puts a right's image in force (or takes it out, if the right is
    /// disabled). Returns how many hashes are indexed for it. A logo's
    /// `local` features (when it has enough corners) also go into the
    /// logo-inside-a-photo search.
    pub fn upsert(
        &mut self,
        right: &Right,
        local: Option<Reference>,
    ) -> Result<usize, shopshield_pdq::BankError> {
        self.remove(&right.id);
        if !right.enabled || right.image_hashes.is_empty() {
            return Ok(0);
        }
        let refs: Vec<shopshield_pdq::ReferenceHash> = right
            .image_hashes
            .iter()
            .filter_map(|h| {
                Some(shopshield_pdq::ReferenceHash {
                    hash: shopshield_pdq::Hash256::from_hex(&h.pdq).ok()?,
                    quality: h.quality,
                    degenerate: h.degenerate,
                    view: h.view.clone(),
                })
            })
            .collect();
        let Some(bank) = self.bank_mut(right.kind) else {
            return Ok(0);
        };
        let hashed = bank.insert(&right.id, &right.id, &refs);
        // A logo too plain for the local search still matches by hash, and
        // one whose hashes are all below the quality bar may still be found
        // by its keypoints.
        let located = match (right.kind, local) {
            (RightKind::Logo, Some(reference)) => {
                match self.local.insert(&right.id, &right.id, reference) {
                    Ok(_) => true,
                    Err(e) => {
                        tracing::info!(right = %right.id, reason = %e, "logo not searched for inside photos");
                        false
                    }
                }
            }
            _ => false,
        };
        let n = match hashed {
            Ok(n) => n,
            Err(_) if located => 0,
            Err(e) => return Err(e),
        };
        self.scopes.insert(
            right.id.clone(),
            Scope {
                regions: right.regions.clone(),
                nice: right.nice_classes.clone(),
                authorized: right.authorized_sellers.clone(),
            },
        );
        Ok(n)
    }

    pub fn remove(&mut self, right_id: &str) {
        self.local.remove(right_id);
        self.logos.remove(right_id);
        self.photos.remove(right_id);
        self.scopes.remove(right_id);
    }

    pub fn len(&self) -> usize {
        self.logos.len() + self.photos.len()
    }

    /// Whether any logo is registered for the logo-inside-a-photo search
    /// (listing photos need local features only then).
    pub fn wants_local_features(&self) -> bool {
        !self.local.is_empty()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0 && self.local.is_empty()
    }

    /// Matches views against both banks (no scoping): for `/v1/match`.
    pub fn match_views(&self, views: &[QueryView]) -> Vec<BankMatch> {
        let mut m = self.logos.match_views(views);
        m.extend(self.photos.match_views(views));
        m.sort_by_key(|x| x.distance);
        m
    }

    fn in_scope(&self, right_id: &str, input: &ScreenInput<'_>) -> bool {
        let Some(s) = self.scopes.get(right_id) else {
            return false;
        };
        s.regions.covers(input.listing.region)
            && (s.nice.is_empty() || s.nice.iter().any(|c| input.category.nice.contains(c)))
            && !s.authorized.iter().any(|a| a == &input.listing.shop_id)
    }
}

/// Matches listing images against the shared banks.
pub struct ImageDetector {
    banks: Arc<RwLock<ImageBanks>>,
    config: ImageConfig,
}

impl ImageDetector {
    pub fn new(banks: Arc<RwLock<ImageBanks>>, config: ImageConfig) -> ImageDetector {
        ImageDetector { banks, config }
    }
}

impl Detector for ImageDetector {
    fn name(&self) -> &'static str {
        "image"
    }

    fn detect(&self, input: &ScreenInput<'_>, out: &mut Vec<Violation>) {
        if input.images.is_empty() {
            return;
        }
        let banks = self.banks.read().unwrap_or_else(|p| p.into_inner());
        if banks.is_empty() {
            return;
        }
        // One violation per right: the closest match over all images.
        let mut best: HashMap<String, (BankMatch, &str)> = HashMap::new();
        for img in input.images {
            for bank in [&banks.photos, &banks.logos] {
                for m in bank.match_views(&img.views) {
                    if !banks.in_scope(&m.right_id, input) {
                        continue;
                    }
                    let better = best
                        .get(&m.right_id)
                        .is_none_or(|(b, _)| m.distance < b.distance);
                    if better {
                        best.insert(m.right_id.clone(), (m, img.field.as_str()));
                    }
                }
            }
        }
        // Logos inside larger photos, for rights the hashes did not match.
        let mut located: HashMap<String, (LocalMatch, &str, [u32; 2])> = HashMap::new();
        if !banks.local.is_empty() {
            for img in input.images {
                let Some(q) = &img.local else { continue };
                // The photo's size in its own pixels, which the match's
                // corners are in.
                let size = [q.features.width, q.features.height]
                    .map(|v| (v as f32 * q.features.to_input).round() as u32);
                for m in banks.local.find(q) {
                    if best.contains_key(&m.right_id) || !banks.in_scope(&m.right_id, input) {
                        continue;
                    }
                    let better = located
                        .get(&m.right_id)
                        .is_none_or(|(b, _, _)| m.inliers > b.inliers);
                    if better {
                        located.insert(m.right_id.clone(), (m, img.field.as_str(), size));
                    }
                }
            }
        }
        let mut located: Vec<_> = located.into_values().collect();
        located.sort_by(|a, b| a.0.right_id.cmp(&b.0.right_id));
        for (m, field, size) in located {
            out.push(local_violation(
                &m,
                field,
                size,
                self.config.logo_in_photo_confidence,
            ));
        }
        let mut found: Vec<(BankMatch, &str)> = best.into_values().collect();
        found.sort_by(|a, b| a.0.right_id.cmp(&b.0.right_id));
        for (m, field) in found {
            let (kind, confidence, what) = match m.kind {
                BankKind::Photo if m.distance <= self.config.photo_reject_distance => (
                    ViolationType::Copyright,
                    self.config.photo_close_confidence,
                    "is a copy of a copyrighted product photo",
                ),
                BankKind::Photo => (
                    ViolationType::Copyright,
                    self.config.photo_far_confidence,
                    "closely resembles a copyrighted product photo",
                ),
                BankKind::Logo => (
                    ViolationType::Counterfeit,
                    self.config.logo_confidence,
                    "shows a registered logo",
                ),
            };
            let view = if m.query_view == "full" {
                String::new()
            } else {
                format!(" (in the {} view of the image)", m.query_view)
            };
            out.push(Violation {
                kind,
                right_id: Some(m.right_id.clone()),
                rule_id: None,
                detector: "image".into(),
                confidence,
                evidence: Evidence {
                    field: Some(field.to_string()),
                    method: Some(format!("pdq {}", m.variant.name())),
                    distance: Some(m.distance),
                    variant: Some(m.variant.name().to_string()),
                    quality: Some(m.query_quality),
                    reference_quality: Some(m.reference_quality),
                    why: format!(
                        "{field} {what} registered under right {}: PDQ Hamming distance {} of 256 bits (variant {}, view {} vs {}){view}; qualities {} and {}.",
                        m.right_id,
                        m.distance,
                        m.variant.name(),
                        m.query_view,
                        m.reference_view,
                        m.query_quality,
                        m.reference_quality
                    ),
                    ..Evidence::default()
                },
            });
        }
    }
}

/// The violation for a logo found inside a photo: where it is, how many
/// keypoints agree, and how well the photo matches the artwork there.
fn local_violation(
    m: &LocalMatch,
    field: &str,
    image_size: [u32; 2],
    confidence: f64,
) -> Violation {
    // Tenths of a pixel are as close as a drawn box needs; the sentence's
    // box is the extent of the same corners.
    let quad = m.quad.map(|p| p.map(|v| (v * 10.0).round() / 10.0));
    let xs = quad.map(|p| p[0]);
    let ys = quad.map(|p| p[1]);
    let min = |v: [f32; 4]| {
        v.iter()
            .copied()
            .fold(f32::INFINITY, f32::min)
            .max(0.0)
            .round()
    };
    let max = |v: [f32; 4]| v.iter().copied().fold(f32::NEG_INFINITY, f32::max).round();
    let negative = if m.negative {
        ", as a negative (light on dark)"
    } else {
        ""
    };
    Violation {
        kind: ViolationType::Counterfeit,
        right_id: Some(m.right_id.clone()),
        rule_id: None,
        detector: "image".into(),
        confidence,
        evidence: Evidence {
            field: Some(field.to_string()),
            method: Some("keypoints".into()),
            quad: Some(quad),
            image_size: Some(image_size),
            why: format!(
                "{field} shows the logo registered under right {} inside the photo, in the box x {}-{}, y {}-{} (pixels), at {:.0}% of the registered artwork's size, turned {:.0} degrees{negative}: {} keypoint matches of {} agree on that placement, and the photo there correlates {:.2} with the artwork.",
                m.right_id,
                min(xs),
                max(xs),
                min(ys),
                max(ys),
                m.scale * 100.0,
                // Adding 0 turns a rounded -0 into 0.
                m.rotation_degrees.round() + 0.0,
                m.inliers,
                m.matches,
                m.correlation
            ),
            ..Evidence::default()
        },
    }
}
