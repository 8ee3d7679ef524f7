//! Robustness evaluation driver (data loading; the evaluation itself is
//! `shopshield_pdq::eval`). Run by `bench/pdq/robustness.sh`.
//!
//! ```text
//! robustness --icons DIR [--limit N] [--photos DIR ...] [--json OUT]
//! ```
//! Logos: simple-icons SVGs rendered with resvg, black on white, 256x256 with a margin.
//! Photos: every JPEG/PNG in the `--photos` directories.

use std::path::PathBuf;

use shopshield_pdq::BankKind;
use shopshield_pdq::eval::{EvalImage, Strategy, logo_in_photo_eval, robustness_eval};

#[path = "common/mod.rs"]
mod common;
use common::{load_logos, load_photos};

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
    let logos = icons.map(|d| load_logos(&d, limit)).unwrap_or_default();
    let photos: Vec<EvalImage> = photos_dirs.iter().flat_map(|d| load_photos(d)).collect();
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
