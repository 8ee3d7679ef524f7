//! Logo-inside-a-photo evaluation: registered logos are composited into
//! product photos the way listings show them, and the local search must find
//! the right logo, and nothing for logos that are not registered.
//!
//! Two composites, each at several sizes:
//! * `label`: the logo on its own white label, pasted as it is (a sticker,
//!   a tag, a box print);
//! * `print`: only the artwork's ink, in a colour that contrasts with the
//!   photo underneath (dark on light areas, light on dark ones, so negatives
//!   occur), turned by up to ±20°, and the whole photo re-encoded as JPEG
//!   quality 75: a logo printed on a product.
//!
//! Half the logos are registered; the other half are pasted too, as
//! look-alike distractors: any match on those is a false match. The plain
//! photos are queried as well. Pure: callers load the images.

use std::time::Instant;

use image::{ImageFormat, RgbImage as ImgRgb};
use serde::Serialize;
use shopshield_pdq::eval::EvalImage;

use crate::bank::{LocalBank, LocalConfig, query_features, reference_features};

/// How the logo is put into the photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Composite {
    Label,
    Print,
}

impl Composite {
    pub fn name(self) -> &'static str {
        match self {
            Composite::Label => "label",
            Composite::Print => "print",
        }
    }
}

/// One row of the report.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub composite: &'static str,
    /// Logo size as a fraction of the photo's shorter side.
    pub scale: f64,
    /// Registered logos pasted.
    pub positives: usize,
    /// ...found (the right logo among the matches).
    pub found: usize,
    pub recall: f64,
    /// Registered logos pasted that also matched some other logo.
    pub wrong_logo: usize,
    /// Unregistered logos pasted.
    pub distractors: usize,
    /// ...that matched any registered logo.
    pub distractor_matches: usize,
    /// Mean milliseconds per photo: features plus search.
    pub query_ms: f64,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub logos: usize,
    /// Logos offered for registration (every other one).
    pub offered: usize,
    /// ...registered (the rest are too plain for the local search).
    pub registered: usize,
    pub keypoints_indexed: usize,
    pub photos: usize,
    /// Plain photos that matched any logo.
    pub clean_photo_matches: usize,
    pub rows: Vec<Row>,
    /// Every false match: which logo was reported where, and its evidence.
    pub false_matches: Vec<String>,
    /// (inliers, correlation, edge correlation) of every true match, for choosing thresholds.
    pub true_evidence: Vec<(usize, f32, f32)>,
    /// Over all rows: found / positives, false matches / queries.
    pub recall: f64,
    pub false_match_rate: f64,
    pub config: LocalConfig,
}

