//! The PDQ hash, written from Meta's published algorithm (hashing.pdf) and bit-exact with the C++
//! reference in facebook/ThreatExchange (`pdq/cpp`) when fed the same pixels.
//!
//! Bit-exactness with float32 C++ depends on doing every float operation in the same order and
//! type as the reference. This implementation keeps the per-element arithmetic identical (the
//! same running sums, divisions, products and accumulation orders) but reorganises the loops so
//! they vectorise and stay in cache:
//!
//! * the horizontal box-filter passes run on strips of 8 rows transposed into an `[W][8]`
//!   scratch, so the 8 running sums (one per row) advance together in one SIMD register;
//! * the vertical passes advance one running sum per column, a whole row at a time;
//! * the second pass computes only what the 64x64 decimation reads (64 columns, 64 rows);
//! * the DCT accumulates along `k` in the reference's order, vectorised across the other index.
//!
//! A literal port of the reference's loops lives in the tests and is compared against this one
//! on random images.

use crate::hash::{Dihedral, Hash256};

/// Images with a side shorter than this hash to zero with quality 0 (as in the reference).
pub const MIN_HASHABLE_DIM: usize = 5;

/// A DCT block with at least this many coefficients equal to the median is flagged degenerate.
pub const DEGENERATE_MEDIAN_TIES: usize = 8;

const STRIP: usize = 8;

/// The 16x16 low-frequency DCT block.
type Block = [[f32; 16]; 16];

/// How RGB is turned into luminance (`Y = 0.299 R + 0.587 G + 0.114 B`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LumaFormula {
    /// In float64, then rounded to float32: what the Python package `pdqhash` (Meta's C++ behind
    /// a numpy front end) computes, and what python-threatexchange therefore stores. The default.
    #[default]
    Float64,
    /// In float32 with float32 coefficients: the C++ reference's own `fillFloatLumaFromRGB`.
    Float32,
}

/// Errors from hashing a pixel buffer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashError {
    /// The buffer length does not match width x height x channels.
    #[error("pixel buffer has {got} bytes/values, expected {expected} for the given size")]
    BufferSize {
        /// Expected length.
        expected: usize,
        /// Actual length.
        got: usize,
    },
    /// Width x height overflowed.
    #[error("image dimensions {width}x{height} are too large")]
    TooLarge {
        /// Width in pixels.
        width: usize,
        /// Height in pixels.
        height: usize,
    },
    /// A float luminance buffer contained NaN or infinity.
    #[error("luminance buffer contains a non-finite value")]
    NonFinite,
}

/// One PDQ hash with its quality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PdqHash {
    /// The hash.
    pub hash: Hash256,
    /// Quality 0..=100, computed exactly as the reference computes it.
    pub quality: u8,
    /// True for images that must never be matched: smaller than 5x5, flat (quality 0), or with
    /// at least [`DEGENERATE_MEDIAN_TIES`] DCT coefficients tied at the median.
    pub degenerate: bool,
}

/// The hashes of all eight dihedral variants, derived from a single DCT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DihedralHashes {
    /// Indexed by [`Dihedral::index`], in the reference's order.
    pub hashes: [Hash256; 8],
    /// Quality of the image (the same for all variants).
    pub quality: u8,
    /// See [`PdqHash::degenerate`].
    pub degenerate: bool,
}

impl DihedralHashes {
    /// The hash of one variant.
    pub fn get(&self, d: Dihedral) -> Hash256 {
        self.hashes[d.index()]
    }

    /// The original (untransformed) hash with its quality.
    pub fn original(&self) -> PdqHash {
        PdqHash {
            hash: self.hashes[0],
            quality: self.quality,
            degenerate: self.degenerate,
        }
    }

    /// `(variant, hash)` pairs in the reference's order.
    pub fn iter(&self) -> impl Iterator<Item = (Dihedral, Hash256)> + '_ {
        Dihedral::ALL.iter().map(|d| (*d, self.hashes[d.index()]))
    }
}

