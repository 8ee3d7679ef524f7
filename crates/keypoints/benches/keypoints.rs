//! Cost of feature extraction: a 1-Mpx listing photo's features (target: at most 15 ms), and
//! a registered logo's features with its negative. The search against banks of 1 to 10,000
//! logos is `benches/logo_search.rs`.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

mod support;
use shopshield_keypoints::{query_features, reference_features};
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
    let mut g = c.benchmark_group("keypoints");
    g.sample_size(20).measurement_time(Duration::from_secs(4));
    g.bench_function("extract 1-Mpx listing photo (1155x866)", |b| {
        b.iter(|| query_features(&big, bw, bh))
    });
    let query = query_features(&big, bw, bh).expect("query");
    let puma = reference_features(&logo.rgb, logo.width, logo.height, true).expect("reference");
    g.bench_function("extract registered logo with negatives", |b| {
        b.iter(|| reference_features(&logo.rgb, logo.width, logo.height, true))
    });
    let _ = (&query, &puma);
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(ThreadCpu);
    targets = bench
}
criterion_main!(benches);
