//! Robustness evaluation driver (data loading; the evaluation itself is
//! `shopshield_pdq::eval`). Run by `bench/pdq/robustness.sh`.
//!
//! ```text
//! robustness --icons DIR [--limit N] [--photos DIR ...] [--json OUT]
//! ```
//! Logos: simple-icons SVGs rendered with resvg, black on white, 256x256 with a margin.
//! Photos: every JPEG/PNG in the `--photos` directories.

use std::path::{Path, PathBuf};

use shopshield_pdq::eval::{EvalImage, Strategy, logo_in_photo_eval, robustness_eval};
use shopshield_pdq::{BankKind, DecodeOptions, decode};

fn render_svg(path: &Path, size: u32) -> Option<EvalImage> {
    use resvg::{tiny_skia, usvg};
    let data = std::fs::read(path).ok()?;
    let tree = usvg::Tree::from_data(&data, &usvg::Options::default()).ok()?;
    let mut pixmap = tiny_skia::Pixmap::new(size, size)?;
    let s = tree.size();
    let content = size as f32 * 0.8;
    let scale = content / s.width().max(s.height());
    let tx = (size as f32 - s.width() * scale) / 2.0;
    let ty = (size as f32 - s.height() * scale) / 2.0;
    let transform = tiny_skia::Transform::from_row(scale, 0.0, 0.0, scale, tx, ty);
    resvg::render(&tree, transform, &mut pixmap.as_mut());
    // Premultiplied RGBA over white.
    let mut rgb = Vec::with_capacity((size * size * 3) as usize);
    for px in pixmap.data().chunks_exact(4) {
        let a = px[3];
        for c in &px[..3] {
            rgb.push(c.saturating_add(255 - a));
        }
    }
    Some(EvalImage {
        name: path.file_stem()?.to_string_lossy().into_owned(),
        width: size as usize,
        height: size as usize,
        rgb,
    })
}

fn load_photos(dir: &Path) -> Vec<EvalImage> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    paths.sort();
    paths
        .iter()
        .filter_map(|p| {
            let bytes = std::fs::read(p).ok()?;
            let img = decode(&bytes, &DecodeOptions::default()).ok()?;
            Some(EvalImage {
                name: p.file_name()?.to_string_lossy().into_owned(),
                width: img.width,
                height: img.height,
                rgb: img.rgb,
            })
        })
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut icons = None;
    let mut photos_dirs = Vec::new();
    let mut limit = 300usize;
    let mut json = None;
    let mut i = 0;
    while i < args.len() {
        let v = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--icons" => icons = Some(PathBuf::from(v)),
            "--photos" => photos_dirs.push(PathBuf::from(v)),
            "--limit" => limit = v.parse().unwrap_or(limit),
            "--json" => json = Some(PathBuf::from(v)),
            other => {
                eprintln!("unknown argument {other}");
                std::process::exit(2);
            }
        }
        i += 2;
    }
    let mut logos = Vec::new();
    if let Some(dir) = icons {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        paths.retain(|p| p.extension().is_some_and(|e| e == "svg"));
        paths.sort();
        // An even spread over the alphabet, deterministic.
        let step = (paths.len() / limit.max(1)).max(1);
        logos = paths
            .iter()
            .step_by(step)
            .take(limit)
            .filter_map(|p| render_svg(p, 256))
            .collect();
    }
    let mut photos = Vec::new();
    for d in &photos_dirs {
        photos.extend(load_photos(d));
    }
    println!("logos: {}, photos: {}", logos.len(), photos.len());
    let mut out = serde_json::Map::new();
    for (label, set, kind) in [
        ("logos", &logos, BankKind::Logo),
        ("photos", &photos, BankKind::Photo),
    ] {
        if set.is_empty() {
            continue;
        }
        let r = robustness_eval(set, &Strategy::LADDER, kind, 31, 50);
        println!(
            "\n== {label}: {} entries (skipped {} below quality 50 or degenerate), distance <= {}, quality >= {}",
            r.entries,
            r.skipped.len(),
            r.max_distance,
            r.min_quality
        );
        for s in &r.strategies {
            println!(
                "-- {}: recall {:.1}%, false-match queries {}/{} ({:.2}%), false pairs {}/{}, hashes/entry {:.1}, {:.2} ms/query",
                s.strategy,
                100.0 * s.recall,
                s.false_match_queries,
                s.queries,
                100.0 * s.false_match_rate,
                s.false_pairs,
                s.pairs,
                s.hashes_per_entry,
                s.query_ms
            );
            for t in &s.per_transform {
                println!(
                    "     {:<18} {:>4}/{:<4} {:5.1}%",
                    t.transform,
                    t.matched,
                    t.total,
                    100.0 * t.matched as f64 / t.total.max(1) as f64
                );
            }
        }
        out.insert(
            label.to_string(),
            serde_json::to_value(&r).unwrap_or_default(),
        );
    }
    if !logos.is_empty() && !photos.is_empty() {
        for scale in [0.5, 0.33] {
            let r = logo_in_photo_eval(&logos, &photos, scale, 31, 50);
            println!(
                "\n== logo inside photo (logo {:.0}% of the shorter side), {} composites: recall whole-image {:.1}%, with tiles {:.1}%; false match with tiles {:.2}%; clean photos falsely matched {:.2}%; {:.1} ms/query with tiles",
                scale * 100.0,
                r.composites,
                100.0 * r.recall_whole,
                100.0 * r.recall_tiles,
                100.0 * r.false_match_rate_tiles,
                100.0 * r.clean_photo_false_match_rate,
                r.tiles_query_ms
            );
            out.insert(
                format!("logo_in_photo_{scale}"),
                serde_json::to_value(&r).unwrap_or_default(),
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