/// Pixel input accepted by [`Hasher`].
#[derive(Debug, Clone, Copy)]
pub enum Pixels<'a> {
    /// Interleaved 8-bit RGB, row-major, `width * height * 3` bytes.
    Rgb8(&'a [u8]),
    /// Interleaved 8-bit RGBA (alpha ignored), `width * height * 4` bytes.
    Rgba8(&'a [u8]),
    /// 8-bit grey, `width * height` bytes (luma = the value, as the reference's grey path).
    Luma8(&'a [u8]),
    /// Float luminance, `width * height` values.
    LumaF32(&'a [f32]),
}

impl Pixels<'_> {
    fn len(&self) -> usize {
        match self {
            Pixels::Rgb8(b) | Pixels::Rgba8(b) | Pixels::Luma8(b) => b.len(),
            Pixels::LumaF32(b) => b.len(),
        }
    }
    fn channels(&self) -> usize {
        match self {
            Pixels::Rgb8(_) => 3,
            Pixels::Rgba8(_) => 4,
            Pixels::Luma8(_) | Pixels::LumaF32(_) => 1,
        }
    }
}

/// The 16x64 DCT-II basis (rows 1..=16 of the 64-point DCT), as the reference builds it:
/// `float(sqrt(2/64))` times the double-precision cosine, rounded to float.
fn dct_matrix() -> [[f32; 64]; 16] {
    let scale = (2.0f64 / 64.0).sqrt() as f32;
    let mut d = [[0f32; 64]; 16];
    for (i, row) in d.iter_mut().enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            let arg = (std::f64::consts::PI / 2.0 / 64.0) * ((i + 1) as f64) * ((2 * j + 1) as f64);
            *v = (f64::from(scale) * arg.cos()) as f32;
        }
    }
    d
}

/// `ceil(old / (2 * new))`, the reference's per-pass box window.
fn jarosz_window(old_dim: usize, new_dim: usize) -> usize {
    old_dim.div_ceil(2 * new_dim)
}

/// The decimation sample positions (centres, not corners), as the reference computes them.
fn decimation_indices(in_dim: usize) -> [usize; 64] {
    let mut idx = [0usize; 64];
    for (o, v) in idx.iter_mut().enumerate() {
        let p = (((o as f64) + 0.5) * (in_dim as f64)) / 64.0;
        *v = (p as usize).min(in_dim.saturating_sub(1));
    }
    idx
}

/// A reusable PDQ hasher. Keeps scratch buffers between calls, so hashing many images of
/// similar size allocates nothing after the first. Not `Sync`; use one per thread.
pub struct Hasher {
    dct: [[f32; 64]; 16],
    dct_t: [[f32; 16]; 64],
    formula: LumaFormula,
    a: Vec<f32>,
    b: Vec<f32>,
    strip_in: Vec<f32>,
    strip_out: Vec<f32>,
    sums: Vec<f32>,
    c2: Vec<f32>,
    c3: Vec<f32>,
    /// Planes for [`crate::views::hash_pixel_dihedral`]: the image's luma, its transpose, one
    /// turned copy, and one row pass.
    pub(crate) planes: [Vec<f32>; 4],
}

impl Default for Hasher {
    fn default() -> Self {
        Hasher::new()
    }
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hasher")
            .field("formula", &self.formula)
            .finish()
    }
}

impl Hasher {
    /// A hasher using [`LumaFormula::Float64`] (matches the `pdqhash` Python package).
    pub fn new() -> Hasher {
        Hasher::with_formula(LumaFormula::default())
    }

    /// A hasher with an explicit RGB-to-luma formula.
    pub fn with_formula(formula: LumaFormula) -> Hasher {
        let dct = dct_matrix();
        let mut dct_t = [[0f32; 16]; 64];
        for (i, row) in dct.iter().enumerate() {
            for (k, v) in row.iter().enumerate() {
                dct_t[k][i] = *v;
            }
        }
        Hasher {
            dct,
            dct_t,
            formula,
            a: Vec::new(),
            b: Vec::new(),
            strip_in: Vec::new(),
            strip_out: Vec::new(),
            sums: Vec::new(),
            c2: Vec::new(),
            c3: Vec::new(),
            planes: Default::default(),
        }
    }

    /// The luma formula in use.
    pub fn formula(&self) -> LumaFormula {
        self.formula
    }

    /// PDQ hash and quality of an image.
    pub fn hash(
        &mut self,
        pixels: Pixels<'_>,
        width: usize,
        height: usize,
    ) -> Result<PdqHash, HashError> {
        let Some((block, quality)) = self.dct16(pixels, width, height)? else {
            return Ok(PdqHash {
                hash: Hash256::ZERO,
                quality: 0,
                degenerate: true,
            });
        };
        let (hash, ties) = bits_from_block(&block);
        Ok(PdqHash {
            hash,
            quality,
            degenerate: quality == 0 || ties >= DEGENERATE_MEDIAN_TIES,
        })
    }

