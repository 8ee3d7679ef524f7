//! The logo bank for local features: registered logos' keypoints in one
//! Hamming index, and the search that finds a logo inside a listing photo.
//!
//! Search: every query descriptor looks up reference descriptors within a
//! Hamming radius; matches are grouped by logo, kept one-to-one and
//! distinctive (ratio test inside the logo), and a logo is reported only when
//! a similarity transform places enough of them consistently, covering
//! enough of the logo, at a plausible size in the photo.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use shopshield_pdq::HammingIndex;
use shopshield_pdq::views::trim_rect;

use crate::describe::{ExtractOptions, Features, extract};
use crate::geometry::{Correspondence, RansacOptions, Similarity, ransac};
use crate::gray::Gray;

/// Putative matches to one logo: reference keypoint -> (distance, query keypoint).
type Matches = HashMap<usize, (u32, usize)>;

/// Keypoints per logo are addressed as `slot << KP_BITS | keypoint`.
const KP_BITS: u32 = 16;

/// Thresholds of the local-feature logo search.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LocalConfig {
    /// Largest descriptor distance (of 256 bits) for a putative match.
    pub descriptor_radius: u32,
    /// Keep a match only if its distance is at most this fraction of the
    /// next-best distance to the same logo (Lowe's ratio test). Off (1.0) by
    /// default: logos repeat their corners, and the correlation check below
    /// is what keeps precision.
    pub ratio: f32,
    /// A logo needs this many keypoints to be registered for the local search.
    pub min_reference_keypoints: usize,
    /// Matches agreeing on one placement needed to report a logo.
    pub min_inliers: usize,
    /// ...and that many as a fraction of the logo's putative matches.
    pub min_inlier_ratio: f32,
    /// The agreeing keypoints must span this fraction of the logo's width and of its height.
    pub min_coverage: f32,
    /// The placed logo must be at least this many pixels across in the
    /// normalised query frame.
    pub min_placed_side: f32,
    pub ransac: RansacOptions,
    /// Also register each logo's negative (a light logo on a dark product).
    pub negatives: bool,
    /// The photo, warped back onto the artwork, must correlate with it at
    /// least this much (normalised cross-correlation, −1 to 1; sign-corrected
    /// for a negative).
    pub min_correlation: f32,
    /// ...and their outlines (gradient magnitudes) at least this much.
    pub min_edge_correlation: f32,
    /// Logos tried per photo, those with the most putative matches first.
    pub max_candidates: usize,
    /// Placements tried per logo before giving up on it.
    pub hypotheses: usize,
    /// When not 0, a photo keypoint whose descriptor lies near more than
    /// this many registered ones is skipped (a generic corner says little
    /// about which logo is there): bounds the search's cost on large banks,
    /// at some cost in recall. Off by default.
    pub max_neighbourhood: usize,
}

impl Default for LocalConfig {
    fn default() -> Self {
        LocalConfig {
            descriptor_radius: 32,
            ratio: 1.0,
            min_reference_keypoints: 30,
            min_inliers: 4,
            min_inlier_ratio: 0.0,
            min_coverage: 0.2,
            min_placed_side: 24.0,
            ransac: RansacOptions::default(),
            negatives: true,
            min_correlation: 0.55,
            min_edge_correlation: 0.7,
            max_candidates: 64,
            hypotheses: 4,
            max_neighbourhood: 0,
        }
    }
}

/// Why a logo cannot be registered for the local search.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocalError {
    /// Too plain: not enough corners to place it reliably.
    #[error("the logo has {found} keypoints; the local search needs at least {needed}")]
    TooFewKeypoints { found: usize, needed: usize },
    /// More keypoints than one entry can address.
    #[error("the logo has {0} keypoints, more than one entry can hold")]
    TooManyKeypoints(usize),
    /// The pixel buffer does not match the stated size.
    #[error("the RGB buffer is not width x height x 3 bytes")]
    BadBuffer,
}

/// A registered logo's features and the box its artwork occupies.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reference {
    pub features: Features,
    /// The artwork's box in the features' frame (padding excluded).
    pub content: [f32; 4],
    /// Keypoints `0..negative_from` come from the artwork as drawn, the rest from its negative.
    pub negative_from: usize,
    /// The artwork box resampled to `TEMPLATE x TEMPLATE` luma, for verification.
    #[serde(skip)]
    pub template: Vec<f32>,
}

/// Side of the verification template.
pub const TEMPLATE: usize = 48;

/// A listing photo prepared for the search: its features and the
/// normalised grayscale frame they are in (for verification).
#[derive(Debug, Clone)]
pub struct Query {
    pub features: Features,
    pub image: Gray,
}