/// Runs the evaluation for the given composites and scales.
pub fn evaluate(
    logos: &[EvalImage],
    photos: &[EvalImage],
    composites: &[Composite],
    scales: &[f64],
    config: LocalConfig,
) -> Report {
    let mut bank = LocalBank::new(config);
    let mut registered = vec![false; logos.len()];
    let mut offered = 0;
    for (i, logo) in logos.iter().enumerate() {
        if i % 2 != 0 {
            continue;
        }
        offered += 1;
        if let Ok(r) = reference_features(&logo.rgb, logo.width, logo.height, config.negatives) {
            registered[i] = bank.insert(&i.to_string(), &logo.name, r).is_ok();
        }
    }
    let mut rows = Vec::new();
    let mut false_matches = Vec::new();
    let mut true_evidence = Vec::new();
    let (mut all_pos, mut all_found, mut all_false, mut all_queries) = (0, 0, 0, 0);
    for &composite in composites {
        for &scale in scales {
            let mut row = Row {
                composite: composite.name(),
                scale,
                positives: 0,
                found: 0,
                recall: 0.0,
                wrong_logo: 0,
                distractors: 0,
                distractor_matches: 0,
                query_ms: 0.0,
            };
            let mut elapsed = 0.0;
            let mut queries = 0usize;
            if photos.is_empty() {
                rows.push(row);
                continue;
            }
            for (i, logo) in logos.iter().enumerate() {
                let is_registered = registered[i];
                if i.is_multiple_of(2) && !is_registered {
                    continue; // offered but too plain: neither positive nor distractor
                }
                let photo = &photos[(i / 2) % photos.len()];
                let Some(img) = compose(photo, logo, scale, composite, i) else {
                    continue;
                };
                let t = Instant::now();
                let found = query_features(&img.rgb, img.width, img.height)
                    .map(|q| bank.find(&q))
                    .unwrap_or_default();
                elapsed += t.elapsed().as_secs_f64();
                queries += 1;
                let own = i.to_string();
                for m in &found {
                    if m.entry_id == own {
                        true_evidence.push((m.inliers, m.correlation, m.edge_correlation));
                    } else {
                        false_matches.push(format!(
                            "{}: found {} ({} inliers of {}, correlation {:.2}, edges {:.2})",
                            img.name,
                            m.right_id,
                            m.inliers,
                            m.matches,
                            m.correlation,
                            m.edge_correlation
                        ));
                    }
                }
                if is_registered {
                    row.positives += 1;
                    row.found += usize::from(found.iter().any(|m| m.entry_id == own));
                    row.wrong_logo += usize::from(found.iter().any(|m| m.entry_id != own));
                } else {
                    row.distractors += 1;
                    row.distractor_matches += usize::from(!found.is_empty());
                }
            }
            row.recall = row.found as f64 / row.positives.max(1) as f64;
            row.query_ms = elapsed * 1000.0 / queries.max(1) as f64;
            all_pos += row.positives;
            all_found += row.found;
            all_false += row.wrong_logo + row.distractor_matches;
            all_queries += queries;
            rows.push(row);
        }
    }
    let mut clean = 0;
    for p in photos {
        let found = query_features(&p.rgb, p.width, p.height)
            .map(|q| bank.find(&q))
            .unwrap_or_default();
        for m in &found {
            false_matches.push(format!(
                "{} (no logo): found {} ({} inliers of {}, correlation {:.2}, edges {:.2})",
                p.name, m.right_id, m.inliers, m.matches, m.correlation, m.edge_correlation
            ));
        }
        clean += usize::from(!found.is_empty());
    }
    all_false += clean;
    all_queries += photos.len();
    Report {
        logos: logos.len(),
        offered,
        registered: bank.len(),
        keypoints_indexed: bank.keypoint_count(),
        photos: photos.len(),
        clean_photo_matches: clean,
        rows,
        false_matches,
        true_evidence,
        recall: all_found as f64 / all_pos.max(1) as f64,
        false_match_rate: all_false as f64 / all_queries.max(1) as f64,
        config,
    }
}

