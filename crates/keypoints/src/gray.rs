//! 8-bit grayscale images: conversion from RGB, bilinear resampling for the
//! scale pyramid, and the box smoothing the descriptor samples from.

/// A row-major 8-bit grayscale image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gray {
    pub width: usize,
    pub height: usize,
    pub px: Vec<u8>,
}

impl Gray {
    /// An image of `width * height` pixels, all `value`.
    pub fn filled(width: usize, height: usize, value: u8) -> Gray {
        Gray {
            width,
            height,
            px: vec![value; width * height],
        }
    }

    /// Luma (ITU-R BT.601 weights in fixed point) of interleaved RGB.
    /// Returns `None` when `rgb` is not `width * height * 3` bytes.
    pub fn from_rgb(rgb: &[u8], width: usize, height: usize) -> Option<Gray> {
        if width.checked_mul(height)?.checked_mul(3)? != rgb.len() {
            return None;
        }
        // Written into a buffer of the final size (a collected iterator over the pixels
        // measured 1.5x slower on a 16-Mpx photo).
        let mut px = vec![0u8; width * height];
        for (o, p) in px.iter_mut().zip(rgb.chunks_exact(3)) {
            let sum = 77 * u32::from(p[0]) + 150 * u32::from(p[1]) + 29 * u32::from(p[2]);
            *o = ((sum + 128) >> 8) as u8;
        }
        Some(Gray { width, height, px })
    }

    #[inline]
    pub fn at(&self, x: usize, y: usize) -> u8 {
        self.px[y * self.width + x]
    }

    /// The photographic negative (a light logo on a dark product is the
    /// negative of the registered dark-on-light artwork).
    pub fn inverted(&self) -> Gray {
        Gray {
            width: self.width,
            height: self.height,
            px: self.px.iter().map(|v| 255 - v).collect(),
        }
    }

    /// Resamples to `width x height`. Shrinking averages the source pixels
    /// each target pixel covers (area filter, no aliasing); enlarging
    /// interpolates bilinearly.
    pub fn resize(&self, width: usize, height: usize) -> Gray {
        let width = width.max(1);
        let height = height.max(1);
        if width == self.width && height == self.height {
            return self.clone();
        }
        if width <= self.width && height <= self.height {
            self.shrink_area(width, height)
        } else {
            self.bilinear(width, height)
        }
    }

    /// Bilinear enlargement, separably in fixed point (weights of 1/2048): every source row
    /// is interpolated horizontally once, then each output row blends two of them (a pass
    /// over whole rows, which vectorises).
    fn bilinear(&self, width: usize, height: usize) -> Gray {
        const BITS: u32 = 11;
        const ONE: u32 = 1 << BITS;
        // For each output index: the two source indices it lies between and the second's
        // weight (pixel centres aligned, edges clamped).
        fn taps(src: usize, dst: usize) -> Vec<(usize, usize, u32)> {
            let s = src as f32 / dst as f32;
            let last = (src - 1) as f32;
            (0..dst)
                .map(|d| {
                    let f = ((d as f32 + 0.5) * s - 0.5).clamp(0.0, last);
                    let i0 = f as usize;
                    let i1 = (i0 + 1).min(src - 1);
                    let w = ((f - i0 as f32) * ONE as f32).round() as u32;
                    (i0, i1, w.min(ONE))
                })
                .collect()
        }
        let cols = taps(self.width, width);
        let rows = taps(self.height, height);
        // Horizontal pass over every source row: values x 2048.
        let mut tmp = vec![0u32; width * self.height];
        for y in 0..self.height {
            let src = &self.px[y * self.width..(y + 1) * self.width];
            let dst = &mut tmp[y * width..(y + 1) * width];
            for (d, &(x0, x1, w)) in dst.iter_mut().zip(&cols) {
                *d = u32::from(src[x0]) * (ONE - w) + u32::from(src[x1]) * w;
            }
        }
        // Vertical pass: values x 2048², rounded back to 8 bits.
        let mut px = vec![0u8; width * height];
        for (y, &(y0, y1, w)) in rows.iter().enumerate() {
            let a = &tmp[y0 * width..(y0 + 1) * width];
            let b = &tmp[y1 * width..(y1 + 1) * width];
            let out = &mut px[y * width..(y + 1) * width];
            for ((o, &va), &vb) in out.iter_mut().zip(a).zip(b) {
                *o = ((va * (ONE - w) + vb * w + (1 << (2 * BITS - 1))) >> (2 * BITS)).min(255)
                    as u8;
            }
        }
        Gray { width, height, px }
    }