/// Features of a logo for registration: uniform borders trimmed, a margin
/// of background added back (so corners at the artwork's edge are kept),
/// and, if asked, the negative's keypoints appended.
pub fn reference_features(
    rgb: &[u8],
    width: usize,
    height: usize,
    negatives: bool,
) -> Result<Reference, LocalError> {
    let gray = Gray::from_rgb(rgb, width, height).ok_or(LocalError::BadBuffer)?;
    let r = trim_rect(rgb, width, height, 24);
    let (cw, ch) = (r.width(), r.height());
    let corners = [
        gray.at(0, 0),
        gray.at(width - 1, 0),
        gray.at(0, height - 1),
        gray.at(width - 1, height - 1),
    ];
    let mut sorted = corners;
    sorted.sort_unstable();
    let bg = sorted[1]; // a robust corner colour
    let pad = (cw.max(ch) / 8).max(4);
    let mut padded = Gray::filled(cw + 2 * pad, ch + 2 * pad, bg);
    for y in 0..ch {
        let src = &gray.px[(r.y0 + y) * width + r.x0..(r.y0 + y) * width + r.x1];
        let at = (y + pad) * padded.width + pad;
        padded.px[at..at + cw].copy_from_slice(src);
    }
    let mut features = extract(&padded, &ExtractOptions::REFERENCE);
    let k = 1.0 / features.to_input;
    let content = [
        pad as f32 * k,
        pad as f32 * k,
        (pad + cw) as f32 * k,
        (pad + ch) as f32 * k,
    ];
    let negative_from = features.keypoints.len();
    let frame = padded.resize(features.width, features.height);
    let template = sample_box(&frame, &content, |x, y| (x, y));
    if negatives {
        let neg = extract(&padded.inverted(), &ExtractOptions::REFERENCE);
        features.keypoints.extend(neg.keypoints);
    }
    Ok(Reference {
        features,
        content,
        negative_from,
        template,
    })
}

/// Samples `TEMPLATE x TEMPLATE` points over `bx` (in reference-frame
/// coordinates), each mapped by `map` into `img`'s frame, bilinearly.
/// Points outside `img` read as NaN.
fn sample_box(img: &Gray, bx: &[f32; 4], map: impl Fn(f32, f32) -> (f32, f32)) -> Vec<f32> {
    let [x0, y0, x1, y1] = *bx;
    let mut out = Vec::with_capacity(TEMPLATE * TEMPLATE);
    for j in 0..TEMPLATE {
        let y = y0 + (j as f32 + 0.5) / TEMPLATE as f32 * (y1 - y0);
        for i in 0..TEMPLATE {
            let x = x0 + (i as f32 + 0.5) / TEMPLATE as f32 * (x1 - x0);
            let (u, v) = map(x, y);
            out.push(bilinear(img, u, v));
        }
    }
    out
}

fn bilinear(img: &Gray, u: f32, v: f32) -> f32 {
    if !(u >= 0.0 && v >= 0.0 && u <= (img.width - 1) as f32 && v <= (img.height - 1) as f32) {
        return f32::NAN;
    }
    let (x0, y0) = (u as usize, v as usize);
    let (x1, y1) = ((x0 + 1).min(img.width - 1), (y0 + 1).min(img.height - 1));
    let (wx, wy) = (u - x0 as f32, v - y0 as f32);
    let a = f32::from(img.at(x0, y0)) * (1.0 - wx) + f32::from(img.at(x1, y0)) * wx;
    let b = f32::from(img.at(x0, y1)) * (1.0 - wx) + f32::from(img.at(x1, y1)) * wx;
    a * (1.0 - wy) + b * wy
}

/// Gradient magnitude (central differences) of a `TEMPLATE x TEMPLATE`
/// sample grid; NaN where a neighbour is outside the photo, 0 on the rim.
fn edges(v: &[f32]) -> Vec<f32> {
    let n = TEMPLATE;
    let mut out = vec![0f32; n * n];
    for y in 1..n - 1 {
        for x in 1..n - 1 {
            let gx = v[y * n + x + 1] - v[y * n + x - 1];
            let gy = v[(y + 1) * n + x] - v[(y - 1) * n + x];
            out[y * n + x] = gx.hypot(gy);
        }
    }
    out
}

