//! Criterion benchmarks of the two indexes: exact radius-31 and radius-10 queries on 100k
//! random codes (the PDQ bank's index; `bench/pdq/run.sh` compares it with faiss), and the
//! vocabulary tree's approximate radius-32 search as the number of stored codes grows
//! (clustered codes, like keypoint descriptors; the budget of compared codes is fixed).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use shopshield_hamming::{HammingIndex, Hash256, VocabParams, VocabTree};

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

fn rand_hash(s: &mut u64) -> Hash256 {
    Hash256([xorshift(s), xorshift(s), xorshift(s), xorshift(s)])
}

fn flip(h: Hash256, s: &mut u64, n: u64) -> Hash256 {
    let mut w = h.0;
    for _ in 0..n {
        let b = (xorshift(s) % 256) as usize;
        w[b / 64] ^= 1 << (b % 64);
    }
    Hash256(w)
}

fn exact(c: &mut Criterion) {
    let mut s = 42u64;
    let db: Vec<(u64, Hash256)> = (0..100_000u64).map(|i| (i, rand_hash(&mut s))).collect();
    let queries: Vec<Hash256> = (0..256).map(|_| rand_hash(&mut s)).collect();
    let index = HammingIndex::from_pairs(db.iter().copied());
    let mut g = c.benchmark_group("index_100k");
    g.sample_size(20).measurement_time(Duration::from_secs(3));
    let mut out = Vec::new();
    let mut i = 0;
    g.bench_function("radius31", |b| {
        b.iter(|| {
            i = (i + 1) % queries.len();
            index.search_into(black_box(&queries[i]), 31, &mut out);
        })
    });
    g.bench_function("radius10", |b| {
        b.iter(|| {
            i = (i + 1) % queries.len();
            index.search_into(black_box(&queries[i]), 10, &mut out);
        })
    });
    g.finish();
}

fn vocab(c: &mut Criterion) {
    let mut g = c.benchmark_group("vocab_tree_radius32_checks128");
    g.sample_size(20).measurement_time(Duration::from_secs(3));
    for n in [10_000usize, 100_000, 1_000_000] {
        let mut s = 7u64;
        let centres: Vec<Hash256> = (0..n / 50).map(|_| rand_hash(&mut s)).collect();
        let db: Vec<(u64, Hash256)> = (0..n)
            .map(|i| {
                let k = xorshift(&mut s) % 30;
                (i as u64, flip(centres[i % centres.len()], &mut s, k))
            })
            .collect();
        let queries: Vec<Hash256> = (0..256)
            .map(|i| flip(db[(i * 7919) % n].1, &mut s, 12))
            .collect();
        let tree = VocabTree::from_pairs(VocabParams::default(), db);
        let mut out = Vec::new();
        let mut i = 0;
        g.bench_function(format!("{n}_codes"), |b| {
            b.iter(|| {
                i = (i + 1) % queries.len();
                tree.search_into(black_box(&queries[i]), 32, 128, &mut out)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, exact, vocab);
criterion_main!(benches);
