//! Views of an image that make matching robust to borders, crops and small logos:
//! border trimming, centre crops for bank entries, and a tile pyramid for finding a logo
//! inside a larger photo.

use crate::bank::{QueryView, ReferenceHash};
use crate::hash::Dihedral;
use crate::pdq::{DihedralHashes, HashError, Hasher, Pixels};

/// A rectangle in pixels: `x0..x1` by `y0..y1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    /// Left (inclusive).
    pub x0: usize,
    /// Top (inclusive).
    pub y0: usize,
    /// Right (exclusive).
    pub x1: usize,
    /// Bottom (exclusive).
    pub y1: usize,
}

impl Rect {
    /// Width.
    pub fn width(&self) -> usize {
        self.x1.saturating_sub(self.x0)
    }
    /// Height.
    pub fn height(&self) -> usize {
        self.y1.saturating_sub(self.y0)
    }
}

/// Which views to hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViewOptions {
    /// Add a border-trimmed view (uniform margins removed) when it differs from the whole.
    pub trim: bool,
    /// Bank side: also index centre crops of these percentages per side (e.g. `[5, 10]`).
    pub crops: &'static [u8],
    /// Bank side: also index crops of this percentage off one side (4 views) and off two
    /// adjacent sides (4 views), for listings cropped unevenly (0: none).
    pub side_crops: u8,
    /// Bank side: also index the content at half its width and height (a small copy's
    /// resampling differs from PDQ's own box filter on tiny images).
    pub half: bool,
    /// Query side: add a tile pyramid (for a logo inside a larger photo).
    pub tiles: bool,
    /// How far (0-255, per channel) a pixel may be from the border colour and still be border.
    pub trim_tolerance: u8,
    /// Query side: compute each dihedral hash from the actually rotated/flipped pixels (8
    /// hashes per view) instead of deriving them from one DCT. Lossless rotations and flips
    /// then match exactly; the DCT derivation is 8x cheaper but its resampling is not exactly
    /// symmetric, which costs recall on logos and thin line art.
    pub pixel_dihedral: bool,
}

impl ViewOptions {
    /// Whole image only: plain PDQ.
    pub const PLAIN: ViewOptions = ViewOptions {
        trim: false,
        crops: &[],
        side_crops: 0,
        half: false,
        tiles: false,
        trim_tolerance: 24,
        pixel_dihedral: false,
    };
    /// Recommended for bank entries: whole, trimmed, 5% and 10% centre crops, 5% off each
    /// side and off each pair of adjacent sides, and a half-size copy.
    pub const BANK: ViewOptions = ViewOptions {
        trim: true,
        crops: &[5, 10],
        side_crops: 5,
        half: true,
        tiles: false,
        trim_tolerance: 24,
        pixel_dihedral: false,
    };
    /// Listing images: whole and trimmed, dihedral hashes from the DCT (cheapest).
    pub const QUERY: ViewOptions = ViewOptions {
        trim: true,
        crops: &[],
        side_crops: 0,
        half: false,
        tiles: false,
        trim_tolerance: 24,
        pixel_dihedral: false,
    };
    /// Recommended for listing images: whole and trimmed, dihedral hashes from the rotated
    /// and flipped pixels.
    pub const QUERY_PIXEL_DIHEDRAL: ViewOptions = ViewOptions {
        trim: true,
        crops: &[],
        side_crops: 0,
        half: false,
        tiles: false,
        trim_tolerance: 24,
        pixel_dihedral: true,
    };
    /// Listing images, also searching for logos inside the photo (tile pyramid).
    pub const QUERY_WITH_TILES: ViewOptions = ViewOptions {
        trim: true,
        crops: &[],
        side_crops: 0,
        half: false,
        tiles: true,
        trim_tolerance: 24,
        pixel_dihedral: false,
    };
}