/// Normalised cross-correlation over the points both have; `None` when
/// fewer than half the points are inside the photo or either side is flat.
fn correlation(a: &[f32], b: &[f32]) -> Option<f32> {
    let pairs = a
        .iter()
        .zip(b)
        .filter(|(x, y)| x.is_finite() && y.is_finite());
    let (mut n, mut sa, mut sb) = (0f32, 0f32, 0f32);
    for (x, y) in pairs.clone() {
        n += 1.0;
        sa += x;
        sb += y;
    }
    if n < (a.len() / 2) as f32 {
        return None;
    }
    let (ma, mb) = (sa / n, sb / n);
    let (mut cov, mut va, mut vb) = (0f32, 0f32, 0f32);
    for (x, y) in pairs {
        cov += (x - ma) * (y - mb);
        va += (x - ma) * (x - ma);
        vb += (y - mb) * (y - mb);
    }
    // Flat on either side (std below 4 levels): nothing to correlate.
    if va < 16.0 * n || vb < 16.0 * n {
        return None;
    }
    Some(cov / (va * vb).sqrt())
}

/// Features of a listing photo for the search.
pub fn query_features(rgb: &[u8], width: usize, height: usize) -> Result<Query, LocalError> {
    let gray = Gray::from_rgb(rgb, width, height).ok_or(LocalError::BadBuffer)?;
    let features = extract(&gray, &ExtractOptions::QUERY);
    let image = gray.resize(features.width, features.height);
    Ok(Query { features, image })
}

/// A logo found in a photo, with the evidence a reviewer needs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LocalMatch {
    pub entry_id: String,
    pub right_id: String,
    /// Keypoint matches that agree on the placement.
    pub inliers: usize,
    /// Putative matches to this logo before geometric verification.
    pub matches: usize,
    /// Mean descriptor distance of the inliers (of 256 bits).
    pub mean_distance: f32,
    /// The logo's size in the photo relative to the registered artwork.
    pub scale: f32,
    pub rotation_degrees: f32,
    /// Where the logo's artwork lies in the photo: its four corners in
    /// input-image pixels (top-left, top-right, bottom-right, bottom-left).
    pub quad: [[f32; 2]; 4],
    /// The artwork matched as its negative (light on dark).
    pub negative: bool,
    /// Normalised cross-correlation of the photo, warped back onto the
    /// artwork, with the artwork (sign-corrected for a negative).
    pub correlation: f32,
    /// The same for their outlines (gradient magnitudes).
    pub edge_correlation: f32,
}

#[derive(Clone)]
struct Entry {
    entry_id: String,
    right_id: String,
    reference: Reference,
}

/// Registered logos for the local search. Inserts and removals take effect
/// at the next search.
#[derive(Clone)]
pub struct LocalBank {
    config: LocalConfig,
    slots: Vec<Option<Entry>>,
    free: Vec<usize>,
    by_id: HashMap<String, usize>,
    index: HammingIndex,
}

impl LocalBank {
    pub fn new(config: LocalConfig) -> LocalBank {
        LocalBank {
            config,
            slots: Vec::new(),
            free: Vec::new(),
            by_id: HashMap::new(),
            index: HammingIndex::new(),
        }
    }

    pub fn config(&self) -> &LocalConfig {
        &self.config
    }

    /// Whether a logo is registered under `entry_id`.
    pub fn contains(&self, entry_id: &str) -> bool {
        self.by_id.contains_key(entry_id)
    }

    /// Logos registered.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Descriptors indexed.
    pub fn keypoint_count(&self) -> usize {
        self.index.len()
    }

    /// Registers (or replaces) a logo. Returns its keypoint count.
    pub fn insert(
        &mut self,
        entry_id: &str,
        right_id: &str,
        reference: Reference,
    ) -> Result<usize, LocalError> {
        let n = reference.features.keypoints.len();
        let drawn = reference.negative_from.min(n);
        if drawn < self.config.min_reference_keypoints {
            return Err(LocalError::TooFewKeypoints {
                found: drawn,
                needed: self.config.min_reference_keypoints,
            });
        }
        if n >= 1 << KP_BITS {
            return Err(LocalError::TooManyKeypoints(n));
        }
        self.remove(entry_id);
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        for (k, kp) in reference.features.keypoints.iter().enumerate() {
            self.index
                .insert(((slot as u64) << KP_BITS) | k as u64, kp.descriptor);
        }
        self.slots[slot] = Some(Entry {
            entry_id: entry_id.to_string(),
            right_id: right_id.to_string(),
            reference,
        });
        self.by_id.insert(entry_id.to_string(), slot);
        // Every search scans the index's unmerged inserts linearly; with
        // hundreds of keypoints per logo, merge them early.
        if self.index.pending_len() > 2048 {
            self.index.compact();
        }
        Ok(n)
    }

