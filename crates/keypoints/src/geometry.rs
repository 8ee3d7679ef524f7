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
}

impl Default for RansacOptions {
    fn default() -> Self {
        RansacOptions {
            iterations: 500,
            min_tolerance: 4.0,
            relative_tolerance: 0.02,
            scale_slack: 1.6,
            angle_slack_degrees: 30.0,
        }
    }
}

/// The best placement found and which correspondences agree with it.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    pub transform: Similarity,
    pub inliers: Vec<usize>,
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
}