    /// The float luma the hasher reads from `pixels`, into `out` (`width * height` values,
    /// row-major): hashing [`Pixels::LumaF32`] of it gives exactly the hash of `pixels`.
    pub fn luma_into(
        &self,
        pixels: Pixels<'_>,
        width: usize,
        height: usize,
        out: &mut Vec<f32>,
    ) -> Result<(), HashError> {
        let n = checked_pixels(pixels, width, height)?;
        out.resize(n, 0.0);
        for (y, row) in out.chunks_exact_mut(width.max(1)).enumerate() {
            fill_luma_row(pixels, width, y, self.formula, row);
        }
        Ok(())
    }

    /// Whether [`Hasher::hash`] of a `width x height` image goes through the box filter (it
    /// does unless the image is already 64x64 or too small to hash).
    pub(crate) fn filters(width: usize, height: usize) -> bool {
        width >= MIN_HASHABLE_DIM && height >= MIN_HASHABLE_DIM && !(width == 64 && height == 64)
    }

    /// The first (row) pass of the box filter over a luma plane, into `out`. A row pass treats
    /// every row alike, so the row pass of the plane with its rows in reverse order is this
    /// one with its rows in reverse order, to the bit. Only for sizes that [`Hasher::filters`].
    pub(crate) fn row_pass_of(
        &mut self,
        luma: &[f32],
        width: usize,
        height: usize,
        out: &mut Vec<f32>,
    ) {
        self.size_scratch(width, height);
        self.row_pass(Pixels::LumaF32(luma), width, height);
        out.clear();
        out.extend_from_slice(&self.b[..width * height]);
    }

    /// The hash of the plane whose row pass is `rows` (from [`Hasher::row_pass_of`]), taken in
    /// reverse row order when `reversed`: exactly [`Hasher::hash`] of that plane.
    pub(crate) fn hash_from_row_pass(
        &mut self,
        rows: &[f32],
        width: usize,
        height: usize,
        reversed: bool,
    ) -> PdqHash {
        self.size_scratch(width, height);
        if reversed {
            for (dst, src) in self.b[..width * height]
                .chunks_exact_mut(width)
                .zip(rows.chunks_exact(width).rev())
            {
                dst.copy_from_slice(src);
            }
        } else {
            self.b[..width * height].copy_from_slice(rows);
        }
        let mut a64 = [[0f32; 64]; 64];
        self.downsample_after_row_pass(width, height, &mut a64);
        let quality = quality_metric(&a64);
        let (hash, ties) = bits_from_block(&self.dct64_to_16(&a64));
        PdqHash {
            hash,
            quality,
            degenerate: quality == 0 || ties >= DEGENERATE_MEDIAN_TIES,
        }
    }

    /// PDQ hashes of all eight dihedral variants (one DCT), with quality.
    pub fn hash_dihedral(
        &mut self,
        pixels: Pixels<'_>,
        width: usize,
        height: usize,
    ) -> Result<DihedralHashes, HashError> {
        let Some((block, quality)) = self.dct16(pixels, width, height)? else {
            return Ok(DihedralHashes {
                hashes: [Hash256::ZERO; 8],
                quality: 0,
                degenerate: true,
            });
        };
        let mut hashes = [Hash256::ZERO; 8];
        let mut aux = [[0f32; 16]; 16];
        let mut ties0 = 0;
        for d in Dihedral::ALL {
            dihedral_transform(&block, &mut aux, d);
            let (h, ties) = bits_from_block(&aux);
            if d == Dihedral::Original {
                ties0 = ties;
            }
            hashes[d.index()] = h;
        }
        Ok(DihedralHashes {
            hashes,
            quality,
            degenerate: quality == 0 || ties0 >= DEGENERATE_MEDIAN_TIES,
        })
    }

    /// Computes the 16x16 DCT block and quality; `None` for images below 5x5.
    fn dct16(
        &mut self,
        pixels: Pixels<'_>,
        width: usize,
        height: usize,
    ) -> Result<Option<(Block, u8)>, HashError> {
        checked_pixels(pixels, width, height)?;
        if let Pixels::LumaF32(l) = pixels
            && l.iter().any(|v| !v.is_finite())
        {
            return Err(HashError::NonFinite);
        }
        if width < MIN_HASHABLE_DIM || height < MIN_HASHABLE_DIM {
            return Ok(None);
        }
        let mut a64 = [[0f32; 64]; 64];
        if width == 64 && height == 64 {
            // The reference skips the blur when the input is already 64x64.
            let mut row = vec![0f32; 64];
            for (i, out) in a64.iter_mut().enumerate() {
                fill_luma_row(pixels, width, i, self.formula, &mut row);
                out.copy_from_slice(&row);
            }
        } else {
            self.downsample(pixels, width, height, &mut a64);
        }
        let quality = quality_metric(&a64);
        Ok(Some((self.dct64_to_16(&a64), quality)))
    }

