//! FAST-9 corner detection (Rosten & Drummond, "Machine learning for
//! high-speed corner detection", ECCV 2006) with 3×3 non-maximum
//! suppression, ranked by the Harris response (as ORB ranks them:
//! Rublee et al., "ORB: an efficient alternative to SIFT or SURF", ICCV 2011).

use crate::gray::Gray;

/// Offsets of the 16-pixel Bresenham circle of radius 3, clockwise from the top.
const CIRCLE: [(i32, i32); 16] = [
    (0, -3),
    (1, -3),
    (2, -2),
    (3, -1),
    (3, 0),
    (3, 1),
    (2, 2),
    (1, 3),
    (0, 3),
    (-1, 3),
    (-2, 2),
    (-3, 1),
    (-3, 0),
    (-3, -1),
    (-2, -2),
    (-1, -3),
];

/// A corner at integer pixel coordinates of the image it was found in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Corner {
    pub x: usize,
    pub y: usize,
    /// Harris corner response (higher is more corner-like).
    pub response: f32,
}

/// True when `mask` (16 circle bits) has 9 or more contiguous set bits,
/// wrapping around.
#[inline]
fn has_arc9(mask: u16) -> bool {
    let m = u32::from(mask) | (u32::from(mask) << 16);
    let mut run = m;
    for _ in 0..8 {
        run &= run >> 1;
    }
    run != 0
}

/// [`has_arc9`] of every 16-bit mask, one bit each (8 KiB, read from L1 in the
/// detector's inner loop instead of eight shift-and steps per test).
struct ArcTable([u64; 1024]);

impl ArcTable {
    fn get() -> &'static ArcTable {
        static TABLE: std::sync::OnceLock<ArcTable> = std::sync::OnceLock::new();
        TABLE.get_or_init(|| {
            let mut t = [0u64; 1024];
            for mask in 0..=u16::MAX {
                if has_arc9(mask) {
                    t[usize::from(mask >> 6)] |= 1 << (mask & 63);
                }
            }
            ArcTable(t)
        })
    }

    #[inline]
    fn has(&self, mask: u16) -> bool {
        (self.0[usize::from(mask >> 6)] >> (mask & 63)) & 1 != 0
    }
}

/// FAST score: the sum of how far the arc pixels exceed the threshold
/// (used only for non-maximum suppression).
#[inline]
fn fast_score(ring: &[i32; 16], center: i32, threshold: i32) -> i32 {
    let mut bright = 0;
    let mut dark = 0;
    for &v in ring {
        // At most one of the two is positive (the threshold is not negative).
        let d = v - center;
        bright += (d - threshold).max(0);
        dark += (-d - threshold).max(0);
    }
    bright.max(dark)
}

/// Corners whose 16-pixel ring has 9 contiguous pixels all brighter than
/// the centre by more than `threshold`, or all darker, at least `border`
/// pixels from every edge (`border >= 3`), after non-maximum suppression,
/// strongest (Harris) first, at most `max` of them.
pub fn detect(img: &Gray, threshold: u8, border: usize, max: usize) -> Vec<Corner> {
    let mut scratch = Vec::new();
    detect_with(img, threshold, border, max, &mut scratch)
}

