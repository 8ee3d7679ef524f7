//! Geometric verification: a similarity transform (scale, rotation,
//! translation) from reference-logo keypoints to listing-photo keypoints,
//! found by RANSAC over putative matches (Fischler & Bolles, 1981) and
//! refined by least squares. A logo is present only where many matches
//! agree on one placement: matches that merely look alike scatter.

use serde::Serialize;

/// One putative match: a reference keypoint and a query keypoint.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Correspondence {
    /// Reference position, scale and angle.
    pub rx: f32,
    pub ry: f32,
    pub rscale: f32,
    pub rangle: f32,
    /// Query position, scale and angle.
    pub qx: f32,
    pub qy: f32,
    pub qscale: f32,
    pub qangle: f32,
    /// Descriptor distance.
    pub distance: u32,
}

/// `q = a·r + t` in complex notation: `a = s·e^{iθ}`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Similarity {
    pub ar: f32,
    pub ai: f32,
    pub tx: f32,
    pub ty: f32,
}

impl Similarity {
    /// Maps a reference point into the query frame.
    pub fn apply(&self, x: f32, y: f32) -> (f32, f32) {
        (
            self.ar * x - self.ai * y + self.tx,
            self.ai * x + self.ar * y + self.ty,
        )
    }

    pub fn scale(&self) -> f32 {
        self.ar.hypot(self.ai)
    }

    /// Rotation in degrees, in (−180, 180].
    pub fn rotation_degrees(&self) -> f32 {
        self.ai.atan2(self.ar).to_degrees()
    }

    fn from_two(c1: &Correspondence, c2: &Correspondence) -> Option<Similarity> {
        let (dx, dy) = (c2.rx - c1.rx, c2.ry - c1.ry);
        let (ex, ey) = (c2.qx - c1.qx, c2.qy - c1.qy);
        let den = dx * dx + dy * dy;
        if den < 100.0 {
            return None;
        }
        // a = e / d (complex division).
        let ar = (ex * dx + ey * dy) / den;
        let ai = (ey * dx - ex * dy) / den;
        let tx = c1.qx - (ar * c1.rx - ai * c1.ry);
        let ty = c1.qy - (ai * c1.rx + ar * c1.ry);
        Some(Similarity { ar, ai, tx, ty })
    }

    /// Least-squares similarity over the given correspondences.
    fn fit(cs: &[Correspondence], idx: &[usize]) -> Option<Similarity> {
        let n = idx.len() as f32;
        if idx.len() < 2 {
            return None;
        }
        let (mut mrx, mut mry, mut mqx, mut mqy) = (0f32, 0f32, 0f32, 0f32);
        for &i in idx {
            mrx += cs[i].rx;
            mry += cs[i].ry;
            mqx += cs[i].qx;
            mqy += cs[i].qy;
        }
        (mrx, mry, mqx, mqy) = (mrx / n, mry / n, mqx / n, mqy / n);
        let (mut num_r, mut num_i, mut den) = (0f32, 0f32, 0f32);
        for &i in idx {
            let (bx, by) = (cs[i].rx - mrx, cs[i].ry - mry);
            let (qx, qy) = (cs[i].qx - mqx, cs[i].qy - mqy);
            // q · conj(b)
            num_r += qx * bx + qy * by;
            num_i += qy * bx - qx * by;
            den += bx * bx + by * by;
        }
        if den <= f32::EPSILON {
            return None;
        }
        let (ar, ai) = (num_r / den, num_i / den);
        Some(Similarity {
            ar,
            ai,
            tx: mqx - (ar * mrx - ai * mry),
            ty: mqy - (ai * mrx + ar * mry),
        })
    }
}

/// `q = A r + t` with a general 2x2 `A`: a similarity plus foreshortening
/// (a logo printed on a surface seen at an angle, or stretched).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Affine {
    pub a: f32,
    pub b: f32,
    pub c: f32,
    pub d: f32,
    pub tx: f32,
    pub ty: f32,
}

