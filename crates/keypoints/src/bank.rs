//! The logo bank for local features: registered logos' keypoints in one
//! Hamming index, and the search that finds a logo inside a listing photo.
//!
//! Search: every query descriptor looks up reference descriptors within a
//! Hamming radius in a vocabulary tree (`shopshield_hamming::VocabTree`),
//! reading a fixed budget of stored descriptors, so the cost per photo does
//! not grow with the number of logos; matches are grouped by logo, kept
//! one-to-one, bounded by how many of them can agree on one placement
//! (`geometry::consistent_support`), and only the logos with the highest
//! bounds go on to geometric verification: a logo is reported only when a
//! similarity transform places enough of them consistently, covering enough
//! of the logo, at a plausible size in the photo, and the photo there looks
//! like the artwork.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use shopshield_hamming::{Hash256, Neighbor, VocabParams, VocabTree};
use shopshield_pdq::views::trim_rect;

use crate::describe::{
    ExtractOptions, Features, Keypoint, extract, extract_with_frame, extract_with_negatives,
};
use crate::geometry::{
    Affine, Correspondence, RansacOptions, consistent_support, ransac, refine_affine,
};
use crate::gray::Gray;

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
    /// Logos tried per photo: those whose matches can agree on a placement
    /// in the largest number (`geometry::consistent_support`) first; a logo
    /// whose bound is under `min_inliers` is never tried.
    pub max_candidates: usize,
    /// Placements tried per logo before giving up on it.
    pub hypotheses: usize,
    /// When not 0, a photo keypoint whose descriptor lies near more than
    /// this many registered ones is skipped (a generic corner says little
    /// about which logo is there). Off by default.
    pub max_neighbourhood: usize,
    /// Registered descriptors compared per photo keypoint (the vocabulary
    /// tree's search budget): the search reads the nearest visual words until
    /// it has compared this many. Fixed, so the search costs the same for
    /// 100 logos as for 10,000 (plus a tree level per 16x).
    pub checks: usize,
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
            checks: 256,
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
    /// A reference whose negatives do not pair with its keypoints.
    #[error("the logo has {keypoints} keypoints but {negatives} negative descriptors")]
    BadNegatives { keypoints: usize, negatives: usize },
    /// A reference whose verification template has the wrong size.
    #[error("the logo's verification template has {0} samples, not 48 x 48")]
    BadTemplate(usize),
}

/// A registered logo's features and the box its artwork occupies: everything
/// the search needs, so it can be stored ([`Reference::to_bytes`]) instead of
/// being recomputed from the image at every start.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reference {
    /// The artwork's keypoints as drawn.
    pub features: Features,
    /// The descriptors its photographic negative (a light logo on a dark
    /// product) has at the same keypoints; empty when negatives are off.
    #[serde(skip)]
    pub negatives: Vec<Hash256>,
    /// The artwork's box in the features' frame (padding excluded).
    pub content: [f32; 4],
    /// The artwork box resampled to `TEMPLATE x TEMPLATE` luma, for verification.
    #[serde(skip)]
    pub template: Vec<u8>,
}

/// Why bytes are not a stored [`Reference`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceBytesError {
    /// Not written by [`Reference::to_bytes`].
    #[error("not stored logo features (bad magic)")]
    BadMagic,
    /// Written by a version of the format this build does not read.
    #[error(
        "stored logo features have format version {found}; this build reads version {supported}"
    )]
    UnsupportedVersion { found: u8, supported: u8 },
    /// The bytes end before the named field.
    #[error("stored logo features end early, in {0}")]
    Truncated(&'static str),
    /// Bytes are left after the last field.
    #[error("stored logo features have {0} bytes after the end")]
    TrailingBytes(usize),
    /// A field holds an impossible value.
    #[error("stored logo features: {field} is invalid ({reason})")]
    Invalid {
        field: &'static str,
        reason: &'static str,
    },
}