/// Puts `logo` (black artwork on white, as rendered for registration) into
/// `photo` at `scale` of its shorter side; position, angle and colour vary
/// with `seed`.
pub fn compose(
    photo: &EvalImage,
    logo: &EvalImage,
    scale: f64,
    how: Composite,
    seed: usize,
) -> Option<EvalImage> {
    let (pw, ph) = (photo.width, photo.height);
    let side = (pw.min(ph) as f64 * scale).round() as usize;
    if side < 16 || logo.width == 0 || logo.height == 0 {
        return None;
    }
    let angle = match how {
        Composite::Label => 0.0,
        Composite::Print => [-20.0f64, -8.0, 0.0, 12.0, 20.0][seed % 5].to_radians(),
    };
    // Placement: the logo's box of `side` px (longer side) centred at (cx, cy).
    let k = side as f64 / logo.width.max(logo.height) as f64;
    let (lw, lh) = (logo.width as f64 * k, logo.height as f64 * k);
    let reach = 0.5 * (lw.hypot(lh));
    let free_x = (pw as f64 - 2.0 * reach).max(0.0);
    let free_y = (ph as f64 - 2.0 * reach).max(0.0);
    let fx = [0.1, 0.5, 0.8, 0.3][seed % 4];
    let fy = [0.2, 0.6, 0.4, 0.8][(seed / 4) % 4];
    let cx = reach.min(pw as f64 / 2.0) + free_x * fx;
    let cy = reach.min(ph as f64 / 2.0) + free_y * fy;
    let (sa, ca) = angle.sin_cos();
    let mut rgb = photo.rgb.clone();
    // Print colour: contrasting with the photo's mean luma under the logo.
    let (x0, x1) = (
        (cx - reach).max(0.0) as usize,
        ((cx + reach) as usize).min(pw),
    );
    let (y0, y1) = (
        (cy - reach).max(0.0) as usize,
        ((cy + reach) as usize).min(ph),
    );
    let mut sum = 0u64;
    let mut n = 0u64;
    for y in y0..y1 {
        for x in x0..x1 {
            let i = (y * pw + x) * 3;
            sum +=
                (77 * u64::from(rgb[i]) + 150 * u64::from(rgb[i + 1]) + 29 * u64::from(rgb[i + 2]))
                    >> 8;
            n += 1;
        }
    }
    let under = sum as f64 / n.max(1) as f64;
    let palette_dark = [[20u8, 20, 20], [120, 10, 20], [10, 30, 110]];
    let palette_light = [[245u8, 245, 245], [250, 220, 60], [230, 230, 200]];
    let ink = if under > 110.0 {
        palette_dark[seed % 3]
    } else {
        palette_light[seed % 3]
    };
    let sample = |u: f64, v: f64| -> Option<[f64; 3]> {
        // Bilinear sample of the logo at its own pixel coordinates.
        if u < 0.0 || v < 0.0 || u > (logo.width - 1) as f64 || v > (logo.height - 1) as f64 {
            return None;
        }
        let (x0, y0) = (u as usize, v as usize);
        let (x1, y1) = ((x0 + 1).min(logo.width - 1), (y0 + 1).min(logo.height - 1));
        let (wx, wy) = (u - x0 as f64, v - y0 as f64);
        let mut out = [0.0; 3];
        for (c, o) in out.iter_mut().enumerate() {
            let at = |x: usize, y: usize| f64::from(logo.rgb[(y * logo.width + x) * 3 + c]);
            let a = at(x0, y0) * (1.0 - wx) + at(x1, y0) * wx;
            let b = at(x0, y1) * (1.0 - wx) + at(x1, y1) * wx;
            *o = a * (1.0 - wy) + b * wy;
        }
        Some(out)
    };
    for y in y0..y1 {
        for x in x0..x1 {
            // Inverse map: photo pixel -> logo pixel.
            let (dx, dy) = (x as f64 + 0.5 - cx, y as f64 + 0.5 - cy);
            let (rx, ry) = (ca * dx + sa * dy, -sa * dx + ca * dy);
            let (u, v) = (
                rx / k + logo.width as f64 / 2.0 - 0.5,
                ry / k + logo.height as f64 / 2.0 - 0.5,
            );
            let Some(px) = sample(u, v) else { continue };
            let i = (y * pw + x) * 3;
            match how {
                Composite::Label => {
                    for c in 0..3 {
                        rgb[i + c] = px[c].round().clamp(0.0, 255.0) as u8;
                    }
                }
                Composite::Print => {
                    // Ink coverage from the artwork's darkness.
                    let cover = 1.0 - (px[0] + px[1] + px[2]) / (3.0 * 255.0);
                    for c in 0..3 {
                        let v = f64::from(rgb[i + c]) * (1.0 - cover) + f64::from(ink[c]) * cover;
                        rgb[i + c] = v.round().clamp(0.0, 255.0) as u8;
                    }
                }
            }
        }
    }
    let mut out = EvalImage {
        name: format!("{} in {} ({}, {scale})", logo.name, photo.name, how.name()),
        width: pw,
        height: ph,
        rgb,
    };
    if how == Composite::Print {
        out = jpeg(&out, 75).unwrap_or(out);
    }
    Some(out)
}

fn jpeg(img: &EvalImage, quality: u8) -> Option<EvalImage> {
    let src = ImgRgb::from_raw(img.width as u32, img.height as u32, img.rgb.clone())?;
    let mut buf = Vec::new();
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut buf, quality);
    src.write_with_encoder(enc).ok()?;
    let back = image::load_from_memory_with_format(&buf, ImageFormat::Jpeg)
        .ok()?
        .to_rgb8();
    Some(EvalImage {
        name: img.name.clone(),
        width: back.width() as usize,
        height: back.height() as usize,
        rgb: back.into_raw(),
    })
}