impl Affine {
    pub fn from_similarity(s: &Similarity) -> Affine {
        Affine {
            a: s.ar,
            b: -s.ai,
            c: s.ai,
            d: s.ar,
            tx: s.tx,
            ty: s.ty,
        }
    }

    /// Maps a reference point into the query frame.
    pub fn apply(&self, x: f32, y: f32) -> (f32, f32) {
        (
            self.a * x + self.b * y + self.tx,
            self.c * x + self.d * y + self.ty,
        )
    }

    /// Mean linear scale (square root of the area ratio).
    pub fn scale(&self) -> f32 {
        (self.a * self.d - self.b * self.c).abs().sqrt()
    }

    /// Rotation of the nearest similarity, in degrees.
    pub fn rotation_degrees(&self) -> f32 {
        (self.c - self.b).atan2(self.a + self.d).to_degrees()
    }

    /// Ratio of the longer to the shorter axis of the unit circle's image
    /// (1 for a similarity), or infinity for a reflection or a collapse.
    pub fn anisotropy(&self) -> f32 {
        let det = self.a * self.d - self.b * self.c;
        if det <= f32::EPSILON {
            return f32::INFINITY;
        }
        let f = self.a * self.a + self.b * self.b + self.c * self.c + self.d * self.d;
        let disc = (f * f - 4.0 * det * det).max(0.0).sqrt();
        let (s1, s2) = (
            ((f + disc) / 2.0).sqrt(),
            ((f - disc) / 2.0).max(0.0).sqrt(),
        );
        if s2 <= f32::EPSILON {
            f32::INFINITY
        } else {
            s1 / s2
        }
    }

    /// Least-squares affine map over the given correspondences (at least
    /// three, not all on a line).
    pub fn fit(cs: &[Correspondence], idx: &[usize]) -> Option<Affine> {
        if idx.len() < 3 {
            return None;
        }
        let n = idx.len() as f64;
        let (mut mx, mut my, mut mu, mut mv) = (0f64, 0f64, 0f64, 0f64);
        for &i in idx {
            mx += f64::from(cs[i].rx);
            my += f64::from(cs[i].ry);
            mu += f64::from(cs[i].qx);
            mv += f64::from(cs[i].qy);
        }
        (mx, my, mu, mv) = (mx / n, my / n, mu / n, mv / n);
        let (mut sxx, mut sxy, mut syy) = (0f64, 0f64, 0f64);
        let (mut sux, mut suy, mut svx, mut svy) = (0f64, 0f64, 0f64, 0f64);
        for &i in idx {
            let (x, y) = (f64::from(cs[i].rx) - mx, f64::from(cs[i].ry) - my);
            let (u, v) = (f64::from(cs[i].qx) - mu, f64::from(cs[i].qy) - mv);
            sxx += x * x;
            sxy += x * y;
            syy += y * y;
            sux += u * x;
            suy += u * y;
            svx += v * x;
            svy += v * y;
        }
        let det = sxx * syy - sxy * sxy;
        if det.abs() < 1e-6 * (sxx * syy).max(1.0) {
            return None;
        }
        let a = (sux * syy - suy * sxy) / det;
        let b = (suy * sxx - sux * sxy) / det;
        let c = (svx * syy - svy * sxy) / det;
        let d = (svy * sxx - svx * sxy) / det;
        Some(Affine {
            a: a as f32,
            b: b as f32,
            c: c as f32,
            d: d as f32,
            tx: (mu - a * mx - b * my) as f32,
            ty: (mv - c * mx - d * my) as f32,
        })
    }
}

/// RANSAC settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RansacOptions {
    pub iterations: usize,
    /// Inlier radius in query pixels, at least this...
    pub min_tolerance: f32,
    /// ...or this fraction of the reference's diagonal as placed in the query.
    pub relative_tolerance: f32,
    /// A match's own scale ratio may differ from the transform's by this factor.
    pub scale_slack: f32,
    /// A match's own rotation may differ from the transform's by this many degrees.
    pub angle_slack_degrees: f32,
    /// After the similarity is found, refine to an affine map (foreshortening)
    /// when its axes differ by at most this factor (1: similarity only).
    #[serde(default = "default_max_anisotropy")]
    pub max_anisotropy: f32,
}