/// The bounding box of the non-border content of an RGB image: rows and columns at the edges
/// whose every pixel is within `tolerance` of the border colour (taken from the corners) are
/// removed. Returns the whole image when nothing is trimmed or the content would be tiny.
pub fn trim_rect(rgb: &[u8], width: usize, height: usize, tolerance: u8) -> Rect {
    let full = Rect {
        x0: 0,
        y0: 0,
        x1: width,
        y1: height,
    };
    if width < 8 || height < 8 || rgb.len() != width * height * 3 {
        return full;
    }
    let px = |x: usize, y: usize| -> [u8; 3] {
        let i = (y * width + x) * 3;
        [rgb[i], rgb[i + 1], rgb[i + 2]]
    };
    // Border colour: the most common of the four corners (top-left if all differ).
    let corners = [
        px(0, 0),
        px(width - 1, 0),
        px(0, height - 1),
        px(width - 1, height - 1),
    ];
    let close = |a: [u8; 3], b: [u8; 3]| a.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= tolerance);
    let bg = *corners
        .iter()
        .max_by_key(|c| corners.iter().filter(|d| close(**c, **d)).count())
        .unwrap_or(&corners[0]);
    let row_is_bg = |y: usize| (0..width).all(|x| close(px(x, y), bg));
    let col_is_bg = |x: usize, y0: usize, y1: usize| (y0..y1).all(|y| close(px(x, y), bg));
    let mut r = full;
    while r.y0 < r.y1 && row_is_bg(r.y0) {
        r.y0 += 1;
    }
    while r.y1 > r.y0 && row_is_bg(r.y1 - 1) {
        r.y1 -= 1;
    }
    while r.x0 < r.x1 && col_is_bg(r.x0, r.y0, r.y1) {
        r.x0 += 1;
    }
    while r.x1 > r.x0 && col_is_bg(r.x1 - 1, r.y0, r.y1) {
        r.x1 -= 1;
    }
    if r.width() < 8 || r.height() < 8 {
        return full;
    }
    r
}

/// Copies a rectangle out of an RGB image.
pub fn crop_rgb(rgb: &[u8], width: usize, rect: Rect) -> Vec<u8> {
    let mut out = Vec::with_capacity(rect.width() * rect.height() * 3);
    for y in rect.y0..rect.y1 {
        let row = &rgb[(y * width + rect.x0) * 3..(y * width + rect.x1) * 3];
        out.extend_from_slice(row);
    }
    out
}

fn inset(r: Rect, percent: u8) -> Rect {
    let dx = r.width() * usize::from(percent) / 100;
    let dy = r.height() * usize::from(percent) / 100;
    Rect {
        x0: r.x0 + dx,
        y0: r.y0 + dy,
        x1: r.x1 - dx,
        y1: r.y1 - dy,
    }
}

fn hash_rect(
    hasher: &mut Hasher,
    rgb: &[u8],
    width: usize,
    rect: Rect,
    pixel_dihedral: bool,
) -> Result<DihedralHashes, HashError> {
    let sub = crop_rgb(rgb, width, rect);
    if pixel_dihedral {
        hash_pixel_dihedral(hasher, &sub, rect.width(), rect.height())
    } else {
        hasher.hash_dihedral(Pixels::Rgb8(&sub), rect.width(), rect.height())
    }
}

/// Resamples an RGB image to `nw x nh` (triangle filter, as image editors shrink).
fn resize_to(rgb: &[u8], w: usize, h: usize, nw: usize, nh: usize) -> Vec<u8> {
    match image::RgbImage::from_raw(w as u32, h as u32, rgb.to_vec()) {
        Some(img) => image::imageops::resize(
            &img,
            nw.max(1) as u32,
            nh.max(1) as u32,
            image::imageops::FilterType::Triangle,
        )
        .into_raw(),
        None => rgb.to_vec(),
    }
}