    /// Area averaging with fractional pixel coverage, separably, in fixed point (weights
    /// of 1/256): each output pixel is the mean of the source area it covers.
    fn shrink_area(&self, width: usize, height: usize) -> Gray {
        let cols = Taps::new(self.width, width);
        let rows = Taps::new(self.height, height);
        // Vertical pass first, over whole source rows (vectorises), into u16 rows of
        // values x 256 (weights sum to 256, so at most 255 x 256: exact, no rounding);
        // then the horizontal pass reads only the output's rows. Both passes are exact
        // integer sums, so the order does not change the result.
        let sw = self.width;
        let mut tmp = vec![0u16; sw * height];
        for (y, dst) in tmp.chunks_exact_mut(sw).enumerate() {
            let (start, weights) = rows.of(y);
            for (k, &w) in weights.iter().enumerate() {
                let src = &self.px[(start + k) * sw..(start + k + 1) * sw];
                let w = w as u16;
                for (d, &v) in dst.iter_mut().zip(src) {
                    *d += u16::from(v) * w;
                }
            }
        }
        // Horizontal pass, weights of 1/256 again: values x 65,536, rounded. Shrinking by
        // less than 2x (the pyramid's 1.25 steps) covers at most 3 source pixels per
        // output: a fixed-width path without per-pixel slices.
        let mut px = vec![0u8; width * height];
        let fixed = cols.fixed3(sw);
        for (src, out) in tmp.chunks_exact(sw).zip(px.chunks_exact_mut(width)) {
            if let Some(fixed) = &fixed {
                for (o, &(start, w)) in out.iter_mut().zip(fixed) {
                    let s = &src[start as usize..start as usize + 3];
                    let acc = u32::from(s[0]) * u32::from(w[0])
                        + u32::from(s[1]) * u32::from(w[1])
                        + u32::from(s[2]) * u32::from(w[2]);
                    *o = ((acc + (1 << 15)) >> 16).min(255) as u8;
                }
            } else {
                for (x, o) in out.iter_mut().enumerate() {
                    let (start, w) = cols.of(x);
                    let mut acc = 0u32;
                    for (k, &wk) in w.iter().enumerate() {
                        acc += u32::from(src[start + k]) * wk;
                    }
                    *o = ((acc + (1 << 15)) >> 16).min(255) as u8;
                }
            }
        }
        Gray { width, height, px }
    }

