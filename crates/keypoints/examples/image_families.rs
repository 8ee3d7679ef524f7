//! The image evaluation families of issue #14, built independently of the fixes: every family
//! is generated here from licensed inputs (see `bench/images/README.md`), split into a
//! development half and a held-out half by a hash of the source file's name, and scored through
//! the same public calls the application makes (PDQ bank views, the keypoint logo bank).
//!
//! Photo families (PDQ bank of registered product photos, distance <= 31, quality >= 50):
//! * `crop5`: a registered photo with 5% cut off every side, off the top and left, or off one
//!   side, re-encoded as JPEG q85;
//! * `half`: a registered photo at half its width and height, JPEG q85;
//! * `blurry`: a registered photo that is blurry (PDQ quality below the bank's minimum of 50),
//!   queried as a JPEG q75 copy, halved, 5% cropped, and as the sharp original;
//! * `distractors`: unregistered photos, as they are, blurred and halved: any match is false.
//!   Every query of every family also counts as a false match when it matches another entry.
//!
//! Logo families (keypoint search; logos black on white as registered; bank = the split's
//! even-numbered logos, the odd ones are distractors):
//! * `unseen`: composites unlike the shipped set: backgrounds from other photo sets (product
//!   cut-outs on white, landscape photos), the logo in its brand colour or a contrasting ink,
//!   turned by up to 30 degrees and foreshortened (affine tilt), slightly blurred, brightness
//!   changed, JPEG q70, at 40%, 25% and 15% of the shorter side;
//! * `plain`: logos alone on white, black at 256 px and in brand colour at 600 px: registered
//!   ones should be found, distractors never;
//! * `clean`: background photos with no logo: any match is false.
//!
//! ```text
//! image_families --icons DIR --icon-data simple-icons.json --photos DIR... --backgrounds DIR...
//!                [--split dev|heldout] [--logos N] [--photo-limit N] [--only photos|logos]
//!                [--json OUT] [--dump DIR] [--threads N] [--lowq-distance BITS]
//! ```

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use image::{ImageFormat, RgbImage as ImgRgb, imageops};
use serde::Serialize;
use shopshield_keypoints::{LocalBank, LocalConfig, query_features, reference_features};
use shopshield_pdq::eval::{EvalImage, to_png};
use shopshield_pdq::views::{ViewOptions, query_views, reference_hashes};
use shopshield_pdq::{Bank, BankConfig, BankKind, DecodeOptions, Hasher, Pixels, decode};

#[path = "../../pdq/examples/common/mod.rs"]
mod common;
use common::render_svg;

fn fnv(s: &str) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Which half a source file belongs to: `true` for the held-out half.
fn held_out(name: &str) -> bool {
    fnv(name) % 2 == 1
}

fn to_img(e: &EvalImage) -> Option<ImgRgb> {
    ImgRgb::from_raw(e.width as u32, e.height as u32, e.rgb.clone())
}

fn from_img(name: String, i: ImgRgb) -> EvalImage {
    EvalImage {
        name,
        width: i.width() as usize,
        height: i.height() as usize,
        rgb: i.into_raw(),
    }
}

fn jpeg(e: &EvalImage, q: u8) -> EvalImage {
    let Some(src) = to_img(e) else {
        return e.clone();
    };
    let mut buf = Vec::new();
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut buf, q);
    if src.write_with_encoder(enc).is_err() {
        return e.clone();
    }
    match image::load_from_memory_with_format(&buf, ImageFormat::Jpeg) {
        Ok(d) => from_img(e.name.clone(), d.to_rgb8()),
        Err(_) => e.clone(),
    }
}

fn resize(e: &EvalImage, w: usize, h: usize) -> EvalImage {
    match to_img(e) {
        Some(src) => from_img(
            e.name.clone(),
            imageops::resize(
                &src,
                w.max(1) as u32,
                h.max(1) as u32,
                imageops::FilterType::Triangle,
            ),
        ),
        None => e.clone(),
    }
}