/// Scales an RGB image down (triangle filter) so its longer side is at most `max_side`.
fn downscale_to(rgb: &[u8], w: usize, h: usize, max_side: usize) -> (Vec<u8>, usize, usize) {
    let longest = w.max(h);
    if longest <= max_side {
        return (rgb.to_vec(), w, h);
    }
    let nw = (w * max_side / longest).max(1);
    let nh = (h * max_side / longest).max(1);
    match image::RgbImage::from_raw(w as u32, h as u32, rgb.to_vec()) {
        Some(img) => {
            let out = image::imageops::resize(
                &img,
                nw as u32,
                nh as u32,
                image::imageops::FilterType::Triangle,
            );
            (out.into_raw(), nw, nh)
        }
        None => (rgb.to_vec(), w, h),
    }
}

fn check_len(rgb: &[u8], w: usize, h: usize) -> Result<(), HashError> {
    let expected = w
        .checked_mul(h)
        .and_then(|n| n.checked_mul(3))
        .ok_or(HashError::TooLarge {
            width: w,
            height: h,
        })?;
    if rgb.len() != expected {
        return Err(HashError::BufferSize {
            expected,
            got: rgb.len(),
        });
    }
    Ok(())
}

/// Applies a dihedral transform to RGB pixels, with the same meaning as the reference's
/// dihedral hashes: the PDQ hash of the result is (up to resampling) the corresponding
/// dihedral hash of the input. Returns the pixels and the new width and height.
///
/// The buffer must hold `w * h * 3` bytes; otherwise the image is returned unchanged.
pub fn transform_pixels(rgb: &[u8], w: usize, h: usize, d: Dihedral) -> (Vec<u8>, usize, usize) {
    if check_len(rgb, w, h).is_err() {
        return (rgb.to_vec(), w, h);
    }
    let px: Vec<[u8; 3]> = rgb.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect();
    let mut out = Vec::new();
    let (ow, oh) = transform_plane(&px, w, h, d, &mut out);
    (out.into_iter().flatten().collect(), ow, oh)
}

/// Applies a dihedral transform to a plane of `w * h` values (row-major) into `out`, with the
/// mapping of [`transform_pixels`]. Returns the new width and height.
pub(crate) fn transform_plane<T: Copy + Default>(
    src: &[T],
    w: usize,
    h: usize,
    d: Dihedral,
    out: &mut Vec<T>,
) -> (usize, usize) {
    match as_flip(d) {
        (false, f) => {
            flip_into(src, w, h, f, out);
            (w, h)
        }
        (true, f) => {
            let mut t = Vec::new();
            transpose_into(src, w, h, &mut t);
            flip_into(&t, h, w, f, out);
            (h, w)
        }
    }
}

/// A dihedral transform as (whether it transposes, then the flip applied after): the four
/// transposing ones are the transpose (`FlipPlus1`) followed by a flip or a half turn.
fn as_flip(d: Dihedral) -> (bool, Dihedral) {
    match d {
        Dihedral::Original | Dihedral::FlipX | Dihedral::FlipY | Dihedral::Rotate180 => (false, d),
        Dihedral::FlipPlus1 => (true, Dihedral::Original),
        Dihedral::Rotate90 => (true, Dihedral::FlipX),
        Dihedral::Rotate270 => (true, Dihedral::FlipY),
        Dihedral::FlipMinus1 => (true, Dihedral::Rotate180),
    }
}

/// `out` = `src` (`w x h`) turned by `f`, one of the transforms that keep the shape.
fn flip_into<T: Copy>(src: &[T], w: usize, h: usize, f: Dihedral, out: &mut Vec<T>) {
    debug_assert_eq!(src.len(), w * h);
    out.clear();
    match f {
        Dihedral::FlipX => src
            .chunks_exact(w.max(1))
            .rev()
            .for_each(|r| out.extend_from_slice(r)),
        Dihedral::FlipY => {
            out.extend_from_slice(src);
            out.chunks_exact_mut(w.max(1)).for_each(|r| r.reverse());
        }
        Dihedral::Rotate180 => {
            out.extend_from_slice(src);
            out.reverse();
        }
        _ => out.extend_from_slice(src),
    }
}

