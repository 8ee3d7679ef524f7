//! Robustness evaluation: how often a transformed copy of a registered image still matches,
//! and how often distinct images match each other, under several matching strategies; and the
//! logo-inside-a-photo case. Pure: callers load the images (see `examples/robustness.rs`).

use std::io::Cursor;
use std::time::Instant;

use image::{ImageFormat, RgbImage as ImgRgb, imageops};
use serde::Serialize;

use crate::bank::{Bank, BankConfig, BankKind, QueryView};
use crate::hash::Dihedral;
use crate::pdq::Hasher;
use crate::views::{ViewOptions, query_views, reference_hashes};

/// An image to evaluate with: 8-bit RGB.
#[derive(Debug, Clone)]
pub struct EvalImage {
    /// A name for reports.
    pub name: String,
    /// Width.
    pub width: usize,
    /// Height.
    pub height: usize,
    /// `width * height * 3` bytes.
    pub rgb: Vec<u8>,
}

/// The changes a listing image may have relative to the registered one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Transform {
    /// Re-encoded as JPEG at quality 50.
    Jpeg50,
    /// Resized to half the width and height.
    Half,
    /// Brightness +15% (each channel x1.15, clamped).
    Brighter15,
    /// 5% cropped off every side.
    Crop5,
    /// A white border of 10% of the size added on every side.
    WhiteBorder,
    /// Rotated 90 degrees clockwise.
    Rotate90,
    /// Mirrored left to right.
    Flip,
}

impl Transform {
    /// All transforms, in report order.
    pub const ALL: [Transform; 7] = [
        Transform::Jpeg50,
        Transform::Half,
        Transform::Brighter15,
        Transform::Crop5,
        Transform::WhiteBorder,
        Transform::Rotate90,
        Transform::Flip,
    ];

    /// Name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Transform::Jpeg50 => "jpeg q50",
            Transform::Half => "resize x0.5",
            Transform::Brighter15 => "brightness +15%",
            Transform::Crop5 => "crop 5% per side",
            Transform::WhiteBorder => "white border",
            Transform::Rotate90 => "rotate 90",
            Transform::Flip => "flip",
        }
    }

    /// Applies the transform.
    pub fn apply(self, img: &EvalImage) -> EvalImage {
        let Some(src) = ImgRgb::from_raw(img.width as u32, img.height as u32, img.rgb.clone())
        else {
            return img.clone();
        };
        let (w, h) = (img.width as u32, img.height as u32);
        let out: ImgRgb = match self {
            Transform::Jpeg50 => {
                let mut buf = Vec::new();
                let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut buf, 50);
                match src.write_with_encoder(enc) {
                    Ok(()) => image::load_from_memory_with_format(&buf, ImageFormat::Jpeg)
                        .map(|d| d.to_rgb8())
                        .unwrap_or(src),
                    Err(_) => src,
                }
            }
            Transform::Half => imageops::resize(
                &src,
                (w / 2).max(1),
                (h / 2).max(1),
                imageops::FilterType::Triangle,
            ),
            Transform::Brighter15 => {
                let mut o = src;
                for v in o.iter_mut() {
                    *v = (f32::from(*v) * 1.15).round().min(255.0) as u8;
                }
                o
            }
            Transform::Crop5 => {
                let (dx, dy) = (w * 5 / 100, h * 5 / 100);
                imageops::crop_imm(&src, dx, dy, w - 2 * dx, h - 2 * dy).to_image()
            }
            Transform::WhiteBorder => {
                let (dx, dy) = ((w / 10).max(1), (h / 10).max(1));
                let mut o = ImgRgb::from_pixel(w + 2 * dx, h + 2 * dy, image::Rgb([255, 255, 255]));
                imageops::replace(&mut o, &src, i64::from(dx), i64::from(dy));
                o
            }
            Transform::Rotate90 => imageops::rotate90(&src),
            Transform::Flip => imageops::flip_horizontal(&src),
        };
        EvalImage {
            name: format!("{} [{}]", img.name, self.name()),
            width: out.width() as usize,
            height: out.height() as usize,
            rgb: out.into_raw(),
        }
    }
}

/// A matching strategy: which views are indexed and queried, and whether the query's
/// dihedral hashes are used.
#[derive(Debug, Clone, Copy)]
pub struct Strategy {
    /// Name for reports.
    pub name: &'static str,
    /// Views registered per bank image.
    pub bank: ViewOptions,
    /// Views hashed per listing image.
    pub query: ViewOptions,
    /// Match all eight dihedral hashes of each query view (else only the original).
    pub dihedral: bool,
}