    /// Luma, two Jarosz passes (box along rows then columns, twice), and 64x64 decimation.
    fn downsample(&mut self, pixels: Pixels<'_>, w: usize, h: usize, out: &mut [[f32; 64]; 64]) {
        self.size_scratch(w, h);
        self.row_pass(pixels, w, h);
        self.downsample_after_row_pass(w, h, out);
    }

    fn size_scratch(&mut self, w: usize, h: usize) {
        let n = w * h;
        self.a.resize(n, 0.0);
        self.b.resize(n, 0.0);
        self.strip_in.resize(w * STRIP, 0.0);
        self.strip_out.resize(w * STRIP, 0.0);
        self.sums.resize(w.max(64), 0.0);
        self.c2.resize(h * 64, 0.0);
        self.c3.resize(h * 64, 0.0);
    }

    /// Pass 1 along rows: luma straight into transposed strips, box, scatter into `b`.
    fn row_pass(&mut self, pixels: Pixels<'_>, w: usize, h: usize) {
        let wr = jarosz_window(w, 64);
        let formula = self.formula;
        let mut row = std::mem::take(&mut self.sums);
        row.resize(w.max(64), 0.0);
        let mut r0 = 0;
        while r0 < h {
            let nr = STRIP.min(h - r0);
            for r in 0..STRIP {
                if r < nr {
                    fill_luma_row(pixels, w, r0 + r, formula, &mut row[..w]);
                    for (c, v) in row[..w].iter().enumerate() {
                        self.strip_in[c * STRIP + r] = *v;
                    }
                } else {
                    for c in 0..w {
                        self.strip_in[c * STRIP + r] = 0.0;
                    }
                }
            }
            box_strip(&self.strip_in, &mut self.strip_out, w, wr);
            for r in 0..nr {
                let dst = &mut self.b[(r0 + r) * w..(r0 + r + 1) * w];
                for (c, v) in dst.iter_mut().enumerate() {
                    *v = self.strip_out[c * STRIP + r];
                }
            }
            r0 += STRIP;
        }
        self.sums = row;
    }

    /// The rest of the downsample, from the row pass in `b`.
    fn downsample_after_row_pass(&mut self, w: usize, h: usize, out: &mut [[f32; 64]; 64]) {
        let wr = jarosz_window(w, 64);
        let wc = jarosz_window(h, 64);
        let rows_idx = decimation_indices(h);
        let cols_idx = decimation_indices(w);
        let mut row = std::mem::take(&mut self.sums);
        row.resize(w.max(64), 0.0);
        // Pass 1, along columns: b -> a.
        box_vertical(&self.b, &mut self.a, h, w, wc, &mut row[..w]);
        // Pass 2, along rows, keeping only the 64 decimation columns: a -> c2 (h x 64).
        let mut r0 = 0;
        while r0 < h {
            let nr = STRIP.min(h - r0);
            for r in 0..STRIP {
                if r < nr {
                    let src = &self.a[(r0 + r) * w..(r0 + r + 1) * w];
                    for (c, v) in src.iter().enumerate() {
                        self.strip_in[c * STRIP + r] = *v;
                    }
                } else {
                    for c in 0..w {
                        self.strip_in[c * STRIP + r] = 0.0;
                    }
                }
            }
            box_strip(&self.strip_in, &mut self.strip_out, w, wr);
            for r in 0..nr {
                let dst = &mut self.c2[(r0 + r) * 64..(r0 + r + 1) * 64];
                for (k, v) in dst.iter_mut().enumerate() {
                    *v = self.strip_out[cols_idx[k] * STRIP + r];
                }
            }
            r0 += STRIP;
        }
        // Pass 2, along columns on the 64 kept columns: c2 -> c3; then pick the 64 rows.
        box_vertical(&self.c2, &mut self.c3, h, 64, wc, &mut row[..64]);
        self.sums = row;
        for (k, out_row) in out.iter_mut().enumerate() {
            out_row.copy_from_slice(&self.c3[rows_idx[k] * 64..rows_idx[k] * 64 + 64]);
        }
    }