/// `out[x * h + y] = src[y * w + x]`: the `h x w` transpose, in 16 x 16 tiles so both sides
/// of the copy stay in the cache.
fn transpose_into<T: Copy + Default>(src: &[T], w: usize, h: usize, out: &mut Vec<T>) {
    const TILE: usize = 16;
    out.clear();
    out.resize(w * h, T::default());
    for r0 in (0..h).step_by(TILE) {
        for c0 in (0..w).step_by(TILE) {
            let c1 = (c0 + TILE).min(w);
            for r in r0..(r0 + TILE).min(h) {
                for (k, v) in src[r * w + c0..r * w + c1].iter().enumerate() {
                    out[(c0 + k) * h + r] = *v;
                }
            }
        }
    }
}

/// The eight dihedral hashes computed from the transformed pixels (8 hashes).
///
/// Luma is a function of each pixel alone, so it is computed once and the float luma plane is
/// what gets turned and flipped (the four transposing transforms from one transpose), and the
/// box filter's row pass is shared by pairs of variants: the hashes are bit for bit those of
/// hashing the eight transformed RGB images (tested), in under half the time.
pub fn hash_pixel_dihedral(
    hasher: &mut Hasher,
    rgb: &[u8],
    w: usize,
    h: usize,
) -> Result<DihedralHashes, HashError> {
    check_len(rgb, w, h)?;
    // The planes live in the hasher between calls (no allocation per photo).
    let mut planes = std::mem::take(&mut hasher.planes);
    let result = pixel_dihedral_planes(hasher, rgb, w, h, &mut planes);
    hasher.planes = planes;
    result
}

fn pixel_dihedral_planes(
    hasher: &mut Hasher,
    rgb: &[u8],
    w: usize,
    h: usize,
    planes: &mut [Vec<f32>; 4],
) -> Result<DihedralHashes, HashError> {
    let [luma, transposed, turned, rows] = planes;
    hasher.luma_into(Pixels::Rgb8(rgb), w, h, luma)?;
    if !Hasher::filters(w, h) {
        // Already 64x64 or too small: no box filter to share.
        let mut out = hasher.hash_dihedral(Pixels::LumaF32(luma), w, h)?;
        if !out.degenerate {
            for d in Dihedral::ALL.iter().skip(1) {
                let (tw, th) = transform_plane(luma, w, h, *d, turned);
                out.hashes[d.index()] = hasher.hash(Pixels::LumaF32(turned), tw, th)?.hash;
            }
        }
        return Ok(out);
    }
    // The box filter's first pass runs along rows, each row alike: a variant whose rows are
    // another's in reverse order (a vertical flip) has that one's row pass in reverse order.
    // So four row passes serve the eight variants: the image (and its vertical flip), its
    // mirror (and the half turn), its transpose (and the quarter turn), and the transpose's
    // mirror (and the anti-diagonal flip).
    hasher.row_pass_of(luma, w, h, rows);
    let original = hasher.hash_from_row_pass(rows, w, h, false);
    if original.degenerate {
        return hasher.hash_dihedral(Pixels::LumaF32(luma), w, h);
    }
    let mut hashes = [original.hash; 8];
    hashes[Dihedral::FlipX.index()] = hasher.hash_from_row_pass(rows, w, h, true).hash;
    flip_into(luma, w, h, Dihedral::FlipY, turned);
    hasher.row_pass_of(turned, w, h, rows);
    hashes[Dihedral::FlipY.index()] = hasher.hash_from_row_pass(rows, w, h, false).hash;
    hashes[Dihedral::Rotate180.index()] = hasher.hash_from_row_pass(rows, w, h, true).hash;
    transpose_into(luma, w, h, transposed);
    hasher.row_pass_of(transposed, h, w, rows);
    hashes[Dihedral::FlipPlus1.index()] = hasher.hash_from_row_pass(rows, h, w, false).hash;
    hashes[Dihedral::Rotate90.index()] = hasher.hash_from_row_pass(rows, h, w, true).hash;
    flip_into(transposed, h, w, Dihedral::FlipY, turned);
    hasher.row_pass_of(turned, h, w, rows);
    hashes[Dihedral::Rotate270.index()] = hasher.hash_from_row_pass(rows, h, w, false).hash;
    hashes[Dihedral::FlipMinus1.index()] = hasher.hash_from_row_pass(rows, h, w, true).hash;
    Ok(DihedralHashes {
        hashes,
        quality: original.quality,
        degenerate: false,
    })
}