impl Strategy {
    /// Plain PDQ: one hash each side.
    pub const PLAIN: Strategy = Strategy {
        name: "plain PDQ",
        bank: ViewOptions::PLAIN,
        query: ViewOptions::PLAIN,
        dihedral: false,
    };
    /// Plain PDQ plus the query's dihedral hashes.
    pub const DIHEDRAL: Strategy = Strategy {
        name: "+ dihedral",
        bank: ViewOptions::PLAIN,
        query: ViewOptions::PLAIN,
        dihedral: true,
    };
    /// Dihedral plus border trimming on both sides.
    pub const TRIM: Strategy = Strategy {
        name: "+ dihedral + trim",
        bank: ViewOptions {
            trim: true,
            crops: &[],
            side_crops: 0,
            half: false,
            tiles: false,
            trim_tolerance: 24,
            pixel_dihedral: false,
        },
        query: ViewOptions::QUERY,
        dihedral: true,
    };
    /// Dihedral, trimming, and 5%/10% crops indexed per bank image (recommended).
    pub const FULL: Strategy = Strategy {
        name: "+ dihedral + trim + bank crops",
        bank: ViewOptions::BANK,
        query: ViewOptions::QUERY,
        dihedral: true,
    };
    /// All of the above, with the dihedral hashes computed from rotated and flipped pixels
    /// (8 hashes per query view; recommended).
    pub const FULL_PIXEL: Strategy = Strategy {
        name: "+ dihedral (pixels) + trim + bank crops",
        bank: ViewOptions::BANK,
        query: ViewOptions::QUERY_PIXEL_DIHEDRAL,
        dihedral: true,
    };
    /// The five above, from plain to recommended.
    pub const LADDER: [Strategy; 5] = [
        Strategy::PLAIN,
        Strategy::DIHEDRAL,
        Strategy::TRIM,
        Strategy::FULL,
        Strategy::FULL_PIXEL,
    ];
}

/// Recall for one transform.
#[derive(Debug, Clone, Serialize)]
pub struct TransformResult {
    /// Transform name.
    pub transform: String,
    /// Transformed copies that matched their own entry.
    pub matched: usize,
    /// Transformed copies queried.
    pub total: usize,
}

/// Results of one strategy.
#[derive(Debug, Clone, Serialize)]
pub struct StrategyReport {
    /// Strategy name.
    pub strategy: String,
    /// Recall per transform.
    pub per_transform: Vec<TransformResult>,
    /// Recall over all transforms together.
    pub recall: f64,
    /// Queries (originals and transformed copies) that matched at least one other entry.
    pub false_match_queries: usize,
    /// Queries made.
    pub queries: usize,
    /// `false_match_queries / queries`.
    pub false_match_rate: f64,
    /// (query, other entry) pairs that matched.
    pub false_pairs: usize,
    /// (query, other entry) pairs in all.
    pub pairs: usize,
    /// Indexed hashes per bank entry (memory cost of the bank views).
    pub hashes_per_entry: f64,
    /// Mean time to hash the query views and match them, in milliseconds.
    pub query_ms: f64,
}

/// The whole evaluation.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Images in the bank.
    pub entries: usize,
    /// Images left out because their hash was degenerate or below min quality.
    pub skipped: Vec<String>,
    /// Distance threshold used.
    pub max_distance: u32,
    /// Quality threshold used.
    pub min_quality: u8,
    /// One per strategy.
    pub strategies: Vec<StrategyReport>,
}

fn as_queries(views: Vec<QueryView>, dihedral: bool) -> Vec<QueryView> {
    if dihedral {
        return views;
    }
    views
        .into_iter()
        .map(|mut v| {
            let orig = v.hashes.get(Dihedral::Original);
            v.hashes.hashes = [orig; 8];
            v
        })
        .collect()
}