/// [`detect`] with a reusable score buffer (zero on entry and on return).
pub fn detect_with(
    img: &Gray,
    threshold: u8,
    border: usize,
    max: usize,
    score: &mut Vec<u16>,
) -> Vec<Corner> {
    let border = border.max(4);
    let (w, h) = (img.width, img.height);
    if w <= 2 * border || h <= 2 * border || max == 0 {
        return Vec::new();
    }
    if score.len() < w * h {
        score.clear();
        score.resize(w * h, 0);
    }
    let t = i32::from(threshold);
    let mut offsets = [0isize; 16];
    for (o, &(dx, dy)) in offsets.iter_mut().zip(&CIRCLE) {
        *o = dy as isize * w as isize + dx as isize;
    }
    let px = &img.px;
    let mut candidates: Vec<usize> = Vec::new();
    let mut flags = vec![0u8; w];
    let mut xs: Vec<usize> = Vec::new();
    let arcs = ArcTable::get();
    let (x_lo, x_hi) = (border, w - border);
    for y in border..h - border {
        // Pre-test, vectorisable: an arc of 9 of the 16 ring pixels covers at least two
        // of the four compass points (0, 4, 8, 12) and at least two of the four
        // diagonal points (2, 6, 10, 14), all brighter (or all darker) than the centre
        // by more than `t`.
        {
            let row = &px[y * w..(y + 1) * w];
            let up3 = &px[(y - 3) * w..(y - 2) * w];
            let down3 = &px[(y + 3) * w..(y + 4) * w];
            let up2 = &px[(y - 2) * w..(y - 1) * w];
            let down2 = &px[(y + 2) * w..(y + 3) * w];
            let fl = &mut flags[x_lo..x_hi];
            let c = &row[x_lo..x_hi];
            let n = &up3[x_lo..x_hi];
            let so = &down3[x_lo..x_hi];
            let e = &row[x_lo + 3..x_hi + 3];
            let wv = &row[x_lo - 3..x_hi - 3];
            let ne = &up2[x_lo + 2..x_hi + 2];
            let nw = &up2[x_lo - 2..x_hi - 2];
            let se = &down2[x_lo + 2..x_hi + 2];
            let sw = &down2[x_lo - 2..x_hi - 2];
            for i in 0..fl.len() {
                let hi = c[i].saturating_add(threshold);
                let lo = c[i].saturating_sub(threshold);
                let b1 = u8::from(n[i] > hi)
                    + u8::from(so[i] > hi)
                    + u8::from(e[i] > hi)
                    + u8::from(wv[i] > hi);
                let d1 = u8::from(n[i] < lo)
                    + u8::from(so[i] < lo)
                    + u8::from(e[i] < lo)
                    + u8::from(wv[i] < lo);
                let b2 = u8::from(ne[i] > hi)
                    + u8::from(nw[i] > hi)
                    + u8::from(se[i] > hi)
                    + u8::from(sw[i] > hi);
                let d2 = u8::from(ne[i] < lo)
                    + u8::from(nw[i] < lo)
                    + u8::from(se[i] < lo)
                    + u8::from(sw[i] < lo);
                fl[i] = (u8::from(b1 >= 2) & u8::from(b2 >= 2))
                    | (u8::from(d1 >= 2) & u8::from(d2 >= 2));
            }
        }
        // Most pixels fail the pre-test: read the flags (0 or 1) eight at a time as one
        // word, and visit only the set bytes.
        xs.clear();
        let fl = &flags[x_lo..x_hi];
        let mut chunks = fl.chunks_exact(8);
        for (chunk_i, chunk) in (&mut chunks).enumerate() {
            let Ok(bytes) = <[u8; 8]>::try_from(chunk) else {
                continue;
            };
            let mut word = u64::from_le_bytes(bytes);
            while word != 0 {
                xs.push(x_lo + chunk_i * 8 + (word.trailing_zeros() / 8) as usize);
                word &= word - 1;
            }
        }
        let tail = x_lo + (fl.len() / 8) * 8;
        for (k, &f) in chunks.remainder().iter().enumerate() {
            if f != 0 {
                xs.push(tail + k);
            }
        }
        for &x in &xs {
            let i = y * w + x;
            let c = i32::from(px[i]);
            let mut ring = [0i32; 16];
            let (mut bm, mut dm) = (0u16, 0u16);
            // Branch-free: which ring pixels pass is data, not control flow.
            for (k, r) in ring.iter_mut().enumerate() {
                *r = i32::from(px[(i as isize + offsets[k]) as usize]);
                bm |= u16::from(*r > c + t) << k;
                dm |= u16::from(*r < c - t) << k;
            }
            if arcs.has(bm) || arcs.has(dm) {
                score[i] = fast_score(&ring, c, t).clamp(1, i32::from(u16::MAX)) as u16;
                candidates.push(i);
            }
        }
    }
    let survivors: Vec<usize> = candidates
        .iter()
        .copied()
        .filter(|&i| {
            let s = score[i];
            let neighbours = [
                i - w - 1,
                i - w,
                i - w + 1,
                i - 1,
                i + 1,
                i + w - 1,
                i + w,
                i + w + 1,
            ];
            // Ties keep the first in scan order.
            neighbours
                .iter()
                .enumerate()
                .all(|(k, &j)| if k < 4 { score[j] < s } else { score[j] <= s })
        })
        .collect();
    let out = spread(img, &survivors, score, max);
    for &i in &candidates {
        score[i] = 0;
    }
    out
}