/// Hashes the views of an image: `"full"`, then (per `opts`) `"trim"`, `"cropN"` (N% off
/// each side of the trimmed content) and `"tileS x,y"` (a pyramid of overlapping tiles of
/// 1/2 and 1/3 of the trimmed content scaled to at most 512 px, at quarter-tile steps,
/// each trimmed; 106 tiles, dihedral hashes from the DCT).
pub fn hash_views(
    hasher: &mut Hasher,
    rgb: &[u8],
    width: usize,
    height: usize,
    opts: &ViewOptions,
) -> Result<Vec<(String, DihedralHashes)>, HashError> {
    check_len(rgb, width, height)?;
    let full = Rect {
        x0: 0,
        y0: 0,
        x1: width,
        y1: height,
    };
    let mut out = vec![(
        "full".to_string(),
        hash_rect(hasher, rgb, width, full, opts.pixel_dihedral)?,
    )];
    let base = if opts.trim {
        let t = trim_rect(rgb, width, height, opts.trim_tolerance);
        if t != full {
            out.push((
                "trim".to_string(),
                hash_rect(hasher, rgb, width, t, opts.pixel_dihedral)?,
            ));
        }
        t
    } else {
        full
    };
    for &p in opts.crops {
        let r = inset(base, p);
        if r.width() >= 16 && r.height() >= 16 {
            out.push((
                format!("crop{p}"),
                hash_rect(hasher, rgb, width, r, opts.pixel_dihedral)?,
            ));
        }
    }
    // Uneven crops, of the content and (when the content was trimmed) of the whole image:
    // a listing cropped from the whole image and then trimmed differs from both.
    let frames: &[(Rect, &str)] = if base != full {
        &[(base, ""), (full, " of full")]
    } else {
        &[(base, "")]
    };
    for &(frame, suffix) in frames.iter().filter(|_| opts.side_crops > 0) {
        let p = usize::from(opts.side_crops.min(40));
        let (dx, dy) = (frame.width() * p / 100, frame.height() * p / 100);
        let cut = |l: usize, t: usize, r: usize, b: usize| Rect {
            x0: frame.x0 + l,
            y0: frame.y0 + t,
            x1: frame.x1 - r,
            y1: frame.y1 - b,
        };
        let centre = if suffix.is_empty() {
            None
        } else {
            Some(("centre", cut(dx, dy, dx, dy)))
        };
        for (name, r) in centre.into_iter().chain([
            ("left", cut(dx, 0, 0, 0)),
            ("right", cut(0, 0, dx, 0)),
            ("top", cut(0, dy, 0, 0)),
            ("bottom", cut(0, 0, 0, dy)),
            ("top-left", cut(dx, dy, 0, 0)),
            ("top-right", cut(0, dy, dx, 0)),
            ("bottom-left", cut(dx, 0, 0, dy)),
            ("bottom-right", cut(0, 0, dx, dy)),
        ]) {
            if r.width() >= 16 && r.height() >= 16 && (dx > 0 || dy > 0) {
                out.push((
                    format!("cut{p} {name}{suffix}"),
                    hash_rect(hasher, rgb, width, r, opts.pixel_dihedral)?,
                ));
            }
        }
    }
    if opts.half && base.width() >= 32 && base.height() >= 32 {
        let sub = crop_rgb(rgb, width, base);
        let (hw, hh) = (base.width() / 2, base.height() / 2);
        let small = resize_to(&sub, base.width(), base.height(), hw, hh);
        let h = if opts.pixel_dihedral {
            hash_pixel_dihedral(hasher, &small, hw, hh)?
        } else {
            hasher.hash_dihedral(Pixels::Rgb8(&small), hw, hh)?
        };
        out.push(("half".to_string(), h));
    }
    if opts.tiles {
        // Tile pyramid on a copy of the content scaled to at most 512 px: tiles of 1/2 and 1/3
        // of the side, at quarter-tile steps, each trimmed of uniform margins.
        let sub = crop_rgb(rgb, width, base);
        let (small, sw, sh) = downscale_to(&sub, base.width(), base.height(), 512);
        for div in [2usize, 3] {
            let tw = sw / div;
            let th = sh / div;
            if tw < 32 || th < 32 {
                continue;
            }
            let steps = 4 * div - 3;
            for iy in 0..steps {
                for ix in 0..steps {
                    let x0 = ix * tw / 4;
                    let y0 = iy * th / 4;
                    let r = Rect {
                        x0,
                        y0,
                        x1: (x0 + tw).min(sw),
                        y1: (y0 + th).min(sh),
                    };
                    let tile = crop_rgb(&small, sw, r);
                    let t = trim_rect(&tile, r.width(), r.height(), opts.trim_tolerance);
                    let r2 = Rect {
                        x0: r.x0 + t.x0,
                        y0: r.y0 + t.y0,
                        x1: r.x0 + t.x1,
                        y1: r.y0 + t.y1,
                    };
                    out.push((
                        format!("tile{div} {ix},{iy}"),
                        hash_rect(hasher, &small, sw, r2, false)?,
                    ));
                }
            }
        }
    }
    Ok(out)
}

