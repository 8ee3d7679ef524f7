//! Oriented binary descriptors over a scale pyramid (the ORB recipe:
//! Rublee et al., ICCV 2011): FAST corners at each level, the patch's
//! intensity-centroid orientation, and 256 pixel-pair comparisons rotated
//! to that orientation, so a logo matches when it is scaled, rotated,
//! or drawn in other colours of the same polarity.
//!
//! The comparison pattern is generated, not learned: 256 pairs drawn from an
//! isotropic Gaussian (σ = patch/5, as in BRIEF's best-performing "G II"
//! layout, Calonder et al., ECCV 2010) with a fixed seed.

use std::sync::OnceLock;

use serde::Serialize;
use shopshield_hamming::Hash256;

use crate::fast;
use crate::gray::Gray;

/// Sample points of the pattern lie within this radius of the keypoint.
const PATTERN_RADIUS: f32 = 13.0;
/// Orientation is measured over a disc of this radius.
const ORIENT_RADIUS: i32 = 15;
/// The descriptor compares 5×5 box means (radius 2).
const SMOOTH_RADIUS: usize = 2;
/// Keypoints keep this far from every edge of their level.
pub const BORDER: usize = 17;
/// Orientation bins of the precomputed rotated patterns (12° each).
const ANGLE_BINS: usize = 30;

/// One local feature.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Keypoint {
    /// Position in the frame of the image features were extracted from
    /// (after the `max_side` normalisation, see [`Features::to_input`]).
    pub x: f32,
    pub y: f32,
    /// Scale of the pyramid level it was found at (1, 1.25, 1.5625...).
    pub scale: f32,
    /// Orientation in radians.
    pub angle: f32,
    /// Harris response at its level.
    pub response: f32,
    /// 256 comparison bits.
    pub descriptor: Hash256,
}

/// Extraction settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ExtractOptions {
    /// The image is resampled so its longer side is this long (up or down).
    pub max_side: usize,
    /// Pyramid levels (each `scale_factor` smaller than the one before).
    pub levels: usize,
    pub scale_factor: f32,
    /// Most features kept over all levels.
    pub max_features: usize,
    /// FAST intensity threshold.
    pub fast_threshold: u8,
    /// A smaller image is enlarged at most this much towards `max_side`.
    pub max_upscale: f32,
}

impl ExtractOptions {
    /// For registered logos: normalised to 320 px, 6 levels.
    pub const REFERENCE: ExtractOptions = ExtractOptions {
        max_side: 320,
        levels: 6,
        scale_factor: 1.25,
        max_features: 600,
        fast_threshold: 20,
        max_upscale: 16.0,
    };
    /// For listing photos: normalised to 1024 px (enlarged at most 2×),
    /// 8 levels, so a logo covering a tenth to the whole of the photo meets
    /// the reference at some level.
    pub const QUERY: ExtractOptions = ExtractOptions {
        max_side: 1024,
        levels: 8,
        scale_factor: 1.25,
        max_features: 4000,
        fast_threshold: 20,
        max_upscale: 2.0,
    };
}

/// The features of one image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Features {
    /// Size of the normalised frame the keypoints are in.
    pub width: usize,
    pub height: usize,
    /// Multiply keypoint coordinates by this to get input-image pixels.
    pub to_input: f32,
    pub keypoints: Vec<Keypoint>,
}

struct Pattern {
    /// `[bin][pair] = (x1, y1, x2, y2)` offsets, rotated to the bin's angle.
    rotated: Vec<[(i8, i8, i8, i8); 256]>,
}

