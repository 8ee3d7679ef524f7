//! Screens listings against a rights file and prints the violations: the
//! demo of look-alike catches next to approved compatibility listings.
//!
//!     cargo run --release -p shopshield-text --example screen -- \
//!         data/eval/text/rights.jsonl "Guссi bag 1:1" bags/handbags [US] [brand] [price USD]
//!     cargo run --release -p shopshield-text --example screen -- data/eval/text/rights.jsonl --demo

use shopshield_model::{Listing, Money, Region, Right, Taxonomy};
use shopshield_text::{MarkMatcher, TextConfig};

fn listing(
    title: &str,
    category: &str,
    region: &str,
    brand: Option<&str>,
    price: Option<f64>,
) -> Listing {
    Listing {
        id: "demo".into(),
        shop_id: "shop-demo".into(),
        creator_id: None,
        region: Region::parse("region", region).unwrap_or(Region::ALL),
        category: category.into(),
        title: title.into(),
        description: None,
        brand: brand.map(str::to_string),
        price: price.map(|p| Money::new(p, "USD")),
        images: vec![],
        extra: Default::default(),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args
        .first()
        .ok_or("usage: screen RIGHTS.jsonl TITLE CATEGORY [REGION] [BRAND] [PRICE] | --demo")?;
    let rights: Vec<Right> = std::fs::read_to_string(path)?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    let t0 = std::time::Instant::now();
    let m = MarkMatcher::build(&rights, &TextConfig::default())?;
    eprintln!(
        "{} rights, {} spellings, built in {:.1?}",
        rights.len(),
        m.pattern_count(),
        t0.elapsed()
    );
    let tax = Taxonomy::builtin();
    let demo: Vec<Listing> = if args.get(1).map(String::as_str) == Some("--demo") {
        vec![
            listing(
                "Guссi Marmont shoulder bag",
                "bags/handbags",
                "US",
                None,
                None,
            ),
            listing(
                "N1ke Air Max 90 running shoes",
                "apparel/shoes",
                "US",
                None,
                None,
            ),
            listing(
                "N.I.K.E Dunk Low 1:1 replica",
                "apparel/shoes",
                "US",
                None,
                None,
            ),
            listing(
                "Rolxe Submariner automatic watch",
                "jewelry/watches",
                "US",
                None,
                None,
            ),
            listing(
                "LouisVuitton speedy 30 bag",
                "bags/handbags",
                "FR",
                None,
                None,
            ),
            listing(
                "ロレックス スーパーコピー 腕時計",
                "jewelry/watches",
                "JP",
                None,
                None,
            ),
            listing(
                "Wireless earbuds with charging case",
                "electronics/audio",
                "US",
                Some("AirPods"),
                Some(8.5),
            ),
            listing(
                "iPhone 15 Pro Max 1:1 copy",
                "electronics/phones",
                "US",
                None,
                None,
            ),
            listing(
                "Silicone case for iPhone 15",
                "electronics/phone-accessories",
                "US",
                None,
                Some(9.99),
            ),
            listing(
                "Funda para iPhone 14 Pro transparente",
                "electronics/phone-accessories",
                "ES",
                None,
                None,
            ),
            listing(
                "iPhone 15用 手帳型ケース",
                "electronics/phone-accessories",
                "JP",
                None,
                None,
            ),
            listing(
                "Replacement ear tips compatible with AirPods Pro",
                "electronics/audio",
                "US",
                None,
                Some(6.0),
            ),
            listing(
                "Fresh apple pie homemade",
                "food/groceries",
                "US",
                None,
                None,
            ),
            listing(
                "Basics cotton t-shirt 3 pack",
                "apparel/clothing",
                "US",
                None,
                None,
            ),
        ]
    } else {
        let title = args.get(1).ok_or("missing TITLE")?;
        let cat = args
            .get(2)
            .map(String::as_str)
            .unwrap_or("apparel/clothing");
        vec![listing(
            title,
            cat,
            args.get(3).map(String::as_str).unwrap_or("US"),
            args.get(4).map(String::as_str).filter(|s| !s.is_empty()),
            args.get(5).and_then(|p| p.parse().ok()),
        )]
    };
    for l in demo {
        let nice = tax
            .get(&l.category)
            .map(|c| c.nice.clone())
            .unwrap_or_default();
        let v = m.screen(&l, &nice);
        let score = v.iter().map(|v| v.confidence).fold(0.0, f64::max);
        println!(
            "{:<7} {:.2}  {}",
            m.score_to_action(score).as_str(),
            score,
            l.title
        );
        for x in &v {
            println!(
                "          {} {} [{}] {}",
                x.kind.as_str(),
                x.right_id.as_deref().unwrap_or("-"),
                x.evidence.method.as_deref().unwrap_or("-"),
                x.evidence.why
            );
        }
    }
    Ok(())
}
