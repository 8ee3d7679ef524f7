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
        let px = rgb
            .chunks_exact(3)
            .map(|p| {
                ((77 * u32::from(p[0]) + 150 * u32::from(p[1]) + 29 * u32::from(p[2]) + 128) >> 8)
                    as u8
            })
            .collect();
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

    fn bilinear(&self, width: usize, height: usize) -> Gray {
        let sx = self.width as f32 / width as f32;
        let sy = self.height as f32 / height as f32;
        let mut px = Vec::with_capacity(width * height);
        for y in 0..height {
            let fy = ((y as f32 + 0.5) * sy - 0.5).clamp(0.0, (self.height - 1) as f32);
            let y0 = fy as usize;
            let y1 = (y0 + 1).min(self.height - 1);
            let wy = fy - y0 as f32;
            for x in 0..width {
                let fx = ((x as f32 + 0.5) * sx - 0.5).clamp(0.0, (self.width - 1) as f32);
                let x0 = fx as usize;
                let x1 = (x0 + 1).min(self.width - 1);
                let wx = fx - x0 as f32;
                let a = f32::from(self.at(x0, y0)) * (1.0 - wx) + f32::from(self.at(x1, y0)) * wx;
                let b = f32::from(self.at(x0, y1)) * (1.0 - wx) + f32::from(self.at(x1, y1)) * wx;
                px.push((a * (1.0 - wy) + b * wy + 0.5) as u8);
            }
        }
        Gray { width, height, px }
    }

    /// Area averaging with fractional pixel coverage, separably.
    fn shrink_area(&self, width: usize, height: usize) -> Gray {
        let cols = area_weights(self.width, width);
        let rows = area_weights(self.height, height);
        // Horizontal pass into f32 rows.
        let mut tmp = vec![0f32; width * self.height];
        for y in 0..self.height {
            let src = &self.px[y * self.width..(y + 1) * self.width];
            let dst = &mut tmp[y * width..(y + 1) * width];
            for (d, taps) in dst.iter_mut().zip(&cols) {
                *d = taps.iter().map(|&(i, w)| f32::from(src[i]) * w).sum();
            }
        }
        let mut px = vec![0u8; width * height];
        for (y, taps) in rows.iter().enumerate() {
            let out = &mut px[y * width..(y + 1) * width];
            for (x, o) in out.iter_mut().enumerate() {
                let v: f32 = taps.iter().map(|&(i, w)| tmp[i * width + x] * w).sum();
                *o = (v + 0.5).clamp(0.0, 255.0) as u8;
            }
        }
        Gray { width, height, px }
    }

    /// Mean over a `(2r+1)²` box at every pixel (edges clamped), via an
    /// integral image: the smoothing ORB-style descriptors compare on.
    pub fn box_blur(&self, r: usize) -> Gray {
        let (w, h) = (self.width, self.height);
        if w == 0 || h == 0 || r == 0 {
            return self.clone();
        }
        let iw = w + 1;
        let mut integral = vec![0u32; iw * (h + 1)];
        for y in 0..h {
            let mut row = 0u32;
            for x in 0..w {
                row += u32::from(self.px[y * w + x]);
                integral[(y + 1) * iw + x + 1] = integral[y * iw + x + 1] + row;
            }
        }
        let mut px = vec![0u8; w * h];
        for y in 0..h {
            let y0 = y.saturating_sub(r);
            let y1 = (y + r + 1).min(h);
            for x in 0..w {
                let x0 = x.saturating_sub(r);
                let x1 = (x + r + 1).min(w);
                let sum = integral[y1 * iw + x1] + integral[y0 * iw + x0]
                    - integral[y0 * iw + x1]
                    - integral[y1 * iw + x0];
                let n = ((y1 - y0) * (x1 - x0)) as u32;
                px[y * w + x] = ((sum + n / 2) / n) as u8;
            }
        }
        Gray {
            width: w,
            height: h,
            px,
        }
    }
}

/// For each of `dst` output cells, the source indices it covers and their
/// weights (summing to 1).
fn area_weights(src: usize, dst: usize) -> Vec<Vec<(usize, f32)>> {
    let scale = src as f64 / dst as f64;
    (0..dst)
        .map(|d| {
            let start = d as f64 * scale;
            let end = ((d + 1) as f64 * scale).min(src as f64);
            let mut taps = Vec::new();
            let mut i = start.floor() as usize;
            while (i as f64) < end && i < src {
                let lo = start.max(i as f64);
                let hi = end.min((i + 1) as f64);
                if hi > lo {
                    taps.push((i, ((hi - lo) / scale) as f32));
                }
                i += 1;
            }
            taps
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
            *p = if i % 2 == 0 { 200 } else { 0 };
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