/// Registers `images` in a bank per strategy, queries every image and every transformed copy,
/// and reports recall per transform and the false-match rate.
pub fn robustness_eval(
    images: &[EvalImage],
    strategies: &[Strategy],
    kind: BankKind,
    max_distance: u32,
    min_quality: u8,
) -> Report {
    let mut hasher = Hasher::new();
    let mut report = Report {
        entries: 0,
        skipped: Vec::new(),
        max_distance,
        min_quality,
        strategies: Vec::new(),
    };
    // Transformed copies, made once.
    let copies: Vec<Vec<EvalImage>> = images
        .iter()
        .map(|img| Transform::ALL.iter().map(|t| t.apply(img)).collect())
        .collect();
    for strategy in strategies {
        let mut config = BankConfig::new("eval", kind);
        config.max_distance = max_distance;
        config.min_quality = min_quality;
        let mut bank = Bank::new(config);
        let mut skipped = Vec::new();
        for (i, img) in images.iter().enumerate() {
            let refs =
                reference_hashes(&mut hasher, &img.rgb, img.width, img.height, &strategy.bank)
                    .unwrap_or_default();
            if bank.insert(&i.to_string(), &img.name, &refs).is_err() {
                skipped.push(img.name.clone());
            }
        }
        let entries = bank.len();
        let mut per = vec![(0usize, 0usize); Transform::ALL.len()];
        let (mut fq, mut queries, mut fpairs) = (0, 0, 0);
        let mut elapsed = 0.0;
        for (i, img) in images.iter().enumerate() {
            if skipped.contains(&img.name) {
                continue;
            }
            let own = i.to_string();
            let mut run = |q: &EvalImage| -> (bool, usize) {
                let t = Instant::now();
                let views = query_views(&mut hasher, &q.rgb, q.width, q.height, &strategy.query)
                    .unwrap_or_default();
                let m = bank.match_views(&as_queries(views, strategy.dihedral));
                elapsed += t.elapsed().as_secs_f64();
                let hit = m.iter().any(|x| x.entry_id == own);
                let wrong = m.iter().filter(|x| x.entry_id != own).count();
                (hit, wrong)
            };
            let (_, wrong) = run(img);
            queries += 1;
            fpairs += wrong;
            fq += usize::from(wrong > 0);
            for (k, copy) in copies[i].iter().enumerate() {
                let (hit, wrong) = run(copy);
                per[k].0 += usize::from(hit);
                per[k].1 += 1;
                queries += 1;
                fpairs += wrong;
                fq += usize::from(wrong > 0);
            }
        }
        let matched: usize = per.iter().map(|p| p.0).sum();
        let total: usize = per.iter().map(|p| p.1).sum();
        report.entries = entries;
        report.skipped = skipped;
        report.strategies.push(StrategyReport {
            strategy: strategy.name.to_string(),
            per_transform: Transform::ALL
                .iter()
                .zip(&per)
                .map(|(t, p)| TransformResult {
                    transform: t.name().to_string(),
                    matched: p.0,
                    total: p.1,
                })
                .collect(),
            recall: matched as f64 / total.max(1) as f64,
            false_match_queries: fq,
            queries,
            false_match_rate: fq as f64 / queries.max(1) as f64,
            false_pairs: fpairs,
            pairs: queries * entries.saturating_sub(1),
            hashes_per_entry: bank.hash_count() as f64 / entries.max(1) as f64,
            query_ms: elapsed * 1000.0 / queries.max(1) as f64,
        });
    }
    report
}

/// Results of the logo-inside-a-photo evaluation.
#[derive(Debug, Clone, Serialize)]
pub struct LogoInPhotoReport {
    /// Logo size as a fraction of the photo's shorter side.
    pub scale: f64,
    /// Composites queried.
    pub composites: usize,
    /// Composites whose logo matched, whole-image views only.
    pub recall_whole: f64,
    /// Composites whose logo matched, with the tile pyramid.
    pub recall_tiles: f64,
    /// Composites that matched some other logo, with the tile pyramid.
    pub false_match_rate_tiles: f64,
    /// Plain photos (no logo) that matched any logo, with the tile pyramid.
    pub clean_photo_false_match_rate: f64,
    /// Mean query time with the tile pyramid, in milliseconds.
    pub tiles_query_ms: f64,
}

/// Pastes each logo (scaled to `scale` of the photo's shorter side, at a position that varies
/// with the index) into a photo, and checks whether the logo bank finds it.
pub fn logo_in_photo_eval(
    logos: &[EvalImage],
    photos: &[EvalImage],
    scale: f64,
    max_distance: u32,
    min_quality: u8,
) -> LogoInPhotoReport {
    let mut hasher = Hasher::new();
    let mut config = BankConfig::new("logos", BankKind::Logo);
    config.max_distance = max_distance;
    config.min_quality = min_quality;
    let mut bank = Bank::new(config);
    let mut inserted = vec![false; logos.len()];
    for (i, logo) in logos.iter().enumerate() {
        let refs = reference_hashes(
            &mut hasher,
            &logo.rgb,
            logo.width,
            logo.height,
            &ViewOptions::BANK,
        )
        .unwrap_or_default();
        inserted[i] = bank.insert(&i.to_string(), &logo.name, &refs).is_ok();
    }
    let (mut n, mut hit_whole, mut hit_tiles, mut wrong_tiles) = (0usize, 0usize, 0usize, 0usize);
    let mut elapsed = 0.0;
    if !photos.is_empty() {
        for (i, logo) in logos.iter().enumerate() {
            if !inserted[i] {
                continue;
            }
            let photo = &photos[i % photos.len()];
            let Some(composite) = paste(photo, logo, scale, i) else {
                continue;
            };
            n += 1;
            let own = i.to_string();
            let whole = query_views(
                &mut hasher,
                &composite.rgb,
                composite.width,
                composite.height,
                &ViewOptions::QUERY,
            )
            .unwrap_or_default();
            hit_whole += usize::from(bank.match_views(&whole).iter().any(|m| m.entry_id == own));
            let t = Instant::now();
            let tiles = query_views(
                &mut hasher,
                &composite.rgb,
                composite.width,
                composite.height,
                &ViewOptions::QUERY_WITH_TILES,
            )
            .unwrap_or_default();
            let m = bank.match_views(&tiles);
            elapsed += t.elapsed().as_secs_f64();
            hit_tiles += usize::from(m.iter().any(|m| m.entry_id == own));
            wrong_tiles += usize::from(m.iter().any(|m| m.entry_id != own));
        }
    }
    let mut clean_false = 0;
    for p in photos {
        let v = query_views(
            &mut hasher,
            &p.rgb,
            p.width,
            p.height,
            &ViewOptions::QUERY_WITH_TILES,
        )
        .unwrap_or_default();
        clean_false += usize::from(!bank.match_views(&v).is_empty());
    }
    LogoInPhotoReport {
        scale,
        composites: n,
        recall_whole: hit_whole as f64 / n.max(1) as f64,
        recall_tiles: hit_tiles as f64 / n.max(1) as f64,
        false_match_rate_tiles: wrong_tiles as f64 / n.max(1) as f64,
        clean_photo_false_match_rate: clean_false as f64 / photos.len().max(1) as f64,
        tiles_query_ms: elapsed * 1000.0 / n.max(1) as f64,
    }
}