fn default_max_anisotropy() -> f32 {
    1.6
}

impl Default for RansacOptions {
    fn default() -> Self {
        RansacOptions {
            iterations: 500,
            min_tolerance: 4.0,
            relative_tolerance: 0.02,
            scale_slack: 1.6,
            angle_slack_degrees: 30.0,
            max_anisotropy: 1.6,
        }
    }
}

/// The best placement found and which correspondences agree with it.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    pub transform: Similarity,
    pub inliers: Vec<usize>,
}

/// Refines a similarity placement to an affine map: correspondences within
/// twice the tolerance of the similarity are fitted by least squares, and
/// those within the tolerance of the result counted. Kept when the map is
/// no more anisotropic than `opts.max_anisotropy` and at least as many agree.
pub fn refine_affine(
    cs: &[Correspondence],
    placement: &Placement,
    diag: f32,
    opts: &RansacOptions,
) -> (Affine, Vec<usize>) {
    let mut best = (
        Affine::from_similarity(&placement.transform),
        placement.inliers.clone(),
    );
    if opts.max_anisotropy <= 1.0 {
        return best;
    }
    for _ in 0..3 {
        let t = best.0;
        let tol = opts
            .min_tolerance
            .max(opts.relative_tolerance * diag * t.scale());
        let within = |t: &Affine, k: f32| -> Vec<usize> {
            cs.iter()
                .enumerate()
                .filter(|(_, c)| {
                    let (x, y) = t.apply(c.rx, c.ry);
                    (x - c.qx).powi(2) + (y - c.qy).powi(2) <= (k * tol).powi(2)
                })
                .map(|(i, _)| i)
                .collect()
        };
        let near = within(&t, 2.0);
        let Some(a) = Affine::fit(cs, &near) else {
            break;
        };
        if a.anisotropy() > opts.max_anisotropy {
            break;
        }
        let inl = within(&a, 1.0);
        if inl.len() < best.1.len() {
            break;
        }
        best = (a, inl);
    }
    best
}

fn wrap_degrees(d: f32) -> f32 {
    let r = (d + 180.0).rem_euclid(360.0) - 180.0;
    r.abs()
}

/// A hypothesis with its derived quantities computed once (checking every
/// correspondence against hundreds of hypotheses is RANSAC's whole cost).
struct Hypothesis {
    t: Similarity,
    scale: f32,
    degrees: f32,
    tol2: f32,
}

impl Hypothesis {
    fn new(t: Similarity, tol: f32) -> Hypothesis {
        Hypothesis {
            t,
            scale: t.scale(),
            degrees: t.rotation_degrees(),
            tol2: tol * tol,
        }
    }

    #[inline]
    fn agrees(&self, c: &Correspondence, own: &(f32, f32), opts: &RansacOptions) -> bool {
        let (x, y) = self.t.apply(c.rx, c.ry);
        let (dx, dy) = (x - c.qx, y - c.qy);
        if dx * dx + dy * dy > self.tol2 {
            return false;
        }
        let (ratio, turn) = *own;
        if !(ratio <= opts.scale_slack * self.scale && self.scale <= opts.scale_slack * ratio) {
            return false;
        }
        wrap_degrees(turn - self.degrees) <= opts.angle_slack_degrees
    }
}

/// Each correspondence's own scale ratio and turn (degrees), from its keypoints.
fn own_geometry(cs: &[Correspondence]) -> Vec<(f32, f32)> {
    cs.iter()
        .map(|c| (c.qscale / c.rscale, (c.qangle - c.rangle).to_degrees()))
        .collect()
}