    /// `B = D A D^T`, accumulating in the reference's order.
    fn dct64_to_16(&self, a: &[[f32; 64]; 64]) -> [[f32; 16]; 16] {
        let mut t = [[0f32; 64]; 16];
        for (i, t_row) in t.iter_mut().enumerate() {
            let d_row = &self.dct[i];
            for (k, a_row) in a.iter().enumerate() {
                let d = d_row[k];
                for (tv, av) in t_row.iter_mut().zip(a_row.iter()) {
                    *tv += d * *av;
                }
            }
        }
        let mut b = [[0f32; 16]; 16];
        for (i, b_row) in b.iter_mut().enumerate() {
            for (k, dt_row) in self.dct_t.iter().enumerate() {
                let tv = t[i][k];
                for (bv, dv) in b_row.iter_mut().zip(dt_row.iter()) {
                    *bv += tv * *dv;
                }
            }
        }
        b
    }
}

/// The number of pixels, once `pixels` is checked to hold exactly `width x height` of them.
fn checked_pixels(pixels: Pixels<'_>, width: usize, height: usize) -> Result<usize, HashError> {
    let n = width
        .checked_mul(height)
        .ok_or(HashError::TooLarge { width, height })?;
    let expected = n
        .checked_mul(pixels.channels())
        .ok_or(HashError::TooLarge { width, height })?;
    if pixels.len() != expected {
        return Err(HashError::BufferSize {
            expected,
            got: pixels.len(),
        });
    }
    Ok(n)
}

/// Fills one row of float luma from any pixel input.
#[inline]
fn fill_luma_row(pixels: Pixels<'_>, w: usize, y: usize, formula: LumaFormula, out: &mut [f32]) {
    match pixels {
        Pixels::Rgb8(p) => rgb_row_to_luma(&p[y * w * 3..(y + 1) * w * 3], 3, formula, out),
        Pixels::Rgba8(p) => rgb_row_to_luma(&p[y * w * 4..(y + 1) * w * 4], 4, formula, out),
        Pixels::Luma8(p) => {
            for (o, v) in out.iter_mut().zip(&p[y * w..(y + 1) * w]) {
                *o = f32::from(*v);
            }
        }
        Pixels::LumaF32(p) => out.copy_from_slice(&p[y * w..(y + 1) * w]),
    }
}

#[inline]
fn rgb_row_to_luma(src: &[u8], stride: usize, formula: LumaFormula, out: &mut [f32]) {
    match formula {
        LumaFormula::Float64 => {
            for (o, px) in out.iter_mut().zip(src.chunks_exact(stride)) {
                let y =
                    f64::from(px[0]) * 0.299 + f64::from(px[1]) * 0.587 + f64::from(px[2]) * 0.114;
                *o = y as f32;
            }
        }
        LumaFormula::Float32 => {
            let (cr, cg, cb) = (0.299f32, 0.587f32, 0.114f32);
            for (o, px) in out.iter_mut().zip(src.chunks_exact(stride)) {
                *o = cr * f32::from(px[0]) + cg * f32::from(px[1]) + cb * f32::from(px[2]);
            }
        }
    }
}

/// Phase lengths of the reference's 1-D box filter for a window and vector length.
#[inline]
fn box_phases(window: usize, len: usize) -> (usize, usize, usize, usize) {
    let half = (window + 2) / 2;
    let p1 = half - 1;
    let p2 = (window + 1)
        .saturating_sub(half)
        .min(len.saturating_sub(p1));
    let p3 = len.saturating_sub(window);
    let p4 = (half - 1).min(len.saturating_sub(p2 + p3));
    (p1, p2, p3, p4)
}