/// Bank-side: the reference hashes to register for an image (see [`ViewOptions::BANK`]).
pub fn reference_hashes(
    hasher: &mut Hasher,
    rgb: &[u8],
    width: usize,
    height: usize,
    opts: &ViewOptions,
) -> Result<Vec<ReferenceHash>, HashError> {
    Ok(hash_views(hasher, rgb, width, height, opts)?
        .into_iter()
        .map(|(view, h)| ReferenceHash {
            hash: h.hashes[0],
            quality: h.quality,
            degenerate: h.degenerate,
            view,
        })
        .collect())
}

/// Query-side: the views to match for a listing image (see [`ViewOptions::QUERY`] and
/// [`ViewOptions::QUERY_WITH_TILES`]).
pub fn query_views(
    hasher: &mut Hasher,
    rgb: &[u8],
    width: usize,
    height: usize,
    opts: &ViewOptions,
) -> Result<Vec<QueryView>, HashError> {
    Ok(hash_views(hasher, rgb, width, height, opts)?
        .into_iter()
        .map(|(view, hashes)| QueryView { view, hashes })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_a_white_border() {
        let (w, h) = (200, 150);
        let mut rgb = vec![255u8; w * h * 3];
        for y in 5..120 {
            for x in 10..171 {
                let i = (y * w + x) * 3;
                rgb[i] = (x * 2) as u8;
                rgb[i + 1] = 0;
                rgb[i + 2] = (y * 3) as u8;
            }
        }
        let r = trim_rect(&rgb, w, h, 24);
        assert_eq!(
            r,
            Rect {
                x0: 10,
                y0: 5,
                x1: 171,
                y1: 120
            }
        );
        let mut hasher = Hasher::new();
        let v = hash_views(&mut hasher, &rgb, w, h, &ViewOptions::QUERY_WITH_TILES).unwrap();
        assert_eq!(v[0].0, "full");
        assert_eq!(v[1].0, "trim");
        let refs = reference_hashes(&mut hasher, &rgb, w, h, &ViewOptions::BANK).unwrap();
        assert!(refs.iter().any(|r| r.view == "crop5"));
        assert!(v.iter().any(|(name, _)| name.starts_with("tile2")));
        let px = hash_views(&mut hasher, &rgb, w, h, &ViewOptions::QUERY_PIXEL_DIHEDRAL).unwrap();
        assert_eq!(px.len(), 2);
        // Wrong buffer sizes are errors, not panics.
        assert!(hash_views(&mut hasher, &rgb[1..], w, h, &ViewOptions::BANK).is_err());
        assert!(hash_pixel_dihedral(&mut hasher, &rgb[1..], w, h).is_err());
        // A flat image is left alone and does not panic.
        let flat = vec![7u8; 20 * 20 * 3];
        assert_eq!(trim_rect(&flat, 20, 20, 10).width(), 20);
    }

    /// The transform written the plain way, pixel by pixel, from the reference's definitions.
    fn plain_transform(rgb: &[u8], w: usize, h: usize, d: Dihedral) -> (Vec<u8>, usize, usize) {
        let (ow, oh) = match d {
            Dihedral::Original | Dihedral::Rotate180 | Dihedral::FlipX | Dihedral::FlipY => (w, h),
            _ => (h, w),
        };
        let mut out = Vec::with_capacity(ow * oh * 3);
        for y in 0..oh {
            for x in 0..ow {
                let (sx, sy) = match d {
                    Dihedral::Original => (x, y),
                    Dihedral::Rotate90 => (w - 1 - y, x),
                    Dihedral::Rotate180 => (w - 1 - x, h - 1 - y),
                    Dihedral::Rotate270 => (y, h - 1 - x),
                    Dihedral::FlipX => (x, h - 1 - y),
                    Dihedral::FlipY => (w - 1 - x, y),
                    Dihedral::FlipPlus1 => (y, x),
                    Dihedral::FlipMinus1 => (w - 1 - y, h - 1 - x),
                };
                let i = (sy * w + sx) * 3;
                out.extend_from_slice(&rgb[i..i + 3]);
            }
        }
        (out, ow, oh)
    }

    fn noise(w: usize, h: usize, seed: u64) -> Vec<u8> {
        let mut s = seed;
        (0..w * h * 3)
            .map(|i| {
                s = s
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                // Smooth gradients plus noise, so the hashes are not degenerate.
                ((i / 3 % w.max(1)) as u64 * 3 + (i / 3 / w.max(1)) as u64 * 2 + (s >> 60)) as u8
            })
            .collect()
    }

    #[test]
    fn plane_transforms_equal_the_pixel_definitions() {
        for (w, h) in [(1, 1), (1, 7), (7, 1), (33, 65), (64, 64), (100, 37)] {
            let rgb = noise(w, h, (w * 131 + h) as u64);
            for d in Dihedral::ALL {
                assert_eq!(
                    transform_pixels(&rgb, w, h, d),
                    plain_transform(&rgb, w, h, d),
                    "{d} on {w}x{h}"
                );
            }
        }
    }

    #[test]
    fn dihedral_hashes_from_the_luma_plane_equal_hashing_each_transformed_image() {
        let mut hasher = Hasher::new();
        for (w, h) in [
            (4, 9),
            (5, 5),
            (5, 64),
            (64, 64),
            (97, 130),
            (300, 211),
            (130, 64),
            (64, 65),
        ] {
            let rgb = noise(w, h, (w * 7 + h * 3) as u64);
            let fast = hash_pixel_dihedral(&mut hasher, &rgb, w, h).unwrap();
            let first = hasher.hash_dihedral(Pixels::Rgb8(&rgb), w, h).unwrap();
            assert_eq!(fast.quality, first.quality, "{w}x{h}");
            assert_eq!(fast.degenerate, first.degenerate, "{w}x{h}");
            if first.degenerate {
                assert_eq!(fast.hashes, first.hashes);
                continue;
            }
            for d in Dihedral::ALL {
                let (px, tw, th) = plain_transform(&rgb, w, h, d);
                let plain = hasher.hash(Pixels::Rgb8(&px), tw, th).unwrap().hash;
                assert_eq!(fast.hashes[d.index()], plain, "{d} on {w}x{h}");
            }
        }
    }
}