/// Side of the grid cells the budget is spread over.
const CELL: usize = 32;

/// Picks `max` corners spread over the image: in each 32×32 cell the
/// strongest FAST corners (at most twice the cell's fair share) are ranked
/// by Harris response, then cells take turns giving up their best, so
/// a small logo in a busy photo keeps its corners instead of losing them all
/// to foliage elsewhere.
fn spread(img: &Gray, idx: &[usize], score: &[u16], max: usize) -> Vec<Corner> {
    let w = img.width;
    let cols = w.div_ceil(CELL);
    let rows = img.height.div_ceil(CELL);
    let mut cells: Vec<Vec<usize>> = vec![Vec::new(); cols * rows];
    for &i in idx {
        cells[(i / w / CELL) * cols + (i % w) / CELL].push(i);
    }
    let occupied = cells.iter().filter(|c| !c.is_empty()).count().max(1);
    let share = (2 * max).div_ceil(occupied).max(2);
    let mut ranked: Vec<Vec<Corner>> = cells
        .into_iter()
        .filter(|c| !c.is_empty())
        .map(|mut c| {
            c.sort_by(|&a, &b| score[b].cmp(&score[a]).then(a.cmp(&b)));
            c.truncate(share);
            let mut v: Vec<Corner> = c
                .into_iter()
                .map(|i| Corner {
                    x: i % w,
                    y: i / w,
                    response: harris(img, i % w, i / w),
                })
                .collect();
            v.sort_by(|a, b| {
                b.response
                    .total_cmp(&a.response)
                    .then(a.y.cmp(&b.y))
                    .then(a.x.cmp(&b.x))
            });
            v.reverse(); // pop() takes the best
            v
        })
        .collect();
    let mut out = Vec::with_capacity(max);
    while out.len() < max {
        let before = out.len();
        for cell in ranked.iter_mut() {
            if out.len() == max {
                break;
            }
            if let Some(c) = cell.pop() {
                out.push(c);
            }
        }
        if out.len() == before {
            break;
        }
    }
    out
}

