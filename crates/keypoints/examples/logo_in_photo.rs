//! Logo-inside-a-photo evaluation driver (the evaluation itself is
//! `shopshield_keypoints::eval`). Run by `bench/pdq/robustness.sh`.
//!
//! ```text
//! logo_in_photo --icons DIR [--limit N] [--photos DIR ...] [--json OUT] [--dump DIR]
//!               [--radius BITS] [--ratio R] [--min-inliers N] [--min-coverage F]
//!               [--checks N] [--max-candidates N]
//! ```

use std::path::PathBuf;

use shopshield_keypoints::LocalConfig;
use shopshield_keypoints::eval::{Composite, compose, evaluate};
use shopshield_pdq::eval::{EvalImage, to_png};

#[path = "../../pdq/examples/common/mod.rs"]
mod common;
use common::{load_logos, load_photos};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut icons = None;
    let mut photos_dirs = Vec::new();
    let mut limit = 300usize;
    let mut json = None;
    let mut dump = None;
    let mut config = LocalConfig::default();
    let mut i = 0;
    while i < args.len() {
        let v = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--icons" => icons = Some(PathBuf::from(v)),
            "--photos" => photos_dirs.push(PathBuf::from(v)),
            "--limit" => limit = v.parse().unwrap_or(limit),
            "--json" => json = Some(PathBuf::from(v)),
            "--dump" => dump = Some(PathBuf::from(v)),
            "--radius" => config.descriptor_radius = v.parse().unwrap_or(config.descriptor_radius),
            "--ratio" => config.ratio = v.parse().unwrap_or(config.ratio),
            "--min-inliers" => config.min_inliers = v.parse().unwrap_or(config.min_inliers),
            "--min-correlation" => {
                config.min_correlation = v.parse().unwrap_or(config.min_correlation)
            }
            "--min-coverage" => config.min_coverage = v.parse().unwrap_or(config.min_coverage),
            "--checks" => config.checks = v.parse().unwrap_or(config.checks),
            "--max-candidates" => {
                config.max_candidates = v.parse().unwrap_or(config.max_candidates)
            }
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
    if let (Some(dir), Some(photo)) = (&dump, photos.first()) {
        // A few composites to look at.
        let _ = std::fs::create_dir_all(dir);
        for (k, logo) in logos.iter().take(6).enumerate() {
            for how in [Composite::Label, Composite::Print] {
                if let Some(png) = compose(photo, logo, 0.33, how, k).and_then(|c| to_png(&c)) {
                    let _ = std::fs::write(dir.join(format!("{k}-{}.png", how.name())), png);
                }
            }
        }
    }
    let r = evaluate(
        &logos,
        &photos,
        &[Composite::Label, Composite::Print],
        &[0.5, 0.33, 0.2],
        config,
    );
    println!(
        "\n== logo inside photo, local features: {} of {} offered logos registered ({} keypoints), {} photos",
        r.registered, r.offered, r.keypoints_indexed, r.photos
    );
    for row in &r.rows {
        println!(
            "-- {:<5} logo {:>3.0}% of the shorter side: found {:>3}/{:<3} ({:5.1}%), wrong logo {}, distractors matched {}/{}, {:.1} ms/photo",
            row.composite,
            row.scale * 100.0,
            row.found,
            row.positives,
            100.0 * row.recall,
            row.wrong_logo,
            row.distractor_matches,
            row.distractors,
            row.query_ms
        );
    }
    println!(
        "-- plain photos matched: {}/{}\n-- overall: recall {:.1}%, false-match rate {:.2}%",
        r.clean_photo_matches,
        r.photos,
        100.0 * r.recall,
        100.0 * r.false_match_rate
    );
    if let Some(path) = json {
        let text = serde_json::to_string_pretty(&r).unwrap_or_default();
        if let Err(e) = std::fs::write(&path, text) {
            eprintln!("cannot write {}: {e}", path.display());
        }
    }
}
