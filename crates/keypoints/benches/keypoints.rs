//! Cost of the logo-inside-a-photo search: extracting a listing photo's
//! features, and searching banks of 1, 10 and 100 logos (the demo's Puma
//! logo plus generated black-on-white artwork of rectangles and triangles).

use criterion::{Criterion, criterion_group, criterion_main};
use shopshield_keypoints::{LocalBank, LocalConfig, query_features, reference_features};
use shopshield_pdq::{DecodeOptions, decode};

const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/demo/images");

/// A 256x256 black-on-white artwork of random rectangles and triangles.
fn artwork(seed: u64) -> Vec<u8> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move |n: u64| {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s % n) as i64
    };
    let mut rgb = vec![255u8; 256 * 256 * 3];
    for _ in 0..6 + next(6) {
        let (x0, y0) = (32 + next(160), 32 + next(160));
        let (w, h) = (16 + next(64), 16 + next(64));
        let tri = next(2) == 0;
        for y in y0..(y0 + h).min(224) {
            for x in x0..(x0 + w).min(224) {
                if tri && (x - x0) * h > (y - y0) * w {
                    continue;
                }
                let i = ((y * 256 + x) * 3) as usize;
                rgb[i..i + 3].fill(0);
            }
        }
    }
    rgb
}

fn bench(c: &mut Criterion) {
    let read = |name: &str| {
        let bytes = std::fs::read(format!("{DEMO}/{name}")).expect("demo image");
        decode(&bytes, &DecodeOptions::default()).expect("decodes")
    };
    let logo = read("puma-logo.png");
    let photo = read("coaster-with-puma-print.jpg");
    c.bench_function("extract listing photo (924x735 -> 1024 px frame)", |b| {
        b.iter(|| query_features(&photo.rgb, photo.width, photo.height))
    });
    let query = query_features(&photo.rgb, photo.width, photo.height).expect("query");
    let puma = reference_features(&logo.rgb, logo.width, logo.height, true).expect("reference");
    for n in [1usize, 10, 100] {
        let mut bank = LocalBank::new(LocalConfig::default());
        bank.insert("puma", "r-puma", puma.clone())
            .expect("puma registers");
        let mut seed = 0;
        while bank.len() < n {
            seed += 1;
            if let Ok(r) = reference_features(&artwork(seed), 256, 256, true) {
                let _ = bank.insert(&format!("art-{seed}"), "r-art", r);
            }
        }
        assert!(bank.find(&query).iter().any(|m| m.right_id == "r-puma"));
        c.bench_function(
            &format!(
                "find in photo, {n} logos ({} keypoints)",
                bank.keypoint_count()
            ),
            |b| b.iter(|| bank.find(&query)),
        );
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