fn paste(photo: &EvalImage, logo: &EvalImage, scale: f64, seed: usize) -> Option<EvalImage> {
    let mut canvas = ImgRgb::from_raw(photo.width as u32, photo.height as u32, photo.rgb.clone())?;
    let src = ImgRgb::from_raw(logo.width as u32, logo.height as u32, logo.rgb.clone())?;
    let side = (photo.width.min(photo.height) as f64 * scale) as u32;
    if side < 16 {
        return None;
    }
    let (lw, lh) = if logo.width >= logo.height {
        (
            side,
            (side as usize * logo.height / logo.width.max(1)).max(1) as u32,
        )
    } else {
        (
            (side as usize * logo.width / logo.height.max(1)).max(1) as u32,
            side,
        )
    };
    let small = imageops::resize(&src, lw, lh, imageops::FilterType::Triangle);
    let free_x = canvas.width().saturating_sub(lw);
    let free_y = canvas.height().saturating_sub(lh);
    let fx = [0.1, 0.5, 0.8, 0.3][seed % 4];
    let fy = [0.2, 0.6, 0.4, 0.8][(seed / 4) % 4];
    let x = (f64::from(free_x) * fx) as i64;
    let y = (f64::from(free_y) * fy) as i64;
    imageops::replace(&mut canvas, &small, x, y);
    Some(EvalImage {
        name: format!("{} in {}", logo.name, photo.name),
        width: canvas.width() as usize,
        height: canvas.height() as usize,
        rgb: canvas.into_raw(),
    })
}

/// Encodes an image as PNG (for looking at eval inputs).
pub fn to_png(img: &EvalImage) -> Option<Vec<u8>> {
    let buf = ImgRgb::from_raw(img.width as u32, img.height as u32, img.rgb.clone())?;
    let mut out = Vec::new();
    buf.write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
        .ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(seed: usize, w: usize, h: usize) -> EvalImage {
        let mut rgb = vec![255u8; w * h * 3];
        for y in h / 8..h - h / 8 {
            for x in w / 8..w - w / 8 {
                let i = (y * w + x) * 3;
                let v = ((x * (seed + 3) + y * y * (seed + 1)) / 7 % 256) as u8;
                rgb[i] = v;
                rgb[i + 1] = v.wrapping_mul(3);
                rgb[i + 2] = (x * 2) as u8;
            }
        }
        EvalImage {
            name: format!("p{seed}"),
            width: w,
            height: h,
            rgb,
        }
    }

    #[test]
    fn eval_runs_and_tricks_help() {
        let images: Vec<EvalImage> = (0..3).map(|s| pattern(s, 96, 80)).collect();
        let r = robustness_eval(&images, &Strategy::LADDER, BankKind::Logo, 31, 1);
        assert_eq!(r.strategies.len(), 5);
        let plain = &r.strategies[0];
        let best = &r.strategies[4];
        assert_eq!(plain.per_transform.len(), 7);
        assert!(best.recall >= plain.recall);
        // Rotations and flips are lossless here, so pixel dihedral hashes match them all.
        for t in &best.per_transform[5..] {
            assert_eq!(t.matched, t.total, "{}", t.transform);
        }
        let l = logo_in_photo_eval(&images[..1], &[pattern(7, 200, 160)], 0.4, 31, 1);
        assert_eq!(l.composites, 1);
        assert!(to_png(&images[0]).is_some());
    }
}