fn crop(e: &EvalImage, l: f64, t: f64, r: f64, b: f64) -> EvalImage {
    let (w, h) = (e.width as f64, e.height as f64);
    let (x0, y0) = ((w * l) as u32, (h * t) as u32);
    let (x1, y1) = ((w * (1.0 - r)) as u32, (h * (1.0 - b)) as u32);
    match to_img(e) {
        Some(src) => from_img(
            e.name.clone(),
            imageops::crop_imm(&src, x0, y0, x1 - x0, y1 - y0).to_image(),
        ),
        None => e.clone(),
    }
}

/// Blur by shrinking `k` times, a Gaussian of sigma 1, and enlarging back (a thumbnail
/// blown up, or an out-of-focus shot).
fn blur(e: &EvalImage, k: usize) -> EvalImage {
    let small = resize(e, (e.width / k).max(4), (e.height / k).max(4));
    let blurred = match to_img(&small) {
        Some(s) => from_img(e.name.clone(), imageops::blur(&s, 1.0)),
        None => small,
    };
    resize(&blurred, e.width, e.height)
}

fn pdq_quality(hasher: &mut Hasher, e: &EvalImage) -> u8 {
    hasher
        .hash(Pixels::Rgb8(&e.rgb), e.width, e.height)
        .map(|h| h.quality)
        .unwrap_or(0)
}

/// Every JPEG/PNG under `dir` (recursively), decoded (alpha over white), the longer side
/// brought down to at most 1024 px.
fn load_tree(dir: &Path, out: &mut Vec<(String, EvalImage)>) {
    let mut paths = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p
                .extension()
                .is_some_and(|x| x == "png" || x == "jpg" || x == "jpeg")
            {
                paths.push(p);
            }
        }
    }
    paths.sort();
    // A package may ship the same file twice (tuxpaint has one stamp in two folders): keep
    // the first copy only, or a true match would count as false.
    let mut seen = std::collections::HashSet::new();
    for p in paths {
        let Ok(bytes) = std::fs::read(&p) else {
            continue;
        };
        if !seen.insert(fnv(&String::from_utf8_lossy(&bytes))) {
            continue;
        }
        let Ok(img) = decode(&bytes, &DecodeOptions::default()) else {
            continue;
        };
        let rel = p
            .strip_prefix(dir)
            .unwrap_or(&p)
            .to_string_lossy()
            .into_owned();
        let mut e = EvalImage {
            name: rel.clone(),
            width: img.width,
            height: img.height,
            rgb: img.rgb,
        };
        // Too small for a product photo; and tuxpaint's `_mirror` stamps are mirror copies
        // of other stamps (a mirrored copy is the same photo, so not a distinct image).
        if e.width.max(e.height) < 200 || rel.contains("_mirror.") {
            continue;
        }
        let longer = e.width.max(e.height);
        if longer > 1024 {
            e = resize(&e, e.width * 1024 / longer, e.height * 1024 / longer);
        }
        out.push((rel, e));
    }
}

#[derive(Debug, Default, Clone, Serialize)]
struct FamilyRow {
    family: String,
    variant: String,
    queries: usize,
    positives: usize,
    found: usize,
    recall: f64,
    false_match_queries: usize,
    false_match_rate: f64,
    ms_per_query: f64,
}

#[derive(Default)]
struct Tally {
    rows: Vec<FamilyRow>,
    false_examples: Vec<String>,
}

fn add(
    tally: &Mutex<Tally>,
    family: &str,
    variant: &str,
    positive: bool,
    found: bool,
    wrong: Option<String>,
    ms: f64,
) {
    let mut t = tally.lock().unwrap_or_else(|p| p.into_inner());
    let idx = match t
        .rows
        .iter()
        .position(|r| r.family == family && r.variant == variant)
    {
        Some(i) => i,
        None => {
            t.rows.push(FamilyRow {
                family: family.into(),
                variant: variant.into(),
                ..FamilyRow::default()
            });
            t.rows.len() - 1
        }
    };
    let r = &mut t.rows[idx];
    r.queries += 1;
    r.ms_per_query += ms;
    if positive {
        r.positives += 1;
        r.found += usize::from(found);
    }
    if let Some(w) = wrong {
        r.false_match_queries += 1;
        if t.false_examples.len() < 200 {
            t.false_examples.push(w);
        }
    }
}

