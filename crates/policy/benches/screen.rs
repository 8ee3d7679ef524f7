//! Screening throughput with every shipped pack loaded.
//!
//! `cargo bench -p shopshield-policy --bench screen`; criterion reports
//! listings per second (one element = one listing).

use std::hint::black_box;

use chrono::{TimeZone, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use shopshield_model::{Listing, Taxonomy};
use shopshield_policy::{ListingText, PolicySet};

const REGIONS: [&str; 17] = [
    "US", "GB", "DE", "FR", "ES", "IT", "NL", "MX", "BR", "ID", "MY", "PH", "TH", "VN", "SG", "JP",
    "AU",
];

const TITLES: [(&str, &str); 12] = [
    (
        "apparel/clothing",
        "Women's floral summer dress, ivory lace trim, sizes S-XL",
    ),
    (
        "electronics/phone-accessories",
        "USB-C fast charger 65W GaN, 2 ports, foldable plug",
    ),
    ("tobacco/vaping", "Disposable vape 5000 puffs, mango ice"),
    ("home/kitchen", "Knife sharpener 3-stage with non-slip base"),
    ("toys/toys", "Water pistol 2 pack for the pool"),
    ("beauty/skincare", "Vitamin C brightening serum 30ml"),
    ("alcohol/beverages", "Single malt whisky 12 years 70cl"),
    ("tools/hardware", "Gun-metal grey metal paint 750ml"),
    ("sports/equipment", "Yoga mat 6mm non slip with carry strap"),
    ("health/supplements", "Collagen peptides powder 300g"),
    ("food/groceries", "Organic green tea 100 bags"),
    (
        "outdoor/knives-weapons",
        "Folding pocket knife, stainless steel",
    ),
];

const DESCRIPTION: &str = "Brand new and sealed. Ships within 24 hours from our local warehouse. \
Please check the size chart before ordering; returns are accepted within 30 days if unused. \
Great as a gift for friends and family. Contact us with any questions about compatibility, \
colours or bulk orders, and follow the shop for new arrivals every week.";

fn listings() -> Vec<Listing> {
    let mut out = Vec::new();
    for (i, region) in REGIONS.iter().enumerate() {
        for (j, (cat, title)) in TITLES.iter().enumerate() {
            out.push(
                serde_json::from_value(serde_json::json!({
                    "id": format!("l-{i}-{j}"),
                    "shop_id": "shop-1",
                    "region": region,
                    "category": cat,
                    "title": title,
                    "brand": "Acme",
                    "description": DESCRIPTION,
                }))
                .expect("valid listing"),
            );
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let set = PolicySet::builtin(&Taxonomy::builtin()).expect("shipped packs load");
    let listings = listings();
    let now = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
    let mut g = c.benchmark_group("policy");
    g.throughput(Throughput::Elements(listings.len() as u64));
    g.bench_function("screen_all_packs", |b| {
        b.iter(|| {
            for l in &listings {
                black_box(set.screen(black_box(l), &[], now));
            }
        })
    });
    // Matching only: the gate normalises once and shares the text between
    // the trademark and policy stages.
    let texts: Vec<ListingText> = listings.iter().map(ListingText::new).collect();
    g.bench_function("screen_prenormalized", |b| {
        b.iter(|| {
            for (l, t) in listings.iter().zip(&texts) {
                black_box(set.screen_text(black_box(l), t, &[], now));
            }
        })
    });
    // The share of the cost spent normalising the same fields.
    g.bench_function("normalize_fields_only", |b| {
        b.iter(|| {
            for l in &listings {
                black_box(shopshield_text::normalize::normalize(&l.title));
                black_box(shopshield_text::normalize::normalize("Acme"));
                black_box(shopshield_text::normalize::normalize(DESCRIPTION));
            }
        })
    });
    g.finish();
    c.bench_function("policy/load_builtin", |b| {
        let t = Taxonomy::builtin();
        b.iter(|| black_box(PolicySet::builtin(&t).expect("loads")))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