    /// Mean over a `(2r+1)²` box at every pixel (edges clamped): the smoothing ORB-style
    /// descriptors compare on. Running sums, a row at a time.
    pub fn box_blur(&self, r: usize) -> Gray {
        let (w, h) = (self.width, self.height);
        if w == 0 || h == 0 || r == 0 {
            return self.clone();
        }
        // Column sums over the clamped vertical window, then a horizontal running sum.
        let mut col = vec![0u32; w];
        let mut px = vec![0u8; w * h];
        let y_hi0 = r.min(h - 1);
        for yy in 0..=y_hi0 {
            for (c, &v) in col.iter_mut().zip(&self.px[yy * w..(yy + 1) * w]) {
                *c += u32::from(v);
            }
        }
        for y in 0..h {
            let y0 = y.saturating_sub(r);
            let y1 = (y + r).min(h - 1);
            let rows_n = (y1 - y0 + 1) as u32;
            let out = &mut px[y * w..(y + 1) * w];
            if r == 2 && rows_n == 5 && w > 4 {
                // Interior of the descriptor's 5x5 smoothing: a direct 5-tap sum per pixel
                // (no carried sum, so it vectorises); the two columns at each edge below.
                for (x, o) in out[2..w - 2].iter_mut().enumerate() {
                    let sum = col[x] + col[x + 1] + col[x + 2] + col[x + 3] + col[x + 4];
                    *o = div25(sum + 12) as u8;
                }
                for x in [0, 1, w - 2, w - 1] {
                    let x0 = x.saturating_sub(2);
                    let x1 = (x + 2).min(w - 1);
                    let n = 5 * (x1 - x0 + 1) as u32;
                    let sum: u32 = col[x0..=x1].iter().sum();
                    out[x] = ((sum + n / 2) / n) as u8;
                }
            } else {
                let mut sum: u32 = col[..=r.min(w - 1)].iter().sum();
                let full = rows_n * (2 * r + 1) as u32;
                for (x, o) in out.iter_mut().enumerate() {
                    let n = if x >= r && x + r < w {
                        full
                    } else {
                        rows_n * ((x + r).min(w - 1) - x.saturating_sub(r) + 1) as u32
                    };
                    *o = if n == 25 {
                        ((sum + 12) / 25) as u8
                    } else {
                        ((sum + n / 2) / n) as u8
                    };
                    // Slide: add column x1 + 1, drop column x0 when it leaves the window.
                    if x + r + 1 < w {
                        sum += col[x + r + 1];
                    }
                    if x >= r {
                        sum -= col[x - r];
                    }
                }
            }
            // Slide the column window down.
            if y + r + 1 < h {
                for (c, &v) in col
                    .iter_mut()
                    .zip(&self.px[(y + r + 1) * w..(y + r + 2) * w])
                {
                    *c += u32::from(v);
                }
            }
            if y >= r {
                for (c, &v) in col.iter_mut().zip(&self.px[(y - r) * w..(y - r + 1) * w]) {
                    *c -= u32::from(v);
                }
            }
        }
        Gray {
            width: w,
            height: h,
            px,
        }
    }
}

/// `x / 25` for `x <= 25 * 255 + 12` as a multiply and a shift, which vectorises where a
/// 32-bit division does not: 41,944 / 2^20 exceeds 1/25 by 24 / (25 * 2^20), so for
/// `x = 25q + r` the product is `q + (24q + 41,944r) / 2^20`, whose fraction stays under 1
/// (q <= 255, r <= 24).
#[inline]
fn div25(x: u32) -> u32 {
    (x * 41_944) >> 20
}

/// For each output cell of an area shrink, the first source index it covers and its
/// weights in 1/256 (summing to 256), stored flat.
struct Taps {
    start: Vec<usize>,
    offsets: Vec<usize>,
    weights: Vec<u32>,
}

impl Taps {
    fn new(src: usize, dst: usize) -> Taps {
        let scale = src as f64 / dst as f64;
        let mut t = Taps {
            start: Vec::with_capacity(dst),
            offsets: Vec::with_capacity(dst + 1),
            weights: Vec::new(),
        };
        t.offsets.push(0);
        for d in 0..dst {
            let start = d as f64 * scale;
            let end = ((d + 1) as f64 * scale).min(src as f64);
            let first = start.floor() as usize;
            let mut i = first;
            let mut taps = Vec::new();
            while (i as f64) < end && i < src {
                let lo = start.max(i as f64);
                let hi = end.min((i + 1) as f64);
                taps.push(((hi - lo).max(0.0) / scale * 256.0).round() as u32);
                i += 1;
            }
            // Make the weights sum to exactly 256 (the largest takes the rounding).
            let sum: u32 = taps.iter().sum();
            if let Some(m) = taps.iter_mut().max() {
                *m = (*m + 256).saturating_sub(sum);
            }
            t.start.push(first);
            t.weights.extend(taps);
            t.offsets.push(t.weights.len());
        }
        t
    }

    /// The same taps as `(start, [w0, w1, w2])`, the start moved left where needed so
    /// that three source pixels always exist; `None` when some output covers more
    /// than three, or the source is narrower than three.
    fn fixed3(&self, src: usize) -> Option<Vec<(u32, [u16; 3])>> {
        if src < 3 {
            return None;
        }
        let mut out = Vec::with_capacity(self.start.len());
        for d in 0..self.start.len() {
            let (start, w) = self.of(d);
            if w.len() > 3 {
                return None;
            }
            let mut ws = [0u16; 3];
            let s = start.min(src - 3);
            let shift = start - s;
            for (k, &wk) in w.iter().enumerate() {
                ws[k + shift] = wk as u16;
            }
            out.push((s as u32, ws));
        }
        Some(out)
    }