fn inliers_of(
    cs: &[Correspondence],
    own: &[(f32, f32)],
    t: &Similarity,
    diag: f32,
    opts: &RansacOptions,
) -> Vec<usize> {
    let tol = opts
        .min_tolerance
        .max(opts.relative_tolerance * diag * t.scale());
    let h = Hypothesis::new(*t, tol);
    cs.iter()
        .zip(own)
        .enumerate()
        .filter(|(_, (c, o))| h.agrees(c, o, opts))
        .map(|(i, _)| i)
        .collect()
}

/// Finds the similarity most correspondences agree with. `diag` is the
/// reference frame's diagonal (for the relative tolerance). Deterministic:
/// the sampling sequence is seeded.
pub fn ransac(cs: &[Correspondence], diag: f32, opts: &RansacOptions) -> Option<Placement> {
    let n = cs.len();
    if n < 2 {
        return None;
    }
    let mut state = 0x00C0_FFEE_u64 ^ n as u64;
    let mut next = move |bound: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % bound as u64) as usize
    };
    let own = own_geometry(cs);
    let mut best: Option<Placement> = None;
    let exhaustive = n * (n - 1) / 2 <= opts.iterations;
    let mut pairs = Vec::new();
    if exhaustive {
        for i in 0..n {
            for j in i + 1..n {
                pairs.push((i, j));
            }
        }
    } else {
        for _ in 0..opts.iterations {
            let i = next(n);
            let j = next(n);
            if i != j {
                pairs.push((i, j));
            }
        }
    }
    for (i, j) in pairs {
        let Some(t) = Similarity::from_two(&cs[i], &cs[j]) else {
            continue;
        };
        let s = t.scale();
        if !(0.02..=50.0).contains(&s) {
            continue;
        }
        // The sample itself must agree in scale and rotation.
        let loose = Hypothesis::new(t, f32::INFINITY);
        if !loose.agrees(&cs[i], &own[i], opts) || !loose.agrees(&cs[j], &own[j], opts) {
            continue;
        }
        let inl = inliers_of(cs, &own, &t, diag, opts);
        if best.as_ref().is_none_or(|b| inl.len() > b.inliers.len()) {
            best = Some(Placement {
                transform: t,
                inliers: inl,
            });
        }
    }
    // Refine: refit on the inliers and recount, twice.
    let mut best = best?;
    for _ in 0..2 {
        let Some(t) = Similarity::fit(cs, &best.inliers) else {
            break;
        };
        let inl = inliers_of(cs, &own, &t, diag, opts);
        if inl.len() >= best.inliers.len() {
            best = Placement {
                transform: t,
                inliers: inl,
            };
        } else {
            break;
        }
    }
    Some(best)
}