/// Harris response `det(M) − 0.04·trace(M)²` of the structure tensor over
/// the 7×7 window around `(x, y)` (gradients by central differences).
/// Needs `x, y` at least 4 pixels from the edges.
fn harris(img: &Gray, x: usize, y: usize) -> f32 {
    let w = img.width;
    let (mut a, mut b, mut c) = (0f32, 0f32, 0f32);
    for yy in y - 3..=y + 3 {
        for xx in x - 3..=x + 3 {
            let i = yy * w + xx;
            let gx = f32::from(img.px[i + 1]) - f32::from(img.px[i - 1]);
            let gy = f32::from(img.px[i + w]) - f32::from(img.px[i - w]);
            a += gx * gx;
            b += gy * gy;
            c += gx * gy;
        }
    }
    a * b - c * c - 0.04 * (a + b) * (a + b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_arc_table_agrees_with_the_arc_test() {
        let t = ArcTable::get();
        for mask in 0..=u16::MAX {
            assert_eq!(t.has(mask), has_arc9(mask), "{mask:016b}");
        }
    }

    #[test]
    fn arc_detection_wraps() {
        assert!(has_arc9(0b0000_0001_1111_1111));
        assert!(has_arc9(0b1111_1000_0000_1111)); // 5 + 4 across the wrap
        assert!(!has_arc9(0b0000_0000_1111_1111));
        assert!(!has_arc9(0b1010_1010_1010_1010));
    }

    /// Every pixel tested the plain way (no pre-test, no word-wise flag scan), scored,
    /// and suppressed by the same rule: the corners `detect` must return when its budget
    /// does not bind.
    fn plain_corners(img: &Gray, threshold: u8, border: usize) -> Vec<(usize, usize)> {
        let (w, h) = (img.width, img.height);
        let t = i32::from(threshold);
        let mut score = vec![0i32; w * h];
        for y in border..h - border {
            for x in border..w - border {
                let c = i32::from(img.at(x, y));
                let mut ring = [0i32; 16];
                let (mut bm, mut dm) = (0u16, 0u16);
                for (k, &(dx, dy)) in CIRCLE.iter().enumerate() {
                    let v = i32::from(img.at((x as i32 + dx) as usize, (y as i32 + dy) as usize));
                    ring[k] = v;
                    if v > c + t {
                        bm |= 1 << k;
                    }
                    if v < c - t {
                        dm |= 1 << k;
                    }
                }
                if has_arc9(bm) || has_arc9(dm) {
                    score[y * w + x] = fast_score(&ring, c, t).max(1);
                }
            }
        }
        let mut out = Vec::new();
        for y in border..h - border {
            for x in border..w - border {
                let s = score[y * w + x];
                let earlier = [(-1, -1), (0, -1), (1, -1), (-1, 0)];
                let later = [(1, 0), (-1, 1), (0, 1), (1, 1)];
                let at = |dx: i32, dy: i32| {
                    score[(y as i32 + dy) as usize * w + (x as i32 + dx) as usize]
                };
                if s > 0
                    && earlier.iter().all(|&(dx, dy)| at(dx, dy) < s)
                    && later.iter().all(|&(dx, dy)| at(dx, dy) <= s)
                {
                    out.push((x, y));
                }
            }
        }
        out
    }

    #[test]
    fn detection_equals_the_plain_test_of_every_pixel() {
        // A noisy texture with blocks, so corners, near-misses and flat runs all occur,
        // and a width that is not a multiple of eight.
        let (w, h) = (203, 97);
        let mut g = Gray::filled(w, h, 0);
        for y in 0..h {
            for x in 0..w {
                let block = ((x / 9) * 7919 + (y / 7) * 104_729).wrapping_mul(2_654_435_761) >> 9;
                let noise = ((x * 31 + y * 17) * 2_246_822_519) >> 13;
                g.px[y * w + x] = ((block % 200) + (noise % 40)) as u8;
            }
        }
        for threshold in [10u8, 20, 40] {
            let mut got: Vec<(usize, usize)> = detect(&g, threshold, 4, w * h)
                .iter()
                .map(|c| (c.x, c.y))
                .collect();
            got.sort_unstable_by_key(|&(x, y)| (y, x));
            let want = plain_corners(&g, threshold, 4);
            assert!(want.len() > 50, "{}", want.len());
            assert_eq!(got, want, "threshold {threshold}");
        }
    }

    #[test]
    fn finds_the_corners_of_a_square_and_nothing_on_flat() {
        let mut g = Gray::filled(64, 64, 255);
        for y in 20..44 {
            for x in 20..44 {
                g.px[y * 64 + x] = 0;
            }
        }
        let c = detect(&g, 20, 4, 100);
        assert!(!c.is_empty());
        for corner in &c {
            let near =
                [(20, 20), (43, 20), (20, 43), (43, 43)]
                    .iter()
                    .any(|&(x, y): &(usize, usize)| {
                        corner.x.abs_diff(x) <= 2 && corner.y.abs_diff(y) <= 2
                    });
            assert!(near, "{corner:?}");
        }
        assert!(detect(&Gray::filled(64, 64, 7), 20, 4, 100).is_empty());
        assert!(detect(&Gray::filled(5, 5, 7), 20, 4, 100).is_empty());
    }
}
