//! Screening throughput of the gate with 10,000 registered marks.
//!
//! Run: `cargo bench -p shopshield-gate --bench screen`.

use chrono::Utc;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use shopshield_gate::{EngineBuilder, GateConfig, ScreenInput, TextDetector};
use shopshield_model::{Listing, NewRight, Region, Right, RightKind, Taxonomy};
use shopshield_policy::{ListingText, PolicySet};
use shopshield_text::{MarkMatcher, NormalizedFields, TextConfig};

/// A deterministic generator (SplitMix64), so every run sees the same data.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn word(&mut self) -> String {
        const SYL: [&str; 16] = [
            "ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "zo", "pe", "qu", "dar", "len", "mor",
            "tix", "bel",
        ];
        let n = 2 + (self.next() % 3) as usize;
        (0..n).map(|_| SYL[(self.next() % 16) as usize]).collect()
    }
}

const WORDS: [&str; 24] = [
    "cotton", "shirt", "for", "women", "men", "running", "shoes", "leather", "bag", "case",
    "phone", "wireless", "earbuds", "new", "2024", "black", "white", "size", "large", "kids",
    "organic", "vintage", "style", "gift",
];

fn bench(c: &mut Criterion) {
    let mut rng = Rng(42);
    let now = Utc::now();
    let rights: Vec<Right> = (0..10_000)
        .map(|i| {
            let new = NewRight {
                id: format!("r-{i}"),
                holder: "h".into(),
                kind: RightKind::Trademark,
                mark: Some(rng.word()),
                aliases: vec![],
                nice_classes: vec![25, 9, 18],
                regions: vec![Region::ALL],
                authorized_sellers: vec![],
                price_floor: None,
                image: None,
                video: None,
                vpdq: None,
                registration: None,
            };
            Right::from_new(new, "h".into(), now)
        })
        .collect();
    let listings: Vec<Listing> = (0..1000)
        .map(|i| {
            let mut title: Vec<String> = (0..8)
                .map(|_| WORDS[(rng.next() % 24) as usize].to_string())
                .collect();
            if i % 10 == 0 {
                title.push(
                    rights[(rng.next() % 10_000) as usize]
                        .mark
                        .clone()
                        .unwrap_or_default(),
                );
            }
            Listing {
                id: format!("l-{i}"),
                shop_id: "s".into(),
                creator_id: None,
                region: Region::parse("region", "US").expect("US is a region"),
                category: "apparel/clothing".into(),
                title: title.join(" "),
                description: Some(
                    "Soft and comfortable, ships in two days. Machine washable.".into(),
                ),
                brand: None,
                price: None,
                images: vec![],
                extra: Default::default(),
            }
        })
        .collect();
    let engine = EngineBuilder::new(1, GateConfig::default())
        .detector(TextDetector::new(
            MarkMatcher::build(&rights, &TextConfig::default()).expect("valid config"),
        ))
        .build();
    let tax = Taxonomy::builtin();
    let category = tax
        .get("apparel/clothing")
        .expect("category exists")
        .clone();
    let mut g = c.benchmark_group("gate");
    g.throughput(Throughput::Elements(listings.len() as u64));
    g.bench_function("screen_1000_listings_10000_marks", |b| {
        b.iter(|| {
            let mut flagged = 0;
            for l in &listings {
                let normalized = NormalizedFields::new(l);
                let v = engine.screen(&ScreenInput {
                    listing: l,
                    category: &category,
                    normalized: &normalized,
                    images: &[],
                    qualifications: &[],
                    now,
                });
                flagged += v.violations.len();
            }
            flagged
        })
    });
    g.bench_function("build_10000_marks", |b| {
        b.iter(|| MarkMatcher::build(&rights, &TextConfig::default()).map(|m| m.pattern_count()))
    });
    g.finish();

    // The stages one by one, on the same listings: normalising the three
    // text fields once, the trademark stage and the policy stage (every
    // shipped pack) on the shared normalised text.
    let matcher = MarkMatcher::build(&rights, &TextConfig::default()).expect("valid config");
    let policy = PolicySet::builtin(&tax).expect("shipped packs are valid");
    let normalized: Vec<NormalizedFields> = listings.iter().map(NormalizedFields::new).collect();
    let mut g = c.benchmark_group("stages");
    g.throughput(Throughput::Elements(listings.len() as u64));
    g.bench_function("normalise", |b| {
        b.iter(|| listings.iter().map(NormalizedFields::new).count())
    });
    g.bench_function("trademark_10000_marks", |b| {
        b.iter(|| {
            listings
                .iter()
                .zip(&normalized)
                .map(|(l, n)| matcher.screen_normalized(l, &category.nice, n).len())
                .sum::<usize>()
        })
    });
    g.bench_function("policy_all_packs", |b| {
        b.iter(|| {
            listings
                .iter()
                .zip(&normalized)
                .map(|(l, n)| {
                    let text = ListingText::from_normalized(
                        n.title.clone().unwrap_or_default(),
                        n.brand.clone(),
                        n.description.clone(),
                    );
                    policy.screen_text(l, &text, &[], now).violations.len()
                })
                .sum::<usize>()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
