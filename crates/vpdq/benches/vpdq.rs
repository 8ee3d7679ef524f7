//! Matching one query video against banks of 100 and 10,000 registered videos (synthetic
//! hash lists of 30 unique frames each, a 30-second clip at one frame per second): the
//! indexed bank against comparing the query with every registered video.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use shopshield_vpdq::{FrameHash, Hash256, MatchConfig, VideoBank};

const FRAMES: usize = 30;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn hash(&mut self) -> Hash256 {
        Hash256([self.next(), self.next(), self.next(), self.next()])
    }
}

fn video(rng: &mut Rng) -> Vec<FrameHash> {
    (0..FRAMES)
        .map(|i| FrameHash {
            frame_number: i as u64 * 30,
            quality: 100,
            hash: rng.hash(),
            timestamp: i as f64,
        })
        .collect()
}

/// A re-encoded copy: every frame within a few bits of the original.
fn noisy(v: &[FrameHash], rng: &mut Rng) -> Vec<FrameHash> {
    v.iter()
        .map(|f| {
            let mut h = f.hash;
            for _ in 0..10 {
                let k = (rng.next() % 256) as usize;
                h.0[k / 64] ^= 1 << (k % 64);
            }
            FrameHash { hash: h, ..*f }
        })
        .collect()
}

fn matching(c: &mut Criterion) {
    let cfg = MatchConfig::default();
    let mut g = c.benchmark_group("vpdq_match");
    g.sample_size(10).measurement_time(Duration::from_secs(3));
    for n in [100usize, 10_000] {
        let mut rng = Rng(0x5eed ^ n as u64);
        let videos: Vec<Vec<FrameHash>> = (0..n).map(|_| video(&mut rng)).collect();
        let (bank, _) = VideoBank::build(cfg, videos.iter().enumerate()).unwrap();
        let query = noisy(&videos[n / 2], &mut rng);
        // Both find exactly the copied video.
        let hits = bank.search(&query);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].key, n / 2);
        assert_eq!(bank.search_linear(&query, &cfg).unwrap(), hits);

        g.bench_with_input(BenchmarkId::new("index", n), &query, |b, q| {
            b.iter(|| bank.search(black_box(q)))
        });
        g.bench_with_input(BenchmarkId::new("linear_scan", n), &query, |b, q| {
            b.iter(|| bank.search_linear(black_box(q), &cfg))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("vpdq_bank_build");
    g.sample_size(10).measurement_time(Duration::from_secs(3));
    let mut rng = Rng(99);
    let videos: Vec<Vec<FrameHash>> = (0..10_000).map(|_| video(&mut rng)).collect();
    g.bench_function("build_10000_videos", |b| {
        b.iter(|| VideoBank::build(cfg, videos.iter().enumerate()).unwrap())
    });
    g.bench_function("insert_10000_videos", |b| {
        b.iter(|| {
            let mut bank: VideoBank<usize> = VideoBank::new(cfg).unwrap();
            for (k, v) in videos.iter().enumerate() {
                bank.insert(k, v).unwrap();
            }
            bank
        })
    });
    g.finish();
}

criterion_group!(benches, matching);
criterion_main!(benches);
