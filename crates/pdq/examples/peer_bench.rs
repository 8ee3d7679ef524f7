//! Our side of the side-by-side benchmark driven by `bench/pdq/run.sh`.
//!
//! ```text
//! peer_bench dump-pixels OUT_DIR            decode tests/data/images to raw RGB + manifest.tsv
//! peer_bench hash DIR SECONDS               hash the raw RGB in DIR repeatedly; print images/s
//! peer_bench gen N QUERIES OUT_DIR          deterministic db.bin / queries.bin (32 bytes each)
//! peer_bench query DIR RADIUS               index db.bin, time radius search; recall check
//! ```
//! Output lines are `key=value` pairs the script parses.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use shopshield_hamming::{HammingIndex, Hash256, brute_force};
use shopshield_pdq::{DecodeOptions, Hasher, Pixels, decode};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize| -> &str { args.get(i).map(String::as_str).unwrap_or("") };
    match arg(1) {
        "dump-pixels" => dump_pixels(Path::new(arg(2))),
        "hash" => hash(Path::new(arg(2)), arg(3).parse().unwrap_or(5.0)),
        "gen" => generate(
            arg(2).parse().unwrap_or(1_000_000),
            arg(3).parse().unwrap_or(1000),
            Path::new(arg(4)),
        ),
        "query" => query(Path::new(arg(2)), arg(3).parse().unwrap_or(31)),
        _ => {
            eprintln!("usage: see the doc comment of examples/peer_bench.rs");
            std::process::exit(2);
        }
    }
}

fn dump_pixels(out: &Path) {
    std::fs::create_dir_all(out).expect("create out dir");
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/images");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("read images")
        .map(|e| e.expect("entry").path())
        .collect();
    names.sort();
    let mut manifest = String::new();
    for p in names {
        let bytes = std::fs::read(&p).expect("read image");
        let img = decode(&bytes, &DecodeOptions::default()).expect("decode");
        let stem = p
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("x")
            .to_string();
        std::fs::write(out.join(format!("{stem}.rgb")), &img.rgb).expect("write rgb");
        manifest.push_str(&format!("{stem}\t{}\t{}\n", img.width, img.height));
    }
    std::fs::write(out.join("manifest.tsv"), manifest).expect("write manifest");
}

fn load_pixels(dir: &Path) -> Vec<(String, Vec<u8>, usize, usize)> {
    let manifest = std::fs::read_to_string(dir.join("manifest.tsv")).expect("manifest");
    manifest
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let rgb = std::fs::read(dir.join(format!("{}.rgb", f[0]))).expect("rgb");
            (
                f[0].to_string(),
                rgb,
                f[1].parse().expect("w"),
                f[2].parse().expect("h"),
            )
        })
        .collect()
}

fn hash(dir: &Path, seconds: f64) {
    let images = load_pixels(dir);
    let mut hasher = Hasher::new();
    let mut out = String::new();
    let megapixels: f64 = images.iter().map(|(_, _, w, h)| (w * h) as f64 / 1e6).sum();
    for (name, rgb, w, h) in &images {
        let r = hasher.hash(Pixels::Rgb8(rgb), *w, *h).expect("hash");
        out.push_str(&format!("{name}\t{}\t{}\n", r.hash, r.quality));
    }
    std::fs::write(dir.join("ours.tsv"), out).expect("write hashes");
    for (label, dihedral) in [("hash", false), ("dihedral", true)] {
        let budget = Duration::from_secs_f64(seconds);
        let start = Instant::now();
        let mut n = 0usize;
        let mut rounds = 0usize;
        while start.elapsed() < budget || rounds == 0 {
            for (_, rgb, w, h) in &images {
                if dihedral {
                    std::hint::black_box(hasher.hash_dihedral(Pixels::Rgb8(rgb), *w, *h).ok());
                } else {
                    std::hint::black_box(hasher.hash(Pixels::Rgb8(rgb), *w, *h).ok());
                }
                n += 1;
            }
            rounds += 1;
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "side=ours mode={label} images={n} seconds={secs:.3} images_per_s={:.2} megapixels_per_s={:.2}",
            n as f64 / secs,
            megapixels * rounds as f64 / secs
        );
    }
}

struct SplitMix(u64);
impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn hash(&mut self) -> Hash256 {
        Hash256([self.next(), self.next(), self.next(), self.next()])
    }
}