    /// Removes a logo; returns whether it was registered.
    pub fn remove(&mut self, entry_id: &str) -> bool {
        let Some(slot) = self.by_id.remove(entry_id) else {
            return false;
        };
        if let Some(e) = self.slots[slot].take() {
            for k in 0..e.reference.features.keypoints.len() {
                self.index.remove(((slot as u64) << KP_BITS) | k as u64);
            }
        }
        self.free.push(slot);
        true
    }

    /// Every registered logo found in the photo, most inliers first.
    pub fn find(&self, query: &Query) -> Vec<LocalMatch> {
        let features = &query.features;
        if self.is_empty() || features.keypoints.is_empty() {
            return Vec::new();
        }
        let cfg = &self.config;
        // Per logo: reference keypoint -> (best distance, query keypoint).
        let mut per_slot: HashMap<usize, Matches> = HashMap::new();
        let mut neighbours = Vec::new();
        let mut best_here: HashMap<usize, (u32, usize, u32)> = HashMap::new();
        for (qi, qk) in features.keypoints.iter().enumerate() {
            let cap = match cfg.max_neighbourhood {
                0 => usize::MAX,
                n => n,
            };
            if !self.index.search_unordered_capped(
                &qk.descriptor,
                cfg.descriptor_radius,
                cap,
                &mut neighbours,
            ) {
                continue;
            }
            best_here.clear();
            for nb in &neighbours {
                let slot = (nb.id >> KP_BITS) as usize;
                let kp = (nb.id & ((1 << KP_BITS) - 1)) as usize;
                let e = best_here.entry(slot).or_insert((u32::MAX, kp, u32::MAX));
                if nb.distance < e.0 {
                    *e = (nb.distance, kp, e.0);
                } else if nb.distance < e.2 {
                    e.2 = nb.distance;
                }
            }
            for (&slot, &(d, kp, second)) in &best_here {
                if second != u32::MAX && d as f32 > cfg.ratio * second as f32 {
                    continue;
                }
                let m = per_slot.entry(slot).or_default();
                let cur = m.entry(kp).or_insert((d, qi));
                if d < cur.0 {
                    *cur = (d, qi);
                }
            }
        }
        let mut candidates: Vec<(usize, Matches)> = per_slot
            .into_iter()
            .filter(|(_, refs)| refs.len() >= cfg.min_inliers)
            .collect();
        candidates.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
        candidates.truncate(cfg.max_candidates);
        let mut out = Vec::new();
        for (slot, refs) in candidates {
            let Some(Some(entry)) = self.slots.get(slot) else {
                continue;
            };
            if let Some(m) = self.verify(entry, query, &refs) {
                out.push(m);
            }
        }
        out.sort_by(|a, b| {
            b.inliers
                .cmp(&a.inliers)
                .then_with(|| a.entry_id.cmp(&b.entry_id))
        });
        out
    }

    fn verify(&self, entry: &Entry, query: &Query, refs: &Matches) -> Option<LocalMatch> {
        let features = &query.features;
        let cfg = &self.config;
        let rk = &entry.reference.features.keypoints;
        let mut pairs: Vec<(usize, u32, usize)> =
            refs.iter().map(|(&r, &(d, q))| (r, d, q)).collect();
        pairs.sort_unstable();
        // One-to-one: a query keypoint serves one reference keypoint.
        let mut used: HashMap<usize, usize> = HashMap::new();
        let mut kept: Vec<(usize, u32, usize)> = Vec::new();
        for p in pairs {
            match used.get(&p.2) {
                Some(&at) if kept[at].1 <= p.1 => {}
                Some(&at) => kept[at] = p,
                None => {
                    used.insert(p.2, kept.len());
                    kept.push(p);
                }
            }
        }
        let cs: Vec<Correspondence> = kept
            .iter()
            .map(|&(r, d, q)| {
                let (a, b) = (&rk[r], &features.keypoints[q]);
                Correspondence {
                    rx: a.x,
                    ry: a.y,
                    rscale: a.scale,
                    rangle: a.angle,
                    qx: b.x,
                    qy: b.y,
                    qscale: b.scale,
                    qangle: b.angle,
                    distance: d,
                }
            })
            .collect();
        let [x0, y0, x1, y1] = entry.reference.content;
        let diag = (x1 - x0).hypot(y1 - y0);
        // Several placements may be tried: when the best-supported one does
        // not verify, its matches are set aside and the next is sought.
        let mut active: Vec<usize> = (0..cs.len()).collect();
        for _ in 0..cfg.hypotheses.max(1) {
            let sub: Vec<Correspondence> = active.iter().map(|&i| cs[i]).collect();
            let placement = ransac(&sub, diag, &cfg.ransac)?;
            if placement.inliers.len() < cfg.min_inliers {
                return None;
            }
            let inliers: Vec<usize> = placement.inliers.iter().map(|&i| active[i]).collect();
            if let Some(m) = self.check(entry, query, &cs, &kept, &inliers, placement.transform) {
                return Some(m);
            }
            let drop: std::collections::HashSet<usize> = inliers.into_iter().collect();
            active.retain(|i| !drop.contains(i));
        }
        None
    }