    #[inline]
    fn of(&self, d: usize) -> (usize, &[u32]) {
        (
            self.start[d],
            &self.weights[self.offsets[d]..self.offsets[d + 1]],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_point_enlargement_is_within_one_of_exact_bilinear() {
        let (w, h) = (37, 23);
        let mut g = Gray::filled(w, h, 0);
        for (i, p) in g.px.iter_mut().enumerate() {
            *p = ((i * 2_654_435_761) >> 9) as u8;
        }
        for (tw, th) in [(41, 29), (74, 46), (100, 23), (37, 60), (30, 40)] {
            let up = g.resize(tw, th);
            let (sx, sy) = (w as f64 / tw as f64, h as f64 / th as f64);
            for y in 0..th {
                let fy = ((y as f64 + 0.5) * sy - 0.5).clamp(0.0, (h - 1) as f64);
                let (y0, wy) = (fy as usize, fy - fy.floor());
                let y1 = (y0 + 1).min(h - 1);
                for x in 0..tw {
                    let fx = ((x as f64 + 0.5) * sx - 0.5).clamp(0.0, (w - 1) as f64);
                    let (x0, wx) = (fx as usize, fx - fx.floor());
                    let x1 = (x0 + 1).min(w - 1);
                    let v = |xx: usize, yy: usize| f64::from(g.at(xx, yy));
                    let a = v(x0, y0) * (1.0 - wx) + v(x1, y0) * wx;
                    let b = v(x0, y1) * (1.0 - wx) + v(x1, y1) * wx;
                    let exact = a * (1.0 - wy) + b * wy;
                    let got = f64::from(up.at(x, y));
                    assert!(
                        (got - exact).abs() <= 1.0,
                        "{tw}x{th} at {x},{y}: {got} vs {exact}"
                    );
                }
            }
        }
    }

    #[test]
    fn div25_is_exact_over_the_blur_s_range() {
        for x in 0..=25 * 255 + 12 {
            assert_eq!(div25(x), x / 25, "{x}");
        }
    }

    #[test]
    fn shrinking_is_the_rounded_exact_weighted_sum() {
        let (w, h) = (53, 41);
        let mut g = Gray::filled(w, h, 0);
        for (i, p) in g.px.iter_mut().enumerate() {
            *p = ((i * 2_654_435_761) >> 11) as u8;
        }
        // 1.25 steps (three taps at most), a little under 2x, and 3.3x (the general path).
        for (tw, th) in [(42, 33), (27, 21), (16, 12), (53, 20)] {
            let out = g.resize(tw, th);
            let (cols, rows) = (Taps::new(w, tw), Taps::new(h, th));
            for y in 0..th {
                let (ys, wy) = rows.of(y);
                for x in 0..tw {
                    let (xs, wx) = cols.of(x);
                    let mut total = 0u32;
                    for (j, &a) in wy.iter().enumerate() {
                        for (k, &b) in wx.iter().enumerate() {
                            total += a * b * u32::from(g.at(xs + k, ys + j));
                        }
                    }
                    let want = ((total + (1 << 15)) >> 16).min(255) as u8;
                    assert_eq!(out.at(x, y), want, "{tw}x{th} at {x},{y}");
                }
            }
        }
    }

    #[test]
    fn luma_and_size_checks() {
        let g = Gray::from_rgb(&[255, 255, 255, 0, 0, 0], 2, 1).unwrap();
        assert_eq!(g.px, vec![255, 0]);
        assert!(Gray::from_rgb(&[1, 2], 1, 1).is_none());
    }

    #[test]
    fn shrinking_preserves_mean_and_blur_is_flat_on_flat() {
        let mut g = Gray::filled(10, 6, 0);
        for (i, p) in g.px.iter_mut().enumerate() {
            *p = if i.is_multiple_of(2) { 200 } else { 0 };
        }
        let s = g.resize(5, 3);
        assert!(s.px.iter().all(|&v| v == 100), "{:?}", s.px);
        let f = Gray::filled(7, 7, 42).box_blur(2);
        assert!(f.px.iter().all(|&v| v == 42));
        let up = Gray::filled(3, 3, 9).resize(7, 5);
        assert_eq!((up.width, up.height), (7, 5));
        assert!(up.px.iter().all(|&v| v == 9));
    }
}