/// The reference's 1-D box filter applied to `len` vectors of `width` lanes at once: lane `l`
/// of element `t` is `input[t * width + l]`. Each lane sees exactly the reference's sequence
/// of float operations.
#[inline(always)]
fn box_lanes(
    input: &[f32],
    output: &mut [f32],
    len: usize,
    width: usize,
    window: usize,
    sum: &mut [f32],
) {
    let (p1, p2, p3, p4) = box_phases(window, len);
    let sum = &mut sum[..width];
    sum.fill(0.0);
    let lane = |t: usize| t * width..(t + 1) * width;
    let mut ri = 0;
    let mut li = 0;
    let mut oi = 0;
    let mut cws = 0u32;
    for _ in 0..p1 {
        for (s, x) in sum.iter_mut().zip(&input[lane(ri)]) {
            *s += *x;
        }
        cws += 1;
        ri += 1;
    }
    for _ in 0..p2 {
        cws += 1;
        let div = cws as f32;
        for ((s, x), o) in sum
            .iter_mut()
            .zip(&input[lane(ri)])
            .zip(&mut output[lane(oi)])
        {
            *s += *x;
            *o = *s / div;
        }
        ri += 1;
        oi += 1;
    }
    let div = cws as f32;
    for _ in 0..p3 {
        for (((s, x), y), o) in sum
            .iter_mut()
            .zip(&input[lane(ri)])
            .zip(&input[lane(li)])
            .zip(&mut output[lane(oi)])
        {
            *s += *x;
            *s -= *y;
            *o = *s / div;
        }
        ri += 1;
        li += 1;
        oi += 1;
    }
    for _ in 0..p4 {
        cws -= 1;
        let div = cws as f32;
        for ((s, y), o) in sum
            .iter_mut()
            .zip(&input[lane(li)])
            .zip(&mut output[lane(oi)])
        {
            *s -= *y;
            *o = *s / div;
        }
        li += 1;
        oi += 1;
    }
}

/// Box filter along a transposed strip of 8 rows (`[len][8]`).
fn box_strip(input: &[f32], output: &mut [f32], len: usize, window: usize) {
    let mut sum = [0f32; STRIP];
    box_lanes(input, output, len, STRIP, window, &mut sum);
}

/// Box filter down the columns of a row-major `rows x cols` matrix.
fn box_vertical(
    input: &[f32],
    output: &mut [f32],
    rows: usize,
    cols: usize,
    window: usize,
    sum: &mut [f32],
) {
    box_lanes(input, output, rows, cols, window, sum);
}

/// The reference's image-domain quality metric on the 64x64 downsample.
fn quality_metric(a: &[[f32; 64]; 64]) -> u8 {
    let mut gradient_sum: i64 = 0;
    for (upper, lower) in a.iter().zip(&a[1..]) {
        for (u, v) in upper.iter().zip(lower) {
            let d = ((*u - *v) * 100.0) / 255.0;
            gradient_sum += i64::from((d as i32).unsigned_abs());
        }
    }
    for row in a.iter() {
        for (u, v) in row.iter().zip(&row[1..]) {
            let d = ((*u - *v) * 100.0) / 255.0;
            gradient_sum += i64::from((d as i32).unsigned_abs());
        }
    }
    (gradient_sum / 90).min(100) as u8
}

/// Torben Mogensen's median (as used by the reference), written for finite floats; returns the
/// same element the reference returns. Bounded iterations guard against pathological input.
fn torben_median(m: &[f32]) -> f32 {
    let n = m.len();
    let half = n.div_ceil(2);
    let (mut min, mut max) = (m[0], m[0]);
    for &x in &m[1..] {
        if x < min {
            min = x;
        }
        if x > max {
            max = x;
        }
    }
    let (mut guess, mut less, mut equal, mut maxlt, mut mingt);
    let mut iterations = 0;
    loop {
        guess = (min + max) / 2.0;
        less = 0usize;
        let mut greater = 0usize;
        equal = 0usize;
        maxlt = min;
        mingt = max;
        for &x in m {
            if x < guess {
                less += 1;
                if x > maxlt {
                    maxlt = x;
                }
            } else if x > guess {
                greater += 1;
                if x < mingt {
                    mingt = x;
                }
            } else {
                equal += 1;
            }
        }
        iterations += 1;
        if (less <= half && greater <= half) || iterations > 4096 {
            break;
        }
        if less > greater {
            max = maxlt;
        } else {
            min = mingt;
        }
    }
    if less >= half {
        maxlt
    } else if less + equal >= half {
        guess
    } else {
        mingt
    }
}

/// Hash bits from a 16x16 DCT block, and how many coefficients tie with the median.
fn bits_from_block(block: &[[f32; 16]; 16]) -> (Hash256, usize) {
    let flat: &[f32; 256] = block.as_flattened().try_into().unwrap_or(&[0.0; 256]);
    let median = torben_median(flat);
    let mut h = Hash256::ZERO;
    let mut ties = 0;
    for (k, v) in flat.iter().enumerate() {
        if *v > median {
            h.set_bit(k);
        } else if *v == median {
            ties += 1;
        }
    }
    (h, ties)
}