fn finish(mut t: Tally) -> (Vec<FamilyRow>, Vec<String>) {
    t.rows
        .sort_by(|a, b| (&a.family, &a.variant).cmp(&(&b.family, &b.variant)));
    for r in &mut t.rows {
        r.recall = r.found as f64 / r.positives.max(1) as f64;
        r.false_match_rate = r.false_match_queries as f64 / r.queries.max(1) as f64;
        r.ms_per_query /= r.queries.max(1) as f64;
    }
    (t.rows, t.false_examples)
}

fn parallel<T: Sync>(items: &[T], threads: usize, f: impl Fn(&T) + Sync) {
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    f(item);
                }
            });
        }
    });
}

struct PhotoQuery {
    family: &'static str,
    variant: &'static str,
    /// The entry it should match (None for a distractor).
    own: Option<String>,
    img: EvalImage,
}

fn photo_families(
    photos: &[(String, EvalImage)],
    threads: usize,
    dump: Option<&Path>,
    lowq_distance: Option<u32>,
) -> serde_json::Value {
    let mut hasher = Hasher::new();
    let mut config = BankConfig::new("photos", BankKind::Photo);
    if let Some(d) = lowq_distance {
        config.low_quality_max_distance = d;
    }
    let mut bank = Bank::new(config);
    let mut queries: Vec<PhotoQuery> = Vec::new();
    let (mut sharp, mut blurry, mut distract, mut not_blurry, mut refused) = (0, 0, 0, 0, 0);
    let mut blurry_qualities = Vec::new();
    for (name, img) in photos {
        let group = (fnv(name) / 2) % 3;
        match group {
            0 => {
                let refs = reference_hashes(
                    &mut hasher,
                    &img.rgb,
                    img.width,
                    img.height,
                    &ViewOptions::BANK,
                )
                .unwrap_or_default();
                if bank.insert(name, name, &refs).is_err() {
                    refused += 1;
                    continue;
                }
                sharp += 1;
                let own = Some(name.clone());
                for (variant, l, t, r, b) in [
                    ("5% off every side", 0.05, 0.05, 0.05, 0.05),
                    ("5% off top and left", 0.05, 0.05, 0.0, 0.0),
                    ("5% off one side", 0.0, 0.0, 0.05, 0.0),
                ] {
                    queries.push(PhotoQuery {
                        family: "crop5",
                        variant,
                        own: own.clone(),
                        img: jpeg(&crop(img, l, t, r, b), 85),
                    });
                }
                queries.push(PhotoQuery {
                    family: "half",
                    variant: "half width and height",
                    own,
                    img: jpeg(&resize(img, img.width / 2, img.height / 2), 85),
                });
            }
            1 => {
                // Blur until the PDQ quality is below the bank's minimum; a photo that stays
                // above it is also made dull (contrast cut around mid-grey), like a dim,
                // out-of-focus shot.
                let mut chosen = None;
                let candidates = [4usize, 6, 8, 11, 16, 24]
                    .into_iter()
                    .map(|k| (k, 1.0))
                    .chain([(6, 0.4), (6, 0.25), (11, 0.25)]);
                for (k, contrast) in candidates {
                    let mut b = blur(img, k);
                    if contrast < 1.0 {
                        for v in b.rgb.iter_mut() {
                            *v = (128.0 + (f64::from(*v) - 128.0) * contrast).round() as u8;
                        }
                    }
                    let q = pdq_quality(&mut hasher, &b);
                    if q < 50 {
                        chosen = Some((b, q));
                        break;
                    }
                }
                let Some((b, q)) = chosen else {
                    not_blurry += 1;
                    continue;
                };
                blurry_qualities.push(q);
                let refs =
                    reference_hashes(&mut hasher, &b.rgb, b.width, b.height, &ViewOptions::BANK)
                        .unwrap_or_default();
                // The bank may refuse it: that is the problem this family measures.
                let registered = bank.insert(name, name, &refs).is_ok();
                blurry += 1;
                let own = Some(name.clone());
                let _ = registered;
                if let (Some(dir), true) = (dump, blurry <= 3) {
                    let _ = std::fs::create_dir_all(dir);
                    if let Some(png) = to_png(&b) {
                        let _ = std::fs::write(dir.join(format!("blurry-{blurry}.png")), png);
                    }
                }
                for (variant, q) in [
                    ("jpeg q75", jpeg(&b, 75)),
                    ("halved", jpeg(&resize(&b, b.width / 2, b.height / 2), 85)),
                    ("5% crop", jpeg(&crop(&b, 0.05, 0.05, 0.05, 0.05), 85)),
                    ("the sharp original", jpeg(img, 85)),
                ] {
                    queries.push(PhotoQuery {
                        family: "blurry",
                        variant,
                        own: own.clone(),
                        img: q,
                    });
                }
            }
            _ => {
                distract += 1;
                for (variant, q) in [
                    ("as is", jpeg(img, 85)),
                    ("blurred", jpeg(&blur(img, 10), 85)),
                    (
                        "halved",
                        jpeg(&resize(img, img.width / 2, img.height / 2), 85),
                    ),
                ] {
                    queries.push(PhotoQuery {
                        family: "distractors",
                        variant,
                        own: None,
                        img: q,
                    });
                }
            }
        }
    }
    let tally = Mutex::new(Tally::default());
    parallel(&queries, threads, |q| {
        let mut hasher = Hasher::new();
        let t = Instant::now();
        let views = query_views(
            &mut hasher,
            &q.img.rgb,
            q.img.width,
            q.img.height,
            &ViewOptions::QUERY_PIXEL_DIHEDRAL,
        )
        .unwrap_or_default();
        let m = bank.match_views(&views);
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        let found = q
            .own
            .as_ref()
            .is_some_and(|o| m.iter().any(|x| &x.entry_id == o));
        let wrong = m
            .iter()
            .find(|x| Some(&x.entry_id) != q.own.as_ref())
            .map(|x| {
                format!(
                    "{} [{}/{}] matched {} at distance {} (qualities {} / {})",
                    q.img.name,
                    q.family,
                    q.variant,
                    x.entry_id,
                    x.distance,
                    x.query_quality,
                    x.reference_quality
                )
            });
        add(
            &tally,
            q.family,
            q.variant,
            q.own.is_some(),
            found,
            wrong,
            ms,
        );
    });
    let (rows, falses) = finish(tally.into_inner().unwrap_or_else(|p| p.into_inner()));
    println!(
        "\n== photos: {sharp} registered sharp ({refused} refused), {blurry} registered blurry (PDQ quality {:?}..{:?}; {not_blurry} stayed at 50 or above), {distract} distractors; bank holds {} entries",
        blurry_qualities.iter().min(),
        blurry_qualities.iter().max(),
        bank.len()
    );
    print_rows(&rows);
    for f in falses.iter().take(10) {
        println!("   false: {f}");
    }
    serde_json::json!({
        "registered_sharp": sharp, "registered_blurry": blurry, "distractors": distract,
        "bank_entries": bank.len(), "rows": rows, "false_matches": falses,
    })
}

