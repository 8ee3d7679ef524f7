//! Criterion benchmarks: hashing decoded pixels. The index's queries are benchmarked in
//! `crates/hamming`; the side-by-side comparison with the Python peers is `bench/pdq/run.sh`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use shopshield_pdq::{Dihedral, Hasher, Pixels, views};

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

fn synthetic_rgb(w: usize, h: usize) -> Vec<u8> {
    let mut s = 0x1234_5678u64;
    let mut out = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        for x in 0..w {
            let n = (xorshift(&mut s) % 32) as usize;
            out.push(((x * 255 / w) + n).min(255) as u8);
            out.push(((y * 255 / h) + n).min(255) as u8);
            out.push((((x ^ y) & 0xff) + n).min(255) as u8);
        }
    }
    out
}

fn hashing(c: &mut Criterion) {
    let mut g = c.benchmark_group("hash");
    g.sample_size(20).measurement_time(Duration::from_secs(3));
    for (w, h) in [(1600usize, 1004usize), (512, 512)] {
        let rgb = synthetic_rgb(w, h);
        let mut hasher = Hasher::new();
        g.bench_function(format!("pdq_{w}x{h}"), |b| {
            b.iter(|| hasher.hash(Pixels::Rgb8(black_box(&rgb)), w, h))
        });
        g.bench_function(format!("pdq_dihedral_{w}x{h}"), |b| {
            b.iter(|| hasher.hash_dihedral(Pixels::Rgb8(black_box(&rgb)), w, h))
        });
    }
    g.finish();
    // Listing photos are hashed with their eight dihedral variants computed from the turned
    // pixels (`ViewOptions::QUERY_PIXEL_DIHEDRAL`). Today's way turns the luma plane once
    // computed; the way before turned the RGB image and hashed each copy from its RGB. Both
    // give the same bits (views::tests).
    let mut g = c.benchmark_group("pixel_dihedral");
    g.sample_size(20).measurement_time(Duration::from_secs(4));
    let (w, h) = (1024usize, 768usize);
    let rgb = synthetic_rgb(w, h);
    let mut hasher = Hasher::new();
    g.bench_function(format!("luma_plane_{w}x{h}"), |b| {
        b.iter(|| views::hash_pixel_dihedral(&mut hasher, black_box(&rgb), w, h))
    });
    g.bench_function(format!("rgb_per_variant_{w}x{h}"), |b| {
        b.iter(|| {
            Dihedral::ALL.map(|d| {
                let (px, tw, th) = views::transform_pixels(black_box(&rgb), w, h, d);
                hasher.hash(Pixels::Rgb8(&px), tw, th).map(|p| p.hash)
            })
        })
    });
    g.finish();
}

criterion_group!(benches, hashing);
criterion_main!(benches);