/// The reference's sign/transpose rules mapping the DCT of an image to the DCT of its
/// dihedral variants.
fn dihedral_transform(a: &[[f32; 16]; 16], b: &mut [[f32; 16]; 16], d: Dihedral) {
    for i in 0..16 {
        for j in 0..16 {
            let v = a[i][j];
            let odd_i = i & 1 == 1;
            let odd_j = j & 1 == 1;
            let odd_ij = (i + j) & 1 == 1;
            match d {
                Dihedral::Original => b[i][j] = v,
                Dihedral::Rotate90 => b[j][i] = if odd_j { v } else { -v },
                Dihedral::Rotate180 => b[i][j] = if odd_ij { -v } else { v },
                Dihedral::Rotate270 => b[j][i] = if odd_i { v } else { -v },
                Dihedral::FlipX => b[i][j] = if odd_i { v } else { -v },
                Dihedral::FlipY => b[i][j] = if odd_j { v } else { -v },
                Dihedral::FlipPlus1 => b[j][i] = v,
                Dihedral::FlipMinus1 => b[j][i] = if odd_ij { -v } else { v },
            }
        }
    }
}

/// Hashes interleaved 8-bit RGB with a fresh [`Hasher`] (convenience; reuse a `Hasher` when
/// hashing many images).
pub fn hash_rgb8(rgb: &[u8], width: usize, height: usize) -> Result<PdqHash, HashError> {
    Hasher::new().hash(Pixels::Rgb8(rgb), width, height)
}

/// All eight dihedral hashes of interleaved 8-bit RGB with a fresh [`Hasher`].
pub fn hash_dihedral_rgb8(
    rgb: &[u8],
    width: usize,
    height: usize,
) -> Result<DihedralHashes, HashError> {
    Hasher::new().hash_dihedral(Pixels::Rgb8(rgb), width, height)
}

#[cfg(test)]
#[allow(clippy::needless_range_loop)]
pub(crate) mod reference {
    //! A literal, slow port of the reference's loops (row-major buffers, strided 1-D box
    //! filter), used only to check the optimised path.
    use super::*;

    fn box1d(input: &[f32], output: &mut [f32], len: usize, stride: usize, window: usize) {
        let half = (window + 2) / 2;
        let p1 = half as isize - 1;
        let p2 = window as isize - half as isize + 1;
        let p3 = len as isize - window as isize;
        let p4 = half as isize - 1;
        let (mut li, mut ri, mut oi) = (0usize, 0usize, 0usize);
        let mut sum = 0f32;
        let mut cws = 0i32;
        for _ in 0..p1.max(0) {
            sum += input[ri];
            cws += 1;
            ri += stride;
        }
        for _ in 0..p2.max(0) {
            sum += input[ri];
            cws += 1;
            output[oi] = sum / cws as f32;
            ri += stride;
            oi += stride;
        }
        for _ in 0..p3.max(0) {
            sum += input[ri];
            sum -= input[li];
            output[oi] = sum / cws as f32;
            li += stride;
            ri += stride;
            oi += stride;
        }
        for _ in 0..p4.max(0) {
            sum -= input[li];
            cws -= 1;
            output[oi] = sum / cws as f32;
            li += stride;
            oi += stride;
        }
    }

    /// Reference DCT block and quality from row-major float luma.
    pub fn dct_block(luma: &[f32], rows: usize, cols: usize) -> ([[f32; 16]; 16], u8) {
        let mut b1 = luma.to_vec();
        let mut b2 = vec![0f32; rows * cols];
        let mut a = [[0f32; 64]; 64];
        if rows == 64 && cols == 64 {
            for i in 0..64 {
                a[i].copy_from_slice(&b1[i * 64..i * 64 + 64]);
            }
        } else {
            let wr = jarosz_window(cols, 64);
            let wc = jarosz_window(rows, 64);
            for _ in 0..2 {
                for i in 0..rows {
                    box1d(&b1[i * cols..], &mut b2[i * cols..], cols, 1, wr);
                }
                for j in 0..cols {
                    box1d(&b2[j..], &mut b1[j..], rows, cols, wc);
                }
            }
            for (oi, row) in a.iter_mut().enumerate() {
                let ini = (((oi as f64 + 0.5) * rows as f64) / 64.0) as usize;
                for (oj, v) in row.iter_mut().enumerate() {
                    let inj = (((oj as f64 + 0.5) * cols as f64) / 64.0) as usize;
                    *v = b1[ini * cols + inj];
                }
            }
        }
        let q = quality_metric(&a);
        let d = dct_matrix();
        let mut t = [[0f32; 64]; 16];
        for i in 0..16 {
            for j in 0..64 {
                let mut s = 0f32;
                for k in 0..64 {
                    s += d[i][k] * a[k][j];
                }
                t[i][j] = s;
            }
        }
        let mut b = [[0f32; 16]; 16];
        for i in 0..16 {
            for j in 0..16 {
                let mut s = 0f32;
                for k in 0..64 {
                    s += t[i][k] * d[j][k];
                }
                b[i][j] = s;
            }
        }
        (b, q)
    }