const REFERENCE_MAGIC: &[u8; 6] = b"SSLOGO";
/// Version of [`Reference::to_bytes`]'s format.
pub const REFERENCE_FORMAT_VERSION: u8 = 1;

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], ReferenceBytesError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or(ReferenceBytesError::Truncated(field))?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }
    fn u32(&mut self, field: &'static str) -> Result<u32, ReferenceBytesError> {
        let b = self.take(4, field)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn f32(&mut self, field: &'static str) -> Result<f32, ReferenceBytesError> {
        let v = f32::from_bits(self.u32(field)?);
        if v.is_finite() {
            Ok(v)
        } else {
            Err(ReferenceBytesError::Invalid {
                field,
                reason: "not a finite number",
            })
        }
    }
    fn hash(&mut self, field: &'static str) -> Result<Hash256, ReferenceBytesError> {
        let b = self.take(32, field)?;
        let mut a = [0u8; 32];
        a.copy_from_slice(b);
        Ok(Hash256::from_bytes(&a))
    }
}

impl Reference {
    /// A compact, versioned binary form, for storing beside the logo:
    /// `"SSLOGO"`, version (1 byte), frame width and height (`u32`), the
    /// frame-to-input factor and the artwork box (`f32`), the keypoint count
    /// `n` (`u32`), whether negatives follow (1 byte), then per keypoint
    /// `x, y, scale, angle, response` (`f32`) and its 32-byte descriptor,
    /// then `n` negative descriptors if present, then the `TEMPLATE²`-byte
    /// template. Little-endian. About 52 bytes per keypoint (84 with
    /// negatives): 26 KB for a logo with 300 keypoints.
    pub fn to_bytes(&self) -> Vec<u8> {
        let n = self.features.keypoints.len();
        let mut out = Vec::with_capacity(40 + n * 84 + self.template.len());
        out.extend_from_slice(REFERENCE_MAGIC);
        out.push(REFERENCE_FORMAT_VERSION);
        out.extend_from_slice(&(self.features.width as u32).to_le_bytes());
        out.extend_from_slice(&(self.features.height as u32).to_le_bytes());
        out.extend_from_slice(&self.features.to_input.to_le_bytes());
        for v in self.content {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&(n as u32).to_le_bytes());
        out.push(u8::from(!self.negatives.is_empty()));
        for k in &self.features.keypoints {
            for v in [k.x, k.y, k.scale, k.angle, k.response] {
                out.extend_from_slice(&v.to_le_bytes());
            }
            out.extend_from_slice(&k.descriptor.to_bytes());
        }
        for d in &self.negatives {
            out.extend_from_slice(&d.to_bytes());
        }
        out.extend_from_slice(&self.template);
        out
    }

