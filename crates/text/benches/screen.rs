//! Criterion benchmarks: normalisation, screening one listing, and building
//! the matcher, on the shipped evaluation corpus (915 real marks).

use criterion::{Criterion, criterion_group, criterion_main};
use shopshield_model::{Right, Taxonomy};
use shopshield_text::eval::parse_cases;
use shopshield_text::{MarkMatcher, TextConfig, normalize};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/eval/text");

fn bench(c: &mut Criterion) {
    let rights: Vec<Right> = std::fs::read_to_string(format!("{DIR}/rights.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let cases =
        parse_cases(&std::fs::read_to_string(format!("{DIR}/cases.jsonl")).unwrap_or_default())
            .unwrap_or_default();
    let tax = Taxonomy::builtin();
    let m = MarkMatcher::build(&rights, &TextConfig::default()).expect("matcher");
    let work: Vec<_> = cases
        .iter()
        .map(|c| {
            let nice = tax
                .get(&c.listing.category)
                .map(|x| x.nice.clone())
                .unwrap_or_default();
            (c.listing.clone(), nice)
        })
        .collect();
    c.bench_function("normalize title", |b| {
        b.iter(|| normalize("N.I.K.E Air Max 90 Guссi N1ke 1:1 replica size 42"))
    });
    let mut i = 0;
    c.bench_function("screen one listing (corpus round-robin)", |b| {
        b.iter(|| {
            i = (i + 1) % work.len().max(1);
            work.get(i).map(|(l, n)| m.screen(l, n))
        })
    });
    let mut g = c.benchmark_group("build");
    g.sample_size(10);
    g.bench_function("build matcher (corpus rights)", |b| {
        b.iter(|| MarkMatcher::build(&rights, &TextConfig::default()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