    /// Reference hash of row-major float luma.
    pub fn hash_luma(luma: &[f32], rows: usize, cols: usize) -> (Hash256, u8) {
        if rows < MIN_HASHABLE_DIM || cols < MIN_HASHABLE_DIM {
            return (Hash256::ZERO, 0);
        }
        let (b, q) = dct_block(luma, rows, cols);
        (bits_from_block(&b).0, q)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn torben_is_the_upper_middle_element() {
        let v: Vec<f32> = (0..256).rev().map(|x| x as f32).collect();
        assert_eq!(torben_median(&v), 127.0);
        assert_eq!(torben_median(&[1.0, 2.0, 3.0]), 2.0);
        assert_eq!(torben_median(&[5.0; 256]), 5.0);
    }

    #[test]
    fn small_and_flat_images_are_degenerate() {
        let mut h = Hasher::new();
        let r = h.hash(Pixels::Luma8(&[7u8; 16]), 4, 4).unwrap();
        assert_eq!(r.hash, Hash256::ZERO);
        assert!(r.degenerate);
        let flat = vec![128u8; 100 * 80 * 3];
        let r = h.hash(Pixels::Rgb8(&flat), 100, 80).unwrap();
        assert_eq!(r.quality, 0);
        assert!(r.degenerate);
    }

    #[test]
    fn buffer_size_is_checked() {
        let mut h = Hasher::new();
        assert!(matches!(
            h.hash(Pixels::Rgb8(&[0u8; 10]), 10, 10),
            Err(HashError::BufferSize { .. })
        ));
        assert!(matches!(
            h.hash(Pixels::LumaF32(&[f32::NAN; 100]), 10, 10),
            Err(HashError::NonFinite)
        ));
    }

    #[test]
    fn fast_path_equals_literal_port() {
        let mut seed = 12345u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut hasher = Hasher::new();
        for &(w, h) in &[(5, 5), (64, 64), (65, 63), (129, 7), (300, 211), (17, 640)] {
            let luma: Vec<f32> = (0..w * h)
                .map(|i| ((next() % 256) as f32 + (i % 7) as f32) * 0.9)
                .collect();
            let ours = hasher.hash(Pixels::LumaF32(&luma), w, h).unwrap();
            let (rh, rq) = reference::hash_luma(&luma, h, w);
            assert_eq!((ours.hash, ours.quality), (rh, rq), "{w}x{h}");
        }
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(200))]
            #[test]
            fn arbitrary_buffers_never_panic_and_match_the_port(
                w in 0usize..80, h in 0usize..80, extra in 0usize..3,
                seed in any::<u64>(), kind in 0u8..4,
            ) {
                let mut s = seed | 1;
                let mut next = move || { s ^= s << 13; s ^= s >> 7; s ^= s << 17; s };
                let channels = [3usize, 4, 1, 1][kind as usize];
                let len = (w * h * channels + extra).saturating_sub(1);
                let bytes: Vec<u8> = (0..len).map(|_| (next() % 256) as u8).collect();
                let floats: Vec<f32> = bytes.iter().map(|b| f32::from(*b) * 0.5).collect();
                let px = match kind {
                    0 => Pixels::Rgb8(&bytes),
                    1 => Pixels::Rgba8(&bytes),
                    2 => Pixels::Luma8(&bytes),
                    _ => Pixels::LumaF32(&floats),
                };
                let mut hasher = Hasher::new();
                let one = hasher.hash(px, w, h);
                let all = hasher.hash_dihedral(px, w, h);
                prop_assert_eq!(one.is_ok(), all.is_ok());
                if let (Ok(one), Ok(all)) = (one, all) {
                    prop_assert_eq!(one.hash, all.hashes[0]);
                    if kind == 3 {
                        let (rh, rq) = reference::hash_luma(&floats, h, w);
                        prop_assert_eq!((one.hash, one.quality), (rh, rq));
                    }
                }
            }
        }
    }
}