    /// Whether a placement is a plausible, verified sighting of the logo.
    fn check(
        &self,
        entry: &Entry,
        query: &Query,
        cs: &[Correspondence],
        kept: &[(usize, u32, usize)],
        inliers: &[usize],
        t: Similarity,
    ) -> Option<LocalMatch> {
        let cfg = &self.config;
        let features = &query.features;
        let [x0, y0, x1, y1] = entry.reference.content;
        let n = inliers.len();
        if (n as f32) < cfg.min_inlier_ratio * cs.len() as f32 {
            return None;
        }
        // Coverage of the artwork by the agreeing keypoints.
        let (mut lx, mut ly, mut hx, mut hy) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
        for &i in inliers {
            lx = lx.min(cs[i].rx);
            hx = hx.max(cs[i].rx);
            ly = ly.min(cs[i].ry);
            hy = hy.max(cs[i].ry);
        }
        if (hx - lx) < cfg.min_coverage * (x1 - x0) || (hy - ly) < cfg.min_coverage * (y1 - y0) {
            return None;
        }
        let placed = [
            t.apply(x0, y0),
            t.apply(x1, y0),
            t.apply(x1, y1),
            t.apply(x0, y1),
        ];
        let side = (x1 - x0).min(y1 - y0) * t.scale();
        if side < cfg.min_placed_side {
            return None;
        }
        // The artwork's centre must be inside the photo.
        let (cx, cy) = t.apply((x0 + x1) / 2.0, (y0 + y1) / 2.0);
        if cx < 0.0 || cy < 0.0 || cx > features.width as f32 || cy > features.height as f32 {
            return None;
        }
        let negatives = inliers
            .iter()
            .filter(|&&i| kept[i].0 >= entry.reference.negative_from)
            .count();
        let mean_distance = inliers.iter().map(|&i| cs[i].distance as f32).sum::<f32>() / n as f32;
        let negative = negatives * 2 > n;
        // Verification: warp the photo back onto the artwork and correlate,
        // allowing a shift of up to two template cells and a 6% scale error
        // for a placement estimated from few keypoints.
        let step = ((x1 - x0) / TEMPLATE as f32, (y1 - y0) / TEMPLATE as f32);
        let (mx, my) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
        let mut best = f32::MIN;
        let mut best_sample = Vec::new();
        for zoom in [0.94f32, 1.0, 1.06] {
            for dj in -2i32..=2 {
                for di in -2i32..=2 {
                    let (ox, oy) = (di as f32 * step.0, dj as f32 * step.1);
                    let sampled = sample_box(&query.image, &entry.reference.content, |x, y| {
                        t.apply(mx + (x - mx) * zoom + ox, my + (y - my) * zoom + oy)
                    });
                    if let Some(c) = correlation(&entry.reference.template, &sampled) {
                        let c = if negative { -c } else { c };
                        if c > best {
                            best = c;
                            best_sample = sampled;
                        }
                    }
                }
            }
        }
        if best < cfg.min_correlation {
            return None;
        }
        // Shapes, not just ink mass: the outlines must coincide too (a
        // plain blob on a label correlates with many logos' luma).
        let edge_correlation =
            correlation(&edges(&entry.reference.template), &edges(&best_sample)).unwrap_or(0.0);
        if edge_correlation < cfg.min_edge_correlation {
            return None;
        }
        let k = features.to_input;
        Some(LocalMatch {
            entry_id: entry.entry_id.clone(),
            right_id: entry.right_id.clone(),
            inliers: n,
            matches: cs.len(),
            mean_distance,
            scale: t.scale() * entry.reference.features.to_input.recip() * k,
            rotation_degrees: t.rotation_degrees(),
            quad: placed.map(|(x, y)| [x * k, y * k]),
            negative,
            correlation: best,
            edge_correlation,
        })
    }
}

impl std::fmt::Debug for LocalBank {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalBank")
            .field("logos", &self.len())
            .field("keypoints", &self.keypoint_count())
            .field("config", &self.config)
            .finish()
    }
}
