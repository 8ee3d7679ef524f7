//! Cost of the logo-inside-a-photo search, after feature extraction: searching banks of 1, 100, 1,000 and 10,000 logos (the demo's Puma logo plus generated
//! black-on-white artwork: rectangles, triangles, discs and bars at random places, one
//! distinct artwork per seed), and loading 10,000 logos from their stored bytes.

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};

#[path = "support/artwork.rs"]
mod artwork;
mod support;
use artwork::artwork;
use shopshield_keypoints::{LocalBank, LocalConfig, Reference, query_features, reference_features};
use shopshield_pdq::{DecodeOptions, decode};
use support::ThreadCpu;

const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/demo/images");

fn bench(c: &mut Criterion<ThreadCpu>) {
    let read = |name: &str| {
        let bytes = std::fs::read(format!("{DEMO}/{name}")).expect("demo image");
        decode(&bytes, &DecodeOptions::default()).expect("decodes")
    };
    let logo = read("puma-logo.png");
    let photo = read("coaster-with-puma-print.jpg");
    // The demo photo enlarged to 1155 x 866 (1.0 Mpx).
    let big = image::imageops::resize(
        &image::RgbImage::from_raw(photo.width as u32, photo.height as u32, photo.rgb.clone())
            .expect("rgb"),
        1155,
        866,
        image::imageops::FilterType::Triangle,
    );
    let (bw, bh) = (big.width() as usize, big.height() as usize);
    let big = big.into_raw();
    let mut g = c.benchmark_group("logo_search");
    g.sample_size(10).measurement_time(Duration::from_secs(4));
    let query = query_features(&big, bw, bh).expect("query");
    let puma = reference_features(&logo.rgb, logo.width, logo.height, true).expect("reference");
    let config = LocalConfig::default();
    // 10,000 distinct generated artworks (stored as bytes, as the store would keep them).
    let mut stored: Vec<(String, Vec<u8>)> = Vec::new();
    let mut seed = 0u64;
    let t = Instant::now();
    while stored.len() < 9_999 {
        seed += 1;
        if let Ok(r) = reference_features(&artwork(seed), 256, 256, true)
            && r.features.keypoints.len() >= config.min_reference_keypoints
        {
            stored.push((format!("art-{seed}"), r.to_bytes()));
        }
    }
    eprintln!(
        "generated 9,999 artworks' features in {:.1} s ({} bytes stored per logo on average)",
        t.elapsed().as_secs_f64(),
        stored.iter().map(|(_, b)| b.len()).sum::<usize>() / stored.len()
    );
    for n in [1usize, 100, 1_000, 10_000] {
        let entries = std::iter::once(("puma".to_string(), "r-puma".to_string(), puma.clone()))
            .chain(stored.iter().take(n - 1).map(|(id, bytes)| {
                (
                    id.clone(),
                    "r-art".to_string(),
                    Reference::from_bytes(bytes).expect("stored features load"),
                )
            }));
        let t = Instant::now();
        let (bank, refused) = LocalBank::from_references(config, entries);
        let load = t.elapsed().as_secs_f64();
        assert!(refused.is_empty());
        assert!(bank.find(&query).iter().any(|m| m.right_id == "r-puma"));
        eprintln!(
            "bank of {n} logos ({} descriptors, {:.0} MB index): loaded from bytes in {:.2} s",
            bank.keypoint_count(),
            bank.index_memory_bytes() as f64 / 1e6,
            load
        );
        g.bench_function(
            format!(
                "find in photo, {n} logos ({} descriptors)",
                bank.keypoint_count()
            ),
            |b| b.iter(|| bank.find(&query)),
        );
    }
    g.bench_function("load 10,000 logos from stored bytes", |b| {
        b.iter(|| {
            let entries = stored.iter().map(|(id, bytes)| {
                (
                    id.clone(),
                    "r-art".to_string(),
                    Reference::from_bytes(bytes).expect("stored features load"),
                )
            });
            LocalBank::from_references(config, entries).0.len()
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(ThreadCpu);
    targets = bench
}
criterion_main!(benches);