fn print_rows(rows: &[FamilyRow]) {
    let mut fams: Vec<&str> = rows.iter().map(|r| r.family.as_str()).collect();
    fams.dedup();
    for r in rows {
        println!(
            "-- {:<12} {:<28} queries {:>4}  found {:>4}/{:<4} ({:5.1}%)  false-match queries {:>3} ({:4.2}%)  {:6.1} ms/query",
            r.family,
            r.variant,
            r.queries,
            r.found,
            r.positives,
            100.0 * r.recall,
            r.false_match_queries,
            100.0 * r.false_match_rate,
            r.ms_per_query
        );
    }
    for f in fams {
        let (mut q, mut p, mut found, mut fm) = (0, 0, 0, 0);
        for r in rows.iter().filter(|r| r.family == f) {
            q += r.queries;
            p += r.positives;
            found += r.found;
            fm += r.false_match_queries;
        }
        println!(
            "== {f:<12} all variants: recall {}/{} ({:5.1}%), false-match queries {}/{} ({:4.2}%)",
            found,
            p,
            100.0 * found as f64 / p.max(1) as f64,
            fm,
            q,
            100.0 * fm as f64 / q.max(1) as f64
        );
    }
}

fn parse_hex(h: &str) -> [u8; 3] {
    let v = u32::from_str_radix(h, 16).unwrap_or(0);
    [(v >> 16) as u8, (v >> 8) as u8, v as u8]
}

