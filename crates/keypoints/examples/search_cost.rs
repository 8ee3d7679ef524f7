//! Cost of one logo search in a 1-Mpx photo against a bank of N logos, with the numbers
//! behind it: candidates verified, matches found, CPU time per search. The bank is the
//! demo's Puma logo plus generated artwork (`benches/support/artwork.rs`, as in the
//! `logo_search` criterion bench); the artworks' stored features are cached in a file so a
//! second run starts in seconds, not minutes.
//!
//! Usage: search_cost [--logos N (10000)] [--runs R (20)] [--cache FILE]

use std::io::{Read, Write};
use std::process::ExitCode;

#[path = "../benches/support/artwork.rs"]
mod artwork;

use shopshield_keypoints::{LocalBank, LocalConfig, Reference, query_features, reference_features};
use shopshield_pdq::{DecodeOptions, decode};

const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/demo/images");

fn thread_cpu_ms() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .next()
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map_or(0.0, |ns| ns as f64 / 1e6)
}

fn stored_artworks(n: usize, cache: Option<&str>) -> std::io::Result<Vec<Vec<u8>>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    if let Some(path) = cache
        && let Ok(mut f) = std::fs::File::open(path)
    {
        let mut all = Vec::new();
        f.read_to_end(&mut all)?;
        let mut at = 0;
        while at + 4 <= all.len() && out.len() < n {
            let len = u32::from_le_bytes([all[at], all[at + 1], all[at + 2], all[at + 3]]) as usize;
            let Some(bytes) = all.get(at + 4..at + 4 + len) else {
                break;
            };
            out.push(bytes.to_vec());
            at += 4 + len;
        }
        if out.len() >= n {
            return Ok(out);
        }
        out.clear();
    }
    let min = LocalConfig::default().min_reference_keypoints;
    let mut seed = 0u64;
    while out.len() < n {
        seed += 1;
        if let Ok(r) = reference_features(&artwork::artwork(seed), 256, 256, true)
            && r.features.keypoints.len() >= min
        {
            out.push(r.to_bytes());
        }
    }
    if let Some(path) = cache {
        let mut f = std::fs::File::create(path)?;
        for b in &out {
            f.write_all(&(b.len() as u32).to_le_bytes())?;
            f.write_all(b)?;
        }
    }
    Ok(out)
}

fn main() -> ExitCode {
    let (mut logos, mut runs, mut cache) = (10_000usize, 20usize, None::<String>);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let v = args.next();
        match (a.as_str(), v) {
            ("--logos", Some(v)) if v.parse::<usize>().is_ok_and(|n| n > 0) => {
                logos = v.parse().unwrap_or(1)
            }
            ("--runs", Some(v)) if v.parse::<usize>().is_ok_and(|n| n > 0) => {
                runs = v.parse().unwrap_or(1)
            }
            ("--cache", Some(v)) => cache = Some(v),
            _ => {
                eprintln!("usage: search_cost [--logos N] [--runs R] [--cache FILE]");
                return ExitCode::from(2);
            }
        }
    }
    let read = |name: &str| {
        std::fs::read(format!("{DEMO}/{name}"))
            .ok()
            .and_then(|b| decode(&b, &DecodeOptions::default()).ok())
    };
    let (Some(logo), Some(photo)) = (read("puma-logo.png"), read("coaster-with-puma-print.jpg"))
    else {
        eprintln!("the demo images are missing");
        return ExitCode::from(2);
    };
    let Some(small) =
        image::RgbImage::from_raw(photo.width as u32, photo.height as u32, photo.rgb.clone())
    else {
        return ExitCode::from(2);
    };
    let big = image::imageops::resize(&small, 1155, 866, image::imageops::FilterType::Triangle);
    let (Ok(query), Ok(puma)) = (
        query_features(big.as_raw(), 1155, 866),
        reference_features(&logo.rgb, logo.width, logo.height, true),
    ) else {
        eprintln!("feature extraction failed");
        return ExitCode::from(2);
    };
    let stored = match stored_artworks(logos - 1, cache.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cache: {e}");
            return ExitCode::from(2);
        }
    };
    let entries = std::iter::once(("puma".to_string(), "r-puma".to_string(), puma)).chain(
        stored.iter().enumerate().filter_map(|(i, b)| {
            Reference::from_bytes(b)
                .ok()
                .map(|r| (format!("art-{i}"), "r-art".to_string(), r))
        }),
    );
    let t = std::time::Instant::now();
    let (bank, _) = LocalBank::from_references(LocalConfig::default(), entries);
    eprintln!(
        "bank: {} logos, {} descriptors, loaded in {:.1} s",
        bank.len(),
        bank.keypoint_count(),
        t.elapsed().as_secs_f64()
    );
    // The kernel may account CPU time in scheduler ticks (4 ms here), so the
    // figure is the total over all runs divided by the runs.
    let mut found = Vec::new();
    let t0 = thread_cpu_ms();
    for _ in 0..runs {
        found = bank.find(&query);
    }
    let mean = (thread_cpu_ms() - t0) / runs as f64;
    println!(
        "{} logos, {} photo keypoints: search {:.1} ms CPU (mean of {runs}); found {:?}",
        bank.len(),
        query.features.keypoints.len(),
        mean,
        found
            .iter()
            .map(|m| (m.entry_id.as_str(), m.inliers))
            .collect::<Vec<_>>()
    );
    ExitCode::SUCCESS
}