fn pattern() -> &'static Pattern {
    static P: OnceLock<Pattern> = OnceLock::new();
    P.get_or_init(|| {
        // SplitMix64 → uniform → Box-Muller normal, resampled until inside the radius.
        let mut state = 0x5EED_1065_u64;
        let mut uniform = move || {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            ((z >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        };
        let sigma = 31.0 / 5.0;
        let mut point = || loop {
            let (u1, u2) = (uniform(), uniform());
            let r = (-2.0 * u1.ln()).sqrt() * sigma;
            let (x, y) = (
                r * (2.0 * std::f64::consts::PI * u2).cos(),
                r * (2.0 * std::f64::consts::PI * u2).sin(),
            );
            if (x * x + y * y).sqrt() <= f64::from(PATTERN_RADIUS) {
                return (x as f32, y as f32);
            }
        };
        let base: Vec<((f32, f32), (f32, f32))> = (0..256).map(|_| (point(), point())).collect();
        let rotated = (0..ANGLE_BINS)
            .map(|bin| {
                let a = bin as f32 * std::f32::consts::TAU / ANGLE_BINS as f32;
                let (s, c) = a.sin_cos();
                let rot = |(x, y): (f32, f32)| {
                    (
                        (c * x - s * y).round().clamp(-15.0, 15.0) as i8,
                        (s * x + c * y).round().clamp(-15.0, 15.0) as i8,
                    )
                };
                let mut out = [(0i8, 0i8, 0i8, 0i8); 256];
                for (o, &(p, q)) in out.iter_mut().zip(&base) {
                    let (a, b) = rot(p);
                    let (c2, d) = rot(q);
                    *o = (a, b, c2, d);
                }
                out
            })
            .collect();
        Pattern { rotated }
    })
}

/// Half-widths of the disc's rows, `span[dy + R]` for `dy` in `-R..=R`.
fn disc_spans() -> &'static [usize; 2 * ORIENT_RADIUS as usize + 1] {
    static SPANS: OnceLock<[usize; 2 * ORIENT_RADIUS as usize + 1]> = OnceLock::new();
    SPANS.get_or_init(|| {
        let mut out = [0usize; 2 * ORIENT_RADIUS as usize + 1];
        for (k, o) in out.iter_mut().enumerate() {
            let dy = k as i32 - ORIENT_RADIUS;
            *o = ((ORIENT_RADIUS * ORIENT_RADIUS - dy * dy) as f32).sqrt() as usize;
        }
        out
    })
}

/// The intensity-centroid angle of the disc around `(x, y)`.
fn orientation(img: &Gray, x: usize, y: usize) -> f32 {
    let (mut m10, mut m01) = (0i32, 0i32);
    let w = img.width;
    let spans = disc_spans();
    for (k, &span) in spans.iter().enumerate() {
        let dy = k as i32 - ORIENT_RADIUS;
        let row = (y as i32 + dy) as usize * w + x;
        let line = &img.px[row - span..=row + span];
        let mut sum = 0i32;
        let mut moment = 0i32;
        for (i, &v) in line.iter().enumerate() {
            let v = i32::from(v);
            sum += v;
            moment += (i as i32 - span as i32) * v;
        }
        m10 += moment;
        m01 += dy * sum;
    }
    (m01 as f32).atan2(m10 as f32)
}

/// The pattern's pairs as index offsets into an image of one width, relative to the
/// keypoint: `[bin][pair] = (first, second)`. Built once per pyramid level, so describing
/// a keypoint is 512 loads at fixed offsets.
struct LevelPattern {
    width: usize,
    offsets: Vec<[(i32, i32); 256]>,
}

impl LevelPattern {
    fn new(width: usize) -> LevelPattern {
        let w = width as i32;
        let offsets = pattern()
            .rotated
            .iter()
            .map(|bin| {
                let mut out = [(0i32, 0i32); 256];
                for (o, &(x1, y1, x2, y2)) in out.iter_mut().zip(bin.iter()) {
                    *o = (
                        i32::from(y1) * w + i32::from(x1),
                        i32::from(y2) * w + i32::from(x2),
                    );
                }
                out
            })
            .collect();
        LevelPattern { width, offsets }
    }
}

/// The descriptor of the keypoint at `(x, y)` (at least [`BORDER`] from every edge) at
/// `angle`; with `NEGATIVE`, the descriptor the photographic negative of the image has at
/// the same keypoint. The negative's intensity centroid points the opposite way (the disc's
/// moments change sign), so its pattern is turned by 180°, and every comparison `a < b`
/// becomes `255 - a < 255 - b`, i.e. `a > b`. So a logo's negative costs one more pass
/// over its keypoints, not a second extraction.
fn describe<const NEGATIVE: bool>(
    smooth: &Gray,
    pattern: &LevelPattern,
    x: usize,
    y: usize,
    angle: f32,
) -> Hash256 {
    debug_assert_eq!(smooth.width, pattern.width);
    let angle = if NEGATIVE {
        angle + std::f32::consts::PI
    } else {
        angle
    };
    let turn = angle.rem_euclid(std::f32::consts::TAU) / std::f32::consts::TAU;
    let bin = ((turn * ANGLE_BINS as f32).round() as usize) % ANGLE_BINS;
    // The pattern lies within 15 pixels of the keypoint on each axis.
    let w = smooth.width;
    let reach = 15 * w + 15;
    let base = y * w + x;
    let patch = &smooth.px[base - reach..=base + reach];
    let at = |o: i32| patch[(reach as isize + o as isize) as usize];
    let mut words = [0u64; 4];
    for (word, pairs) in words.iter_mut().zip(pattern.offsets[bin].chunks_exact(64)) {
        // Pair k of the 64 is bit 63 - k.
        let mut bits = 0u64;
        for &(p, q) in pairs {
            let (a, b) = (at(p), at(q));
            bits = (bits << 1) | u64::from(if NEGATIVE { a > b } else { a < b });
        }
        *word = bits;
    }
    Hash256(words)
}