fn luma(c: [u8; 3]) -> f64 {
    0.299 * f64::from(c[0]) + 0.587 * f64::from(c[1]) + 0.114 * f64::from(c[2])
}

/// The black-on-white artwork recoloured: ink coverage times `ink` over white.
fn colourise(logo: &EvalImage, ink: [u8; 3]) -> EvalImage {
    let mut out = logo.clone();
    for px in out.rgb.chunks_exact_mut(3) {
        let cover = 1.0 - (f64::from(px[0]) + f64::from(px[1]) + f64::from(px[2])) / 765.0;
        for c in 0..3 {
            px[c] = (255.0 * (1.0 - cover) + f64::from(ink[c]) * cover).round() as u8;
        }
    }
    out
}

/// An unseen-style composite: the artwork (black on white) mapped into `photo` by an affine
/// map (turn, tilt), as ink of `ink` colour, then blurred a little, brightness changed, JPEG q70.
fn unseen_composite(
    photo: &EvalImage,
    logo: &EvalImage,
    scale: f64,
    seed: u64,
    brand: [u8; 3],
) -> Option<EvalImage> {
    let (pw, ph) = (photo.width as f64, photo.height as f64);
    let side = pw.min(ph) * scale;
    if side < 20.0 {
        return None;
    }
    let r = |k: u64| (fnv(&format!("{seed}-{k}")) % 10_000) as f64 / 10_000.0;
    let angle = (r(1) * 60.0 - 30.0).to_radians();
    let tilt = 0.7 + 0.3 * r(2); // foreshortening along one axis
    let tilt_axis = r(3) * std::f64::consts::PI;
    let k = side / logo.width.max(logo.height) as f64;
    // Forward map: logo pixel (centred) -> photo offset: R(angle) * T(tilt along axis) * k.
    let (sa, ca) = angle.sin_cos();
    let (st, ct) = tilt_axis.sin_cos();
    // Tilt matrix: scale by `tilt` along direction (ct, st).
    let t = [
        [1.0 + (tilt - 1.0) * ct * ct, (tilt - 1.0) * ct * st],
        [(tilt - 1.0) * ct * st, 1.0 + (tilt - 1.0) * st * st],
    ];
    let m = [
        [
            k * (ca * t[0][0] - sa * t[1][0]),
            k * (ca * t[0][1] - sa * t[1][1]),
        ],
        [
            k * (sa * t[0][0] + ca * t[1][0]),
            k * (sa * t[0][1] + ca * t[1][1]),
        ],
    ];
    let det = m[0][0] * m[1][1] - m[0][1] * m[1][0];
    if det.abs() < 1e-9 {
        return None;
    }
    let inv = [
        [m[1][1] / det, -m[0][1] / det],
        [-m[1][0] / det, m[0][0] / det],
    ];
    let reach = side * 0.75;
    let cx = reach.min(pw / 2.0) + (pw - 2.0 * reach).max(0.0) * r(4);
    let cy = reach.min(ph / 2.0) + (ph - 2.0 * reach).max(0.0) * r(5);
    let mut rgb = photo.rgb.clone();
    let (x0, x1) = (
        (cx - reach).max(0.0) as usize,
        ((cx + reach) as usize).min(photo.width),
    );
    let (y0, y1) = (
        (cy - reach).max(0.0) as usize,
        ((cy + reach) as usize).min(photo.height),
    );
    // Ink: the brand colour when it contrasts with the photo underneath, else black or white.
    let mut sum = 0.0f64;
    let mut n = 0.0f64;
    for y in y0..y1 {
        for x in x0..x1 {
            let i = (y * photo.width + x) * 3;
            sum += luma([rgb[i], rgb[i + 1], rgb[i + 2]]);
            n += 1.0;
        }
    }
    let under = sum / n.max(1.0);
    let ink = if (luma(brand) - under).abs() >= 70.0 {
        brand
    } else if under > 128.0 {
        [25, 25, 30]
    } else {
        [240, 240, 235]
    };
    let (lw, lh) = (logo.width as f64, logo.height as f64);
    for y in y0..y1 {
        for x in x0..x1 {
            let (dx, dy) = (x as f64 + 0.5 - cx, y as f64 + 0.5 - cy);
            let u = inv[0][0] * dx + inv[0][1] * dy + lw / 2.0 - 0.5;
            let v = inv[1][0] * dx + inv[1][1] * dy + lh / 2.0 - 0.5;
            if u < 0.0 || v < 0.0 || u > lw - 1.0 || v > lh - 1.0 {
                continue;
            }
            let (ux, vy) = (u as usize, v as usize);
            let (ux1, vy1) = ((ux + 1).min(logo.width - 1), (vy + 1).min(logo.height - 1));
            let (wx, wy) = (u - ux as f64, v - vy as f64);
            let at = |x: usize, y: usize| {
                let i = (y * logo.width + x) * 3;
                (f64::from(logo.rgb[i]) + f64::from(logo.rgb[i + 1]) + f64::from(logo.rgb[i + 2]))
                    / 765.0
            };
            let white = (at(ux, vy) * (1.0 - wx) + at(ux1, vy) * wx) * (1.0 - wy)
                + (at(ux, vy1) * (1.0 - wx) + at(ux1, vy1) * wx) * wy;
            let cover = 1.0 - white;
            let i = (y * photo.width + x) * 3;
            for c in 0..3 {
                let v = f64::from(rgb[i + c]) * (1.0 - cover) + f64::from(ink[c]) * cover;
                rgb[i + c] = v.round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    let out = EvalImage {
        name: format!("{} in {} ({scale})", logo.name, photo.name),
        width: photo.width,
        height: photo.height,
        rgb,
    };
    let mut img = to_img(&out)?;
    img = imageops::blur(&img, 0.6);
    let gain = 0.85 + 0.3 * r(6);
    for v in img.iter_mut() {
        *v = (f64::from(*v) * gain).round().clamp(0.0, 255.0) as u8;
    }
    Some(jpeg(&from_img(out.name, img), 70))
}

struct LogoQuery {
    family: &'static str,
    variant: String,
    own: Option<String>,
    img: EvalImage,
}

fn logo_families(
    logos: &[(String, EvalImage, [u8; 3])],
    backgrounds: &[(String, EvalImage)],
    threads: usize,
    dump: Option<&Path>,
) -> serde_json::Value {
    let config = LocalConfig::default();
    let mut bank = LocalBank::new(config);
    let mut registered = vec![false; logos.len()];
    let t = Instant::now();
    for (i, (name, logo, _)) in logos.iter().enumerate() {
        if i.is_multiple_of(2)
            && let Ok(r) = reference_features(&logo.rgb, logo.width, logo.height, config.negatives)
        {
            registered[i] = bank.insert(name, name, r).is_ok();
        }
    }
    let register_ms = t.elapsed().as_secs_f64() * 1000.0;
    let mut queries: Vec<LogoQuery> = Vec::new();
    for (i, (name, logo, hex)) in logos.iter().enumerate() {
        if i.is_multiple_of(2) && !registered[i] {
            continue; // too plain to register: neither positive nor distractor
        }
        let own = registered[i].then(|| name.clone());
        for (k, scale) in [0.4, 0.25, 0.15].into_iter().enumerate() {
            let bg = &backgrounds[(fnv(name) as usize + k * 7) % backgrounds.len()].1;
            if let Some(c) = unseen_composite(bg, logo, scale, fnv(name) ^ k as u64, *hex) {
                queries.push(LogoQuery {
                    family: "unseen",
                    variant: format!("{:.0}% of the shorter side", scale * 100.0),
                    own: own.clone(),
                    img: c,
                });
            }
        }
        queries.push(LogoQuery {
            family: "plain",
            variant: "black on white, 256 px".into(),
            own: own.clone(),
            img: logo.clone(),
        });
        let big = resize(logo, 600, 600);
        queries.push(LogoQuery {
            family: "plain",
            variant: "brand colour on white, 600 px".into(),
            own,
            img: jpeg(&colourise(&big, *hex), 85),
        });
    }
    for (_, bg) in backgrounds {
        queries.push(LogoQuery {
            family: "clean",
            variant: "background photo, no logo".into(),
            own: None,
            img: jpeg(bg, 85),
        });
    }
    if let Some(dir) = dump {
        let _ = std::fs::create_dir_all(dir);
        for (k, q) in queries
            .iter()
            .filter(|q| q.family == "unseen")
            .take(9)
            .enumerate()
        {
            if let Some(png) = to_png(&q.img) {
                let _ = std::fs::write(dir.join(format!("unseen-{k}.png")), png);
            }
        }
    }
    let tally = Mutex::new(Tally::default());
    parallel(&queries, threads, |q| {
        let t = Instant::now();
        let found = query_features(&q.img.rgb, q.img.width, q.img.height)
            .map(|f| bank.find(&f))
            .unwrap_or_default();
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        let hit = q
            .own
            .as_ref()
            .is_some_and(|o| found.iter().any(|m| &m.entry_id == o));
        let wrong = found
            .iter()
            .find(|m| Some(&m.entry_id) != q.own.as_ref())
            .map(|m| {
                format!(
                    "{} [{}/{}] matched {} ({} inliers of {}, correlation {:.2}, edges {:.2})",
                    q.img.name,
                    q.family,
                    q.variant,
                    m.entry_id,
                    m.inliers,
                    m.matches,
                    m.correlation,
                    m.edge_correlation
                )
            });
        add(
            &tally,
            q.family,
            &q.variant,
            q.own.is_some(),
            hit,
            wrong,
            ms,
        );
    });
    let (rows, falses) = finish(tally.into_inner().unwrap_or_else(|p| p.into_inner()));
    println!(
        "\n== logos: {} registered of {} offered ({} keypoints indexed, {:.0} ms to register), {} distractors, {} backgrounds",
        bank.len(),
        logos.len().div_ceil(2),
        bank.keypoint_count(),
        register_ms,
        logos.len() / 2,
        backgrounds.len()
    );
    print_rows(&rows);
    for f in falses.iter().take(10) {
        println!("   false: {f}");
    }
    serde_json::json!({
        "registered": bank.len(), "keypoints": bank.keypoint_count(),
        "register_ms": register_ms, "rows": rows, "false_matches": falses,
    })
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut icons = None;
    let mut icon_data = None;
    let mut photo_dirs = Vec::new();
    let mut bg_dirs = Vec::new();
    let mut split = "heldout".to_string();
    let mut n_logos = 120usize;
    let mut photo_limit = usize::MAX;
    let mut only = String::new();
    let mut json = None;
    let mut dump = None;
    let mut threads = 2usize;
    let mut lowq_distance = None;
    let mut i = 0;
    while i < args.len() {
        let v = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--icons" => icons = Some(PathBuf::from(v)),
            "--icon-data" => icon_data = Some(PathBuf::from(v)),
            "--photos" => photo_dirs.push(PathBuf::from(v)),
            "--backgrounds" => bg_dirs.push(PathBuf::from(v)),
            "--split" => split = v,
            "--logos" => n_logos = v.parse().unwrap_or(n_logos),
            "--photo-limit" => photo_limit = v.parse().unwrap_or(photo_limit),
            "--only" => only = v,
            "--json" => json = Some(PathBuf::from(v)),
            "--dump" => dump = Some(PathBuf::from(v)),
            "--threads" => threads = v.parse().unwrap_or(threads),
            "--lowq-distance" => lowq_distance = v.parse().ok(),
            other => {
                eprintln!("unknown argument {other}");
                std::process::exit(2);
            }
        }
        i += 2;
    }
    let want_heldout = match split.as_str() {
        "dev" => false,
        "heldout" => true,
        other => {
            eprintln!("--split is dev or heldout, not {other}");
            std::process::exit(2);
        }
    };
    println!("split: {split}");
    let mut out = serde_json::Map::new();
    out.insert("split".into(), split.clone().into());
    if only != "logos" {
        let mut photos = Vec::new();
        for d in &photo_dirs {
            load_tree(d, &mut photos);
        }
        photos.retain(|(n, _)| held_out(n) == want_heldout);
        photos.truncate(photo_limit);
        println!("photos in this split: {}", photos.len());
        out.insert(
            "photos".into(),
            photo_families(&photos, threads, dump.as_deref(), lowq_distance),
        );
    }
    if only != "photos"
        && let Some(dir) = icons
    {
        let colours: HashMap<String, String> = icon_data
            .and_then(|p| std::fs::read_to_string(p).ok())
            .and_then(|t| serde_json::from_str::<Vec<serde_json::Value>>(&t).ok())
            .map(|v| {
                v.iter()
                    .filter_map(|e| {
                        Some((
                            e.get("slug")?.as_str()?.to_string(),
                            e.get("hex")?.as_str()?.to_string(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        paths.retain(|p| p.extension().is_some_and(|e| e == "svg"));
        paths.sort();
        paths.retain(|p| {
            held_out(&p.file_stem().unwrap_or_default().to_string_lossy()) == want_heldout
        });
        let step = (paths.len() / n_logos.max(1)).max(1);
        let logos: Vec<(String, EvalImage, [u8; 3])> = paths
            .iter()
            .step_by(step)
            .take(n_logos)
            .filter_map(|p| {
                let e = render_svg(p, 256)?;
                let hex = colours.get(&e.name).map(String::as_str).unwrap_or("000000");
                Some((e.name.clone(), e.clone(), parse_hex(hex)))
            })
            .collect();
        let mut backgrounds = Vec::new();
        for d in &bg_dirs {
            load_tree(d, &mut backgrounds);
        }
        backgrounds.retain(|(n, _)| held_out(n) == want_heldout);
        let bstep = (backgrounds.len() / 60).max(1);
        // Listing photos are rarely small: a small cut-out is enlarged so its shorter
        // side is 720 px (as a seller's upload of that product would be).
        let backgrounds: Vec<(String, EvalImage)> = backgrounds
            .into_iter()
            .step_by(bstep)
            .take(60)
            .map(|(n, e)| {
                let shorter = e.width.min(e.height);
                if shorter >= 720 {
                    (n, e)
                } else {
                    let k = 720.0 / shorter as f64;
                    let (w, h) = (
                        (e.width as f64 * k) as usize,
                        (e.height as f64 * k) as usize,
                    );
                    (n, resize(&e, w, h))
                }
            })
            .collect();
        println!(
            "logos in this split: {}, backgrounds: {}",
            logos.len(),
            backgrounds.len()
        );
        if !backgrounds.is_empty() {
            out.insert(
                "logos".into(),
                logo_families(&logos, &backgrounds, threads, dump.as_deref()),
            );
        }
    }
    if let Some(path) = json {
        let text = serde_json::to_string_pretty(&out).unwrap_or_default();
        if let Err(e) = std::fs::write(&path, text) {
            eprintln!("cannot write {}: {e}", path.display());
        }
    }
}