/// An upper bound on the inliers of any placement [`ransac`] can return for
/// these correspondences, computed without sampling: a cheap test of whether a
/// logo's putative matches can possibly verify, and a better ranking of
/// candidate logos than their number of matches (chance matches are many but
/// scattered; a logo that is there has matches agreeing on one placement).
///
/// Each correspondence on its own predicts a placement: its scale ratio
/// `s_i = qscale / rscale`, its turn `θ_i = qangle − rangle`, and where the
/// reference point `centre` lands, `P_i = q_i + s_i·e^{iθ_i}·(centre − r_i)`.
/// Two correspondences *agree* when those predictions are close enough; the
/// bound is the largest number of correspondences agreeing with one of them
/// (itself included).
///
/// Why it bounds every placement: let `T` (scale `S`, rotation `Θ`,
/// inlier radius `tol`) be a placement and `i` one of its inliers, so
/// `|T(r_i) − q_i| ≤ tol`, `s_i/S ∈ [1/k, k]` (`k` = `scale_slack`) and
/// `|θ_i − Θ| ≤ α` (`angle_slack_degrees`). Since
/// `T(centre) = T(r_i) + S·e^{iΘ}·(centre − r_i)`,
/// `|P_i − T(centre)| ≤ tol + S·|u·e^{iφ} − 1|·ρ_i` with `u = s_i/S`,
/// `|φ| ≤ α` and `ρ_i = |centre − r_i|`; and `|u·e^{iφ} − 1| ≤ m`, the
/// larger of its values at `u = k` and `u = 1/k` with `φ = α` (it grows with
/// `φ` and is convex in `u`). For two inliers `i`, `j`:
/// `s_i/s_j ∈ [1/k², k²]`, `|θ_i − θ_j| ≤ 2α`, `S ≤ k·min(s_i, s_j)`, so
/// `tol ≤ max(min_tolerance, relative_tolerance·diag·k·min(s_i, s_j))` and
/// `|P_i − P_j| ≤ 2·tol + k·min(s_i, s_j)·m·(ρ_i + ρ_j)`: exactly the test
/// below (with a margin for rounding). So every inlier of `T` agrees with
/// every other, and any one of them has at least `|inliers|` agreeing.
/// Refinement refits `T` but its inliers obey the same three conditions for
/// the refitted transform, so the bound holds for the returned placement.
/// Property-tested against [`ransac`] below. Costs `O(n²)`, with no allocation
/// beyond one vector.
pub fn consistent_support(
    cs: &[Correspondence],
    centre: (f32, f32),
    diag: f32,
    opts: &RansacOptions,
) -> usize {
    struct Own {
        s: f32,
        cos: f32,
        sin: f32,
        px: f32,
        py: f32,
        rho: f32,
    }
    let k = opts.scale_slack.max(1.0);
    let alpha = opts.angle_slack_degrees.clamp(0.0, 180.0);
    let cos_a = alpha.to_radians().cos();
    let m = [k, k.recip()]
        .iter()
        .map(|&u| (u * u - 2.0 * u * cos_a + 1.0).max(0.0).sqrt())
        .fold(0f32, f32::max);
    let mut own: Vec<Own> = cs
        .iter()
        .filter(|c| c.rscale > 0.0 && c.qscale > 0.0)
        .map(|c| {
            let s = c.qscale / c.rscale;
            let (sin, cos) = (c.qangle - c.rangle).sin_cos();
            let (ar, ai) = (s * cos, s * sin);
            let (dx, dy) = (centre.0 - c.rx, centre.1 - c.ry);
            Own {
                s,
                cos,
                sin,
                px: c.qx + ar * dx - ai * dy,
                py: c.qy + ai * dx + ar * dy,
                rho: dx.hypot(dy),
            }
        })
        .collect();
    // By scale, so the correspondences within the scale window of one are a
    // contiguous run.
    own.sort_unstable_by(|a, b| a.s.total_cmp(&b.s));
    // Rounding margins: relative 1e-4 on scale, a tenth of a degree on turns.
    let k2 = k * k * 1.0001;
    // Turns differ by at most 2α where their unit vectors' dot product is at
    // least cos 2α.
    let min_dot = (2.0 * alpha + 0.1).min(180.0).to_radians().cos();
    let mut best = 0;
    let mut lo = 0;
    let mut hi = 0;
    for a in &own {
        while own[lo].s * k2 < a.s {
            lo += 1;
        }
        while hi < own.len() && own[hi].s <= a.s * k2 {
            hi += 1;
        }
        // Not even the whole window could beat the best so far.
        if hi - lo <= best {
            continue;
        }
        let mut support = 0;
        for b in &own[lo..hi] {
            if a.cos * b.cos + a.sin * b.sin < min_dot {
                continue;
            }
            let s_max = k * a.s.min(b.s);
            let tol = opts
                .min_tolerance
                .max(opts.relative_tolerance * diag * s_max);
            let reach = (2.0 * tol + s_max * m * (a.rho + b.rho)) * 1.001 + 0.01;
            if (a.px - b.px).powi(2) + (a.py - b.py).powi(2) <= reach * reach {
                support += 1;
            }
        }
        best = best.max(support);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corr(rx: f32, ry: f32, t: &Similarity) -> Correspondence {
        let (qx, qy) = t.apply(rx, ry);
        Correspondence {
            rx,
            ry,
            rscale: 1.0,
            rangle: 0.0,
            qx,
            qy,
            qscale: t.scale(),
            qangle: t.rotation_degrees().to_radians(),
            distance: 10,
        }
    }

    #[test]
    fn recovers_a_transform_among_outliers() {
        let a = 0.5f32;
        let t = Similarity {
            ar: a * 20f32.to_radians().cos(),
            ai: a * 20f32.to_radians().sin(),
            tx: 300.0,
            ty: 120.0,
        };
        let mut cs: Vec<Correspondence> = (0..20)
            .map(|k| corr((k * 37 % 300) as f32, (k * 91 % 280) as f32, &t))
            .collect();
        for k in 0..60 {
            cs.push(Correspondence {
                qx: (k * 53 % 800) as f32,
                qy: (k * 29 % 600) as f32,
                ..corr((k * 13 % 300) as f32, (k * 7 % 300) as f32, &t)
            });
        }
        let p = ransac(&cs, 420.0, &RansacOptions::default()).unwrap();
        assert!(p.inliers.len() >= 20, "{}", p.inliers.len());
        assert!((p.transform.scale() - 0.5).abs() < 0.01);
        assert!((p.transform.rotation_degrees() - 20.0).abs() < 0.5);
        assert!(ransac(&cs[..1], 420.0, &RansacOptions::default()).is_none());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
        /// `consistent_support` is never below the inliers of the placement
        /// RANSAC returns: true matches jittered up to (and past) every slack,
        /// mixed with scattered chance matches, at any scale and rotation.
        #[test]
        fn support_bounds_every_ransac_placement(
            scale in 0.05f32..8.0,
            degrees in -180f32..180.0,
            shift in (-500f32..1500.0, -500f32..1500.0),
            truth in proptest::collection::vec(
                (0f32..320.0, 0f32..320.0, 0.5f32..2.0, 1f32..4.0, -40f32..40.0, -12f32..12.0, -12f32..12.0),
                0..40,
            ),
            noise in proptest::collection::vec(
                (0f32..320.0, 0f32..320.0, 0.3f32..3.0, -3.2f32..3.2, 0f32..1200.0, 0f32..900.0, 0.3f32..3.0, -3.2f32..3.2),
                0..60,
            ),
            centre in (0f32..320.0, 0f32..320.0),
        ) {
            let t = Similarity {
                ar: scale * degrees.to_radians().cos(),
                ai: scale * degrees.to_radians().sin(),
                tx: shift.0,
                ty: shift.1,
            };
            let mut cs: Vec<Correspondence> = truth
                .iter()
                .map(|&(rx, ry, jitter_scale, rscale, turn, ex, ey)| {
                    let (qx, qy) = t.apply(rx, ry);
                    Correspondence {
                        rx,
                        ry,
                        rscale,
                        rangle: 0.3,
                        qx: qx + ex,
                        qy: qy + ey,
                        qscale: rscale * scale * jitter_scale,
                        qangle: 0.3 + (degrees + turn).to_radians(),
                        distance: 10,
                    }
                })
                .collect();
            cs.extend(noise.iter().map(|&(rx, ry, rscale, rangle, qx, qy, qscale, qangle)| {
                Correspondence { rx, ry, rscale, rangle, qx, qy, qscale, qangle, distance: 20 }
            }));
            let opts = RansacOptions::default();
            let bound = consistent_support(&cs, centre, 450.0, &opts);
            proptest::prop_assert!(bound <= cs.len());
            if let Some(p) = ransac(&cs, 450.0, &opts) {
                proptest::prop_assert!(
                    p.inliers.len() <= bound,
                    "ransac found {} inliers, bound {}",
                    p.inliers.len(),
                    bound
                );
            }
        }
    }
}