/// `n` database hashes: random, except every 10th is a near-duplicate (0..=40 bits off) of an
/// earlier one, as real banks hold re-encodes. Queries: half near-duplicates of database hashes
/// (0..=40 bits flipped, so some are just outside radius 31), half random.
fn generate(n: usize, queries: usize, out: &Path) {
    std::fs::create_dir_all(out).expect("create out dir");
    let mut rng = SplitMix(42);
    let mut db: Vec<Hash256> = Vec::with_capacity(n);
    for i in 0..n {
        if i % 10 == 9 {
            let base = db[(rng.next() % i as u64) as usize];
            db.push(perturb(base, (rng.next() % 41) as usize, &mut rng));
        } else {
            db.push(rng.hash());
        }
    }
    let mut qs = Vec::with_capacity(queries);
    for i in 0..queries {
        if i % 2 == 0 {
            let base = db[(rng.next() % n as u64) as usize];
            qs.push(perturb(base, (rng.next() % 41) as usize, &mut rng));
        } else {
            qs.push(rng.hash());
        }
    }
    let write = |name: &str, hs: &[Hash256]| {
        let mut bytes = Vec::with_capacity(hs.len() * 32);
        for h in hs {
            bytes.extend_from_slice(&h.to_bytes());
        }
        std::fs::write(out.join(name), bytes).expect("write");
    };
    write("db.bin", &db);
    write("queries.bin", &qs);
}

fn perturb(mut h: Hash256, bits: usize, rng: &mut SplitMix) -> Hash256 {
    let mut flipped = std::collections::HashSet::new();
    while flipped.len() < bits {
        flipped.insert((rng.next() % 256) as usize);
    }
    for b in flipped {
        h.0[b >> 6] ^= 1 << (b & 63);
    }
    h
}

fn read_hashes(path: &Path) -> Vec<Hash256> {
    let bytes = std::fs::read(path).expect("read hashes");
    bytes
        .chunks_exact(32)
        .map(|c| {
            let mut b = [0u8; 32];
            b.copy_from_slice(c);
            Hash256::from_bytes(&b)
        })
        .collect()
}

fn rss_bytes() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|v| v.parse::<usize>().ok())
        })
        .map(|pages| pages * 4096)
        .unwrap_or(0)
}

fn query(dir: &Path, radius: u32) {
    let db = read_hashes(&dir.join("db.bin"));
    let qs = read_hashes(&dir.join("queries.bin"));
    let n = db.len();
    let items: Vec<(u64, Hash256)> = db.iter().enumerate().map(|(i, h)| (i as u64, *h)).collect();
    drop(db);
    let rss0 = rss_bytes();
    let t = Instant::now();
    let index = HammingIndex::from_pairs(items.iter().copied());
    let build = t.elapsed().as_secs_f64();
    let rss1 = rss_bytes();
    let accounted_built = index.memory_bytes();
    // Warm-up pass, then timed passes.
    let mut out = Vec::new();
    let mut found = 0usize;
    for q in &qs {
        index.search_into(q, radius, &mut out);
        found += out.len();
    }
    let mut passes = 0;
    let t = Instant::now();
    while passes < 3 || (t.elapsed().as_secs_f64() < 2.0 && passes < 50) {
        for q in &qs {
            index.search_into(q, radius, &mut out);
            std::hint::black_box(&out);
        }
        passes += 1;
    }
    let us = t.elapsed().as_secs_f64() * 1e6 / (passes * qs.len()) as f64;
    // Recall against brute force on the first 200 queries.
    let mut truth = 0usize;
    let mut hit = 0usize;
    for q in qs.iter().take(200) {
        let bf = brute_force(&items, q, radius);
        let got = index.search(q, radius);
        truth += bf.len();
        hit += bf.iter().filter(|x| got.contains(x)).count();
        assert_eq!(bf, got, "index disagrees with brute force");
    }
    // Single inserts and deletes on the live index.
    let mut live = index;
    let t = Instant::now();
    for i in 0..10_000u64 {
        live.insert(n as u64 + i, items[i as usize].1);
    }
    for i in 0..10_000u64 {
        live.remove(n as u64 + i);
    }
    let upd = t.elapsed().as_secs_f64() * 1e6 / 20_000.0;
    println!(
        "side=ours n={n} queries={} radius={radius} us_per_query={us:.2} results={found} recall={:.4} build_s={build:.2} bytes_per_hash_accounted={:.1} bytes_per_hash_after_updates={:.1} bytes_per_hash_rss={:.1} us_per_update={upd:.2}",
        qs.len(),
        if truth == 0 {
            1.0
        } else {
            hit as f64 / truth as f64
        },
        accounted_built as f64 / n as f64,
        live.memory_bytes() as f64 / n as f64,
        rss1.saturating_sub(rss0) as f64 / n as f64,
    );
}