    /// Reads [`Reference::to_bytes`]'s form back. Any damage is an error
    /// naming the field; nothing panics.
    pub fn from_bytes(bytes: &[u8]) -> Result<Reference, ReferenceBytesError> {
        if bytes.len() < REFERENCE_MAGIC.len() + 1 || &bytes[..6] != REFERENCE_MAGIC {
            return Err(ReferenceBytesError::BadMagic);
        }
        if bytes[6] != REFERENCE_FORMAT_VERSION {
            return Err(ReferenceBytesError::UnsupportedVersion {
                found: bytes[6],
                supported: REFERENCE_FORMAT_VERSION,
            });
        }
        let mut r = Reader { bytes, at: 7 };
        let width = r.u32("width")? as usize;
        let height = r.u32("height")? as usize;
        let to_input = r.f32("to_input")?;
        let mut content = [0f32; 4];
        for c in &mut content {
            *c = r.f32("content")?;
        }
        let n = r.u32("keypoint count")? as usize;
        if n >= 1 << KP_BITS {
            return Err(ReferenceBytesError::Invalid {
                field: "keypoint count",
                reason: "more keypoints than one logo can hold",
            });
        }
        let has_negatives = match r.take(1, "negatives flag")?[0] {
            0 => false,
            1 => true,
            _ => {
                return Err(ReferenceBytesError::Invalid {
                    field: "negatives flag",
                    reason: "not 0 or 1",
                });
            }
        };
        // Check the length up front so a damaged count cannot make us allocate.
        let need = n * (52 + if has_negatives { 32 } else { 0 }) + TEMPLATE * TEMPLATE;
        if bytes.len() - r.at < need {
            return Err(ReferenceBytesError::Truncated("keypoints"));
        }
        let mut keypoints = Vec::with_capacity(n);
        for _ in 0..n {
            keypoints.push(Keypoint {
                x: r.f32("keypoint x")?,
                y: r.f32("keypoint y")?,
                scale: r.f32("keypoint scale")?,
                angle: r.f32("keypoint angle")?,
                response: r.f32("keypoint response")?,
                descriptor: r.hash("keypoint descriptor")?,
            });
        }
        let mut negatives = Vec::new();
        if has_negatives {
            negatives.reserve_exact(n);
            for _ in 0..n {
                negatives.push(r.hash("negative descriptor")?);
            }
        }
        let template = r.take(TEMPLATE * TEMPLATE, "template")?.to_vec();
        if r.at != bytes.len() {
            return Err(ReferenceBytesError::TrailingBytes(bytes.len() - r.at));
        }
        Ok(Reference {
            features: Features {
                width,
                height,
                to_input,
                keypoints,
            },
            negatives,
            content,
            template,
        })
    }
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
/// and, if asked, the negative's descriptors at the same keypoints.
pub fn reference_features(
    rgb: &[u8],
    width: usize,
    height: usize,
    negatives: bool,
) -> Result<Reference, LocalError> {
    let gray = Gray::from_rgb(rgb, width, height).ok_or(LocalError::BadBuffer)?;
    if width == 0 || height == 0 {
        return Err(LocalError::BadBuffer);
    }
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
    let (features, negs) = if negatives {
        extract_with_negatives(&padded, &ExtractOptions::REFERENCE)
    } else {
        (extract(&padded, &ExtractOptions::REFERENCE), Vec::new())
    };
    let k = 1.0 / features.to_input;
    let content = [
        pad as f32 * k,
        pad as f32 * k,
        (pad + cw) as f32 * k,
        (pad + ch) as f32 * k,
    ];
    let frame = padded.resize(features.width, features.height);
    let template = sample_box(&frame, &content, |x, y| (x, y))
        .into_iter()
        .map(|v| v.round().clamp(0.0, 255.0) as u8)
        .collect();
    Ok(Reference {
        features,
        negatives: negs,
        content,
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
    let (features, image) = extract_with_frame(&gray, &ExtractOptions::QUERY);
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

/// The vocabulary tree's shape for keypoint descriptors.
const VOCAB: VocabParams = VocabParams {
    branching: 16,
    leaf_size: 64,
    seed: 0x10C0_5EA2_C4E5_0001,
};

/// A logo worth verifying: its one-to-one matches and their bound.
struct Candidate {
    slot: usize,
    kept: Vec<(usize, u32, usize)>,
    cs: Vec<Correspondence>,
    support: usize,
}

/// A logo's putative matches made one-to-one (a photo keypoint serves one
/// reference keypoint, its closest), as `(reference kp, distance, query kp)`
/// and as correspondences for the geometry. A negative's keypoint is the
/// drawn one, its angle turned by 180°.
fn correspondences(
    entry: &Entry,
    features: &Features,
    refs: &[(u32, u32, u32)],
) -> (Vec<(usize, u32, usize)>, Vec<Correspondence>) {
    let rk = &entry.reference.features.keypoints;
    let n_drawn = rk.len();
    // Per photo keypoint, its closest reference keypoint (the lowest on a
    // tie), placed where that photo keypoint first appears in reference
    // order.
    let mut by_query: Vec<(u32, u32, u32)> = refs.iter().map(|&(r, d, q)| (q, d, r)).collect();
    by_query.sort_unstable();
    let mut chosen: Vec<(u32, (usize, u32, usize))> = Vec::with_capacity(by_query.len());
    let mut at = 0;
    while at < by_query.len() {
        let (q, d, r) = by_query[at];
        let mut first_r = r;
        let mut end = at + 1;
        while end < by_query.len() && by_query[end].0 == q {
            first_r = first_r.min(by_query[end].2);
            end += 1;
        }
        chosen.push((first_r, (r as usize, d, q as usize)));
        at = end;
    }
    chosen.sort_unstable_by_key(|c| c.0);
    let kept: Vec<(usize, u32, usize)> = chosen.into_iter().map(|c| c.1).collect();
    let cs = kept
        .iter()
        .map(|&(r, d, q)| {
            let (a, b) = (&rk[r % n_drawn], &features.keypoints[q]);
            let rangle = if r >= n_drawn {
                a.angle + std::f32::consts::PI
            } else {
                a.angle
            };
            Correspondence {
                rx: a.x,
                ry: a.y,
                rscale: a.scale,
                rangle,
                qx: b.x,
                qy: b.y,
                qscale: b.scale,
                qangle: b.angle,
                distance: d,
            }
        })
        .collect();
    (kept, cs)
}

/// Registered logos for the local search. Inserts and removals take effect
/// at the next search.
#[derive(Clone)]
pub struct LocalBank {
    config: LocalConfig,
    slots: Vec<Option<Entry>>,
    free: Vec<usize>,
    by_id: HashMap<String, usize>,
    index: VocabTree,
}

/// The index ids of a logo's descriptors: `slot << 16 | k`, where `k < n`
/// are the keypoints as drawn and `n + i` the negative of keypoint `i`.
fn descriptor_ids(slot: usize, r: &Reference) -> impl Iterator<Item = (u64, Hash256)> + '_ {
    let n = r.features.keypoints.len();
    r.features
        .keypoints
        .iter()
        .map(|k| k.descriptor)
        .chain(r.negatives.iter().copied())
        .enumerate()
        .map(move |(k, d)| {
            debug_assert!(k < 2 * n);
            (((slot as u64) << KP_BITS) | k as u64, d)
        })
}

impl LocalBank {
    pub fn new(config: LocalConfig) -> LocalBank {
        LocalBank {
            config,
            slots: Vec::new(),
            free: Vec::new(),
            by_id: HashMap::new(),
            index: VocabTree::new(VOCAB),
        }
    }

    /// Builds a bank in one go from `(entry_id, right_id, reference)`
    /// triples (start-up from stored [`Reference::to_bytes`]): the tree is
    /// built once over all descriptors instead of growing insert by insert.
    /// Logos that cannot be registered are returned with the reason.
    pub fn from_references<I>(
        config: LocalConfig,
        entries: I,
    ) -> (LocalBank, Vec<(String, LocalError)>)
    where
        I: IntoIterator<Item = (String, String, Reference)>,
    {
        let mut bank = LocalBank::new(config);
        let mut refused = Vec::new();
        for (entry_id, right_id, reference) in entries {
            if let Err(e) = bank.check_reference(&reference) {
                refused.push((entry_id, e));
                continue;
            }
            if let Some(old) = bank.by_id.remove(&entry_id) {
                bank.slots[old] = None;
                bank.free.push(old);
            }
            let slot = match bank.free.pop() {
                Some(s) => s,
                None => {
                    bank.slots.push(None);
                    bank.slots.len() - 1
                }
            };
            bank.by_id.insert(entry_id.clone(), slot);
            bank.slots[slot] = Some(Entry {
                entry_id,
                right_id,
                reference,
            });
        }
        let pairs: Vec<(u64, Hash256)> = bank
            .slots
            .iter()
            .enumerate()
            .filter_map(|(slot, e)| e.as_ref().map(|e| (slot, e)))
            .flat_map(|(slot, e)| descriptor_ids(slot, &e.reference).collect::<Vec<_>>())
            .collect();
        bank.index = VocabTree::from_pairs(VOCAB, pairs);
        (bank, refused)
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

    /// Descriptors indexed (keypoints, and their negatives).
    pub fn keypoint_count(&self) -> usize {
        self.index.len()
    }

    /// Approximate heap bytes of the descriptor index.
    pub fn index_memory_bytes(&self) -> usize {
        self.index.memory_bytes()
    }

    fn check_reference(&self, reference: &Reference) -> Result<(), LocalError> {
        let n = reference.features.keypoints.len();
        if n < self.config.min_reference_keypoints {
            return Err(LocalError::TooFewKeypoints {
                found: n,
                needed: self.config.min_reference_keypoints,
            });
        }
        if 2 * n >= 1 << KP_BITS {
            return Err(LocalError::TooManyKeypoints(n));
        }
        if !reference.negatives.is_empty() && reference.negatives.len() != n {
            return Err(LocalError::BadNegatives {
                keypoints: n,
                negatives: reference.negatives.len(),
            });
        }
        if reference.template.len() != TEMPLATE * TEMPLATE {
            return Err(LocalError::BadTemplate(reference.template.len()));
        }
        Ok(())
    }

    /// Registers (or replaces) a logo. Returns its keypoint count.
    pub fn insert(
        &mut self,
        entry_id: &str,
        right_id: &str,
        reference: Reference,
    ) -> Result<usize, LocalError> {
        self.check_reference(&reference)?;
        let n = reference.features.keypoints.len();
        self.remove(entry_id);
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        for (id, d) in descriptor_ids(slot, &reference) {
            self.index.insert(id, d);
        }
        self.slots[slot] = Some(Entry {
            entry_id: entry_id.to_string(),
            right_id: right_id.to_string(),
            reference,
        });
        self.by_id.insert(entry_id.to_string(), slot);
        Ok(n)
    }

    /// After a batch of inserts: when more than an eighth of the descriptors were inserted
    /// since the index was last laid out, stores its codes word by word again (see
    /// `VocabTree::lay_out`). What every search finds stays the same, and it reads far fewer
    /// cache lines. Start-up registers every logo one by one, then calls this; a logo or two
    /// added to a running server do not pay for copying the whole index.
    pub fn lay_out(&mut self) {
        if self.index.scattered() * 8 > self.index.len() {
            self.index.lay_out();
        }
    }

    /// Removes a logo; returns whether it was registered.
    pub fn remove(&mut self, entry_id: &str) -> bool {
        let Some(slot) = self.by_id.remove(entry_id) else {
            return false;
        };
        if let Some(e) = self.slots[slot].take() {
            for (id, _) in descriptor_ids(slot, &e.reference) {
                self.index.remove(id);
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
        // Flat tables indexed by logo slot (no hashing on this path: a photo
        // has thousands of keypoints, each with dozens of neighbours).
        let n_slots = self.slots.len();
        // Per photo keypoint: each logo's best (distance, reference keypoint)
        // and second-best distance, valid where `seen[slot] == qi`.
        let mut seen: Vec<u32> = vec![u32::MAX; n_slots];
        let mut best_here: Vec<(u32, u32, u32)> = vec![(0, 0, 0); n_slots];
        let mut touched: Vec<usize> = Vec::new();
        // Per logo: every (reference keypoint, distance, photo keypoint) kept.
        let mut hits: Vec<Vec<(u32, u32, u32)>> = vec![Vec::new(); n_slots];
        let mut neighbours: Vec<Neighbor> = Vec::new();
        for (qi, qk) in features.keypoints.iter().enumerate() {
            let qi = qi as u32;
            self.index.search_into(
                &qk.descriptor,
                cfg.descriptor_radius,
                cfg.checks,
                &mut neighbours,
            );
            if cfg.max_neighbourhood != 0 && neighbours.len() > cfg.max_neighbourhood {
                continue;
            }
            touched.clear();
            for nb in &neighbours {
                let slot = (nb.id >> KP_BITS) as usize;
                let kp = (nb.id & ((1 << KP_BITS) - 1)) as u32;
                let (Some(stamp), Some(e)) = (seen.get_mut(slot), best_here.get_mut(slot)) else {
                    continue;
                };
                if *stamp != qi {
                    *stamp = qi;
                    *e = (nb.distance, kp, u32::MAX);
                    touched.push(slot);
                } else if nb.distance < e.0 {
                    *e = (nb.distance, kp, e.0);
                } else if nb.distance < e.2 {
                    e.2 = nb.distance;
                }
            }
            for &slot in &touched {
                let (d, kp, second) = best_here[slot];
                if second != u32::MAX && d as f32 > cfg.ratio * second as f32 {
                    continue;
                }
                hits[slot].push((kp, d, qi));
            }
        }
        // Each logo with enough matches: its one-to-one correspondences and
        // the most of them that can agree on one placement. That bound
        // (`consistent_support`) drops logos that cannot verify before any
        // sampling, and ranks the rest: with thousands of logos, many collect
        // a few chance matches, but those scatter.
        let mut pending: Vec<(usize, usize)> = Vec::new();
        for (slot, refs) in hits.iter_mut().enumerate() {
            if refs.len() < cfg.min_inliers {
                continue;
            }
            // One match per reference keypoint: its closest photo keypoint
            // (the first on a tie).
            refs.sort_unstable();
            refs.dedup_by_key(|h| h.0);
            if refs.len() >= cfg.min_inliers {
                pending.push((refs.len(), slot));
            }
        }
        // Most matches first. The bound never exceeds a logo's number of
        // matches, so once `max_candidates` logos have a bound above the
        // next logo's number of matches, no later logo can enter the list.
        pending.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let few = pending.len() <= cfg.max_candidates.max(1);
        let mut candidates: Vec<Candidate> = Vec::new();
        let mut top: std::collections::BinaryHeap<std::cmp::Reverse<usize>> =
            std::collections::BinaryHeap::new();
        for (matches, slot) in pending {
            if top.len() >= cfg.max_candidates.max(1) && top.peek().is_some_and(|r| r.0 > matches) {
                break;
            }
            let Some(Some(entry)) = self.slots.get(slot) else {
                continue;
            };
            let (kept, cs) = correspondences(entry, features, &hits[slot]);
            // When every logo with matches is verified anyway, the bound
            // would change nothing: a logo under it fails verification too.
            let support = if few {
                cs.len()
            } else {
                let [x0, y0, x1, y1] = entry.reference.content;
                let diag = (x1 - x0).hypot(y1 - y0);
                let centre = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
                consistent_support(&cs, centre, diag, &cfg.ransac)
            };
            if support >= cfg.min_inliers {
                top.push(std::cmp::Reverse(support));
                if top.len() > cfg.max_candidates.max(1) {
                    top.pop();
                }
                candidates.push(Candidate {
                    slot,
                    kept,
                    cs,
                    support,
                });
            }
        }
        candidates.sort_by(|a, b| {
            b.support
                .cmp(&a.support)
                .then(b.cs.len().cmp(&a.cs.len()))
                .then(a.slot.cmp(&b.slot))
        });
        candidates.truncate(cfg.max_candidates);
        let mut out = Vec::new();
        for c in candidates {
            let Some(Some(entry)) = self.slots.get(c.slot) else {
                continue;
            };
            if let Some(m) = self.verify(entry, query, &c.kept, &c.cs) {
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

    fn verify(
        &self,
        entry: &Entry,
        query: &Query,
        kept: &[(usize, u32, usize)],
        cs: &[Correspondence],
    ) -> Option<LocalMatch> {
        let cfg = &self.config;
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
            let (affine, sub_inliers) = refine_affine(&sub, &placement, diag, &cfg.ransac);
            let inliers: Vec<usize> = sub_inliers.iter().map(|&i| active[i]).collect();
            if let Some(m) = self.check(entry, query, cs, kept, &inliers, affine) {
                return Some(m);
            }
            let inliers: Vec<usize> = placement.inliers.iter().map(|&i| active[i]).collect();
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
        t: Affine,
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
            .filter(|&&i| kept[i].0 >= entry.reference.features.keypoints.len())
            .count();
        let mean_distance = inliers.iter().map(|&i| cs[i].distance as f32).sum::<f32>() / n as f32;
        let negative = negatives * 2 > n;
        // Verification: warp the photo back onto the artwork and correlate,
        // allowing a shift of up to two template cells and a 6% scale error
        // for a placement estimated from few keypoints.
        let step = ((x1 - x0) / TEMPLATE as f32, (y1 - y0) / TEMPLATE as f32);
        let (mx, my) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
        let template: Vec<f32> = entry
            .reference
            .template
            .iter()
            .map(|&v| f32::from(v))
            .collect();
        let mut best = f32::MIN;
        let mut best_sample = Vec::new();
        for zoom in [0.94f32, 1.0, 1.06] {
            for dj in -2i32..=2 {
                for di in -2i32..=2 {
                    let (ox, oy) = (di as f32 * step.0, dj as f32 * step.1);
                    let sampled = sample_box(&query.image, &entry.reference.content, |x, y| {
                        t.apply(mx + (x - mx) * zoom + ox, my + (y - my) * zoom + oy)
                    });
                    if let Some(c) = correlation(&template, &sampled) {
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
        let edge_correlation = correlation(&edges(&template), &edges(&best_sample)).unwrap_or(0.0);
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn reference_strategy() -> impl Strategy<Value = Reference> {
        let kp = (
            -1e4f32..1e4,
            -1e4f32..1e4,
            0.1f32..20.0,
            -4.0f32..4.0,
            -1e6f32..1e6,
            any::<[u64; 4]>(),
        )
            .prop_map(|(x, y, scale, angle, response, d)| Keypoint {
                x,
                y,
                scale,
                angle,
                response,
                descriptor: Hash256(d),
            });
        (
            prop::collection::vec(kp, 0..40),
            any::<bool>(),
            any::<[u64; 4]>(),
            (1usize..5000, 1usize..5000, 0.01f32..100.0),
            prop::collection::vec(any::<u8>(), TEMPLATE * TEMPLATE),
        )
            .prop_map(
                |(keypoints, neg, seed, (width, height, to_input), template)| {
                    let negatives = if neg {
                        keypoints
                            .iter()
                            .map(|k| Hash256([!k.descriptor.0[0], seed[1], seed[2], seed[3]]))
                            .collect()
                    } else {
                        Vec::new()
                    };
                    Reference {
                        features: Features {
                            width,
                            height,
                            to_input,
                            keypoints,
                        },
                        negatives,
                        content: [1.0, 2.0, 300.5, 200.25],
                        template,
                    }
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn bytes_round_trip(r in reference_strategy()) {
            let bytes = r.to_bytes();
            prop_assert_eq!(Reference::from_bytes(&bytes), Ok(r.clone()));
            // Every truncation is an error, never a panic; so is trailing data.
            for cut in [0, 3, 7, 20, bytes.len() / 2, bytes.len() - 1] {
                prop_assert!(Reference::from_bytes(&bytes[..cut.min(bytes.len())]).is_err());
            }
            let mut long = bytes.clone();
            long.push(0);
            prop_assert_eq!(Reference::from_bytes(&long), Err(ReferenceBytesError::TrailingBytes(1)));
        }

        #[test]
        fn damaged_bytes_never_panic(r in reference_strategy(), at in any::<usize>(), v in any::<u8>()) {
            let mut bytes = r.to_bytes();
            let i = at % bytes.len();
            bytes[i] = v;
            let _ = Reference::from_bytes(&bytes);
        }
    }

    #[test]
    fn typed_errors_name_what_is_wrong() {
        assert_eq!(
            Reference::from_bytes(b"nope"),
            Err(ReferenceBytesError::BadMagic)
        );
        let mut v = b"SSLOGO".to_vec();
        v.push(9);
        assert_eq!(
            Reference::from_bytes(&v),
            Err(ReferenceBytesError::UnsupportedVersion {
                found: 9,
                supported: REFERENCE_FORMAT_VERSION
            })
        );
        v[6] = REFERENCE_FORMAT_VERSION;
        assert_eq!(
            Reference::from_bytes(&v),
            Err(ReferenceBytesError::Truncated("width"))
        );
        // A NaN is refused, naming the field.
        let mut w = v.clone();
        w.extend_from_slice(&10u32.to_le_bytes());
        w.extend_from_slice(&10u32.to_le_bytes());
        w.extend_from_slice(&f32::NAN.to_le_bytes());
        assert!(matches!(
            Reference::from_bytes(&w),
            Err(ReferenceBytesError::Invalid {
                field: "to_input",
                ..
            })
        ));
    }

    #[test]
    fn a_stored_logo_is_found_like_a_fresh_one() {
        // A blocky black-on-white artwork, registered from its stored bytes, is found in a
        // photo that shows it at 60% size on a grey background.
        let (w, h) = (200usize, 200usize);
        let mut rgb = vec![255u8; w * h * 3];
        for y in 30..170 {
            for x in 30..170 {
                let cell = (x / 20 * 7 + y / 20 * 13) % 5;
                if cell < 2 {
                    let i = (y * w + x) * 3;
                    rgb[i..i + 3].fill(0);
                }
            }
        }
        let r = reference_features(&rgb, w, h, true).unwrap();
        assert!(!r.negatives.is_empty());
        let stored = Reference::from_bytes(&r.to_bytes()).unwrap();
        let (bank, refused) = LocalBank::from_references(
            LocalConfig::default(),
            vec![("e".to_string(), "r".to_string(), stored)],
        );
        assert!(refused.is_empty());
        let (pw, ph) = (400usize, 300usize);
        let mut photo = vec![140u8; pw * ph * 3];
        for y in 0..120 {
            for x in 0..120 {
                let (sx, sy) = (x * w / 120, y * h / 120);
                let s = (sy * w + sx) * 3;
                let d = ((y + 90) * pw + x + 150) * 3;
                photo[d..d + 3].copy_from_slice(&rgb[s..s + 3]);
            }
        }
        let q = query_features(&photo, pw, ph).unwrap();
        let found = bank.find(&q);
        assert_eq!(
            found.first().map(|m| m.right_id.as_str()),
            Some("r"),
            "{found:?}"
        );
    }
}