/// Features of a grayscale image: resampled so its longer side is
/// `opts.max_side`, then FAST corners and descriptors at every pyramid level
/// (each level resampled from the one above it).
pub fn extract(img: &Gray, opts: &ExtractOptions) -> Features {
    extract_inner(img, opts, false).0
}

/// [`extract`], and the image resampled to the features' frame (the
/// pyramid's first level), which the search's verification reads.
pub(crate) fn extract_with_frame(img: &Gray, opts: &ExtractOptions) -> (Features, Gray) {
    let (features, _, frame) = extract_inner(img, opts, false);
    (features, frame)
}

/// [`extract`], plus the descriptors the image's photographic negative has at the same
/// keypoints (its corners are the same: FAST and Harris are symmetric in brightness).
pub fn extract_with_negatives(img: &Gray, opts: &ExtractOptions) -> (Features, Vec<Hash256>) {
    let (features, negatives, _) = extract_inner(img, opts, true);
    (features, negatives)
}

fn extract_inner(
    img: &Gray,
    opts: &ExtractOptions,
    negatives: bool,
) -> (Features, Vec<Hash256>, Gray) {
    let longer = img.width.max(img.height);
    if longer == 0 || opts.max_side == 0 {
        return (
            Features {
                width: img.width,
                height: img.height,
                to_input: 1.0,
                keypoints: Vec::new(),
            },
            Vec::new(),
            img.clone(),
        );
    }
    let k = (opts.max_side as f32 / longer as f32).min(opts.max_upscale.max(1.0));
    let base_w = ((img.width as f32 * k).round() as usize).max(1);
    let base_h = ((img.height as f32 * k).round() as usize).max(1);
    let levels = opts.levels.max(1);
    let factor = opts.scale_factor.max(1.05);
    // Budget per level, decreasing with the level's linear size (as ORB).
    let weights: Vec<f32> = (0..levels).map(|l| factor.powi(-(l as i32))).collect();
    let total: f32 = weights.iter().sum();
    let mut keypoints = Vec::new();
    let mut negs = Vec::new();
    let mut score = Vec::new();
    let frame = img.resize(base_w, base_h);
    let mut layer = frame.clone();
    for (level, weight) in weights.iter().enumerate() {
        let scale = factor.powi(level as i32);
        let lw = (base_w as f32 / scale).round() as usize;
        let lh = (base_h as f32 / scale).round() as usize;
        if lw <= 2 * BORDER + 8 || lh <= 2 * BORDER + 8 {
            break;
        }
        if level > 0 {
            layer = layer.resize(lw, lh);
        }
        let budget = ((opts.max_features as f32 * weight / total).ceil() as usize).max(1);
        let corners = fast::detect_with(&layer, opts.fast_threshold, BORDER, budget, &mut score);
        if corners.is_empty() {
            continue;
        }
        let smooth = layer.box_blur(SMOOTH_RADIUS);
        let level_pattern = LevelPattern::new(smooth.width);
        // Level coordinates to base coordinates (pixel centres).
        let sx = base_w as f32 / lw as f32;
        let sy = base_h as f32 / lh as f32;
        for c in corners {
            let angle = orientation(&layer, c.x, c.y);
            let descriptor = describe::<false>(&smooth, &level_pattern, c.x, c.y, angle);
            if negatives {
                negs.push(describe::<true>(&smooth, &level_pattern, c.x, c.y, angle));
            }
            keypoints.push(Keypoint {
                x: (c.x as f32 + 0.5) * sx - 0.5,
                y: (c.y as f32 + 0.5) * sy - 0.5,
                scale,
                angle,
                response: c.response,
                descriptor,
            });
        }
    }
    (
        Features {
            width: base_w,
            height: base_h,
            to_input: 1.0 / k,
            keypoints,
        },
        negs,
        frame,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scene(w: usize, h: usize) -> Gray {
        // Deterministic blocky texture: many corners.
        let mut g = Gray::filled(w, h, 0);
        for y in 0..h {
            for x in 0..w {
                let cell = (x / 12) * 7919 + (y / 12) * 104_729;
                g.px[y * w + x] = ((cell.wrapping_mul(2_654_435_761) >> 7) % 256) as u8;
            }
        }
        g
    }

    /// The descriptor written the plain way: the rotated pattern's pixels read by
    /// coordinates, bit 63 - k % 64 of word k / 64 set when pair k compares true.
    fn plain_descriptor(smooth: &Gray, x: usize, y: usize, bin: usize, negative: bool) -> Hash256 {
        let mut words = [0u64; 4];
        for (k, &(x1, y1, x2, y2)) in pattern().rotated[bin].iter().enumerate() {
            let a = smooth.at(
                (x as isize + isize::from(x1)) as usize,
                (y as isize + isize::from(y1)) as usize,
            );
            let b = smooth.at(
                (x as isize + isize::from(x2)) as usize,
                (y as isize + isize::from(y2)) as usize,
            );
            if (negative && a > b) || (!negative && a < b) {
                words[k / 64] |= 1 << (63 - (k % 64));
            }
        }
        Hash256(words)
    }

    #[test]
    fn offset_tables_read_the_same_pixels_as_the_pattern() {
        let g = scene(97, 61).box_blur(SMOOTH_RADIUS);
        let table = LevelPattern::new(g.width);
        for bin in 0..ANGLE_BINS {
            let angle = bin as f32 * std::f32::consts::TAU / ANGLE_BINS as f32;
            for (x, y) in [
                (BORDER, BORDER),
                (40, 30),
                (97 - BORDER - 1, 61 - BORDER - 1),
            ] {
                assert_eq!(
                    describe::<false>(&g, &table, x, y, angle),
                    plain_descriptor(&g, x, y, bin, false),
                    "bin {bin} at {x},{y}"
                );
                let turned = (bin + ANGLE_BINS / 2) % ANGLE_BINS;
                assert_eq!(
                    describe::<true>(&g, &table, x, y, angle),
                    plain_descriptor(&g, x, y, turned, true),
                    "negative, bin {bin} at {x},{y}"
                );
            }
        }
    }

    #[test]
    fn pattern_stays_inside_the_border() {
        for bin in &pattern().rotated {
            for &(a, b, c, d) in bin.iter() {
                for v in [a, b, c, d] {
                    assert!(i32::from(v).abs() <= 15);
                }
            }
        }
    }

    #[test]
    fn extraction_is_deterministic_and_within_frame() {
        let g = scene(300, 200);
        let f = extract(&g, &ExtractOptions::QUERY);
        assert!(f.keypoints.len() > 50, "{}", f.keypoints.len());
        assert_eq!(f, extract(&g, &ExtractOptions::QUERY));
        for k in &f.keypoints {
            assert!(k.x >= 0.0 && k.y >= 0.0 && k.x < f.width as f32 && k.y < f.height as f32);
        }
        assert!(f.keypoints.len() <= ExtractOptions::QUERY.max_features + 8);
    }

    #[test]
    fn negatives_are_the_inverted_image_s_descriptors() {
        let g = scene(200, 160);
        let opts = ExtractOptions {
            max_side: 200,
            ..ExtractOptions::REFERENCE
        };
        let (f, negs) = extract_with_negatives(&g, &opts);
        let inv = extract(&g.inverted(), &opts);
        assert_eq!(f.keypoints.len(), negs.len());
        // The inverted image has the same corners (resampling rounds a little
        // differently, so ranking ties may fall otherwise): where it has the
        // same keypoint, our negative descriptor is its descriptor, but for
        // comparisons of equal values and angle-bin rounding.
        let mut close = 0;
        for (a, n) in f.keypoints.iter().zip(&negs) {
            let same = inv
                .keypoints
                .iter()
                .find(|b| (b.x, b.y, b.scale) == (a.x, a.y, a.scale));
            close += usize::from(same.is_some_and(|b| n.distance(&b.descriptor) <= 24));
        }
        assert!(close * 10 >= negs.len() * 9, "{close} of {}", negs.len());
    }

    #[test]
    fn descriptors_survive_rotation_of_the_patch() {
        // The same scene rotated 90°: each original keypoint should have a
        // descriptor within 64 bits among the rotated image's keypoints.
        let g = scene(240, 240);
        let mut r = Gray::filled(240, 240, 0);
        for y in 0..240 {
            for x in 0..240 {
                r.px[x * 240 + (239 - y)] = g.px[y * 240 + x];
            }
        }
        let opts = ExtractOptions {
            max_side: 240,
            ..ExtractOptions::REFERENCE
        };
        let a = extract(&g, &opts);
        let b = extract(&r, &opts);
        let close = a
            .keypoints
            .iter()
            .filter(|k| {
                b.keypoints
                    .iter()
                    .any(|q| q.descriptor.distance(&k.descriptor) <= 64)
            })
            .count();
        assert!(
            close * 2 > a.keypoints.len(),
            "{close} of {}",
            a.keypoints.len()
        );
    }
}
