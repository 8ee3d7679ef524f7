//! Single-threaded screening throughput and matcher rebuild time, for the
//! side-by-side benchmark (bench/text/run.sh).
//!
//!     cargo run --release -p shopshield-text --example throughput -- MARKS.txt TITLES.txt [MARKS_100K.txt] [--price]
//!
//! `--price` gives every listing a price (USD 30), as real listings have:
//! then tokens that are common words or names get a fuzzy look too (a price
//! under a near mark's floor could raise them).
//!
//! Prints `rust_listings_per_sec=N` (and, with the large mark file,
//! `rust_rebuild_100k_ms=N` and `rust_listings_per_sec_100k=N`).

use std::time::Instant;

use shopshield_model::{Listing, Region, Right};
use shopshield_text::{MarkMatcher, TextConfig};

fn rights(path: &str) -> Result<Vec<Right>, Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(path)?;
    let mut out = Vec::new();
    for (i, name) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        out.push(serde_json::from_value(serde_json::json!({
            "id": format!("r-{i}"),
            "holder_id": format!("h-{i}"),
            "kind": "trademark",
            "mark": name.trim(),
            "nice_classes": [3, 9, 14, 18, 25, 28],
            "regions": ["*"],
            "price_floor": {"amount": 50.0, "currency": "USD"},
            "enabled": true,
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
        }))?);
    }
    Ok(out)
}

fn listings(path: &str, price: bool) -> Result<Vec<Listing>, Box<dyn std::error::Error>> {
    let us = Region::parse("region", "US")?;
    Ok(std::fs::read_to_string(path)?
        .lines()
        .enumerate()
        .map(|(i, t)| Listing {
            id: format!("l-{i}"),
            shop_id: "shop-1".into(),
            creator_id: None,
            region: us,
            category: "apparel/clothing".into(),
            title: t.to_string(),
            description: None,
            brand: None,
            price: price.then(|| shopshield_model::Money::new(30.0, "USD")),
            images: vec![],
            extra: Default::default(),
        })
        .collect())
}

/// CPU time of the calling thread in seconds (Linux `schedstat`): the
/// machine may be shared, so rates are also reported per CPU-second.
fn thread_cpu() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e9)
}

/// CPU time of the whole process (all threads) in seconds.
fn process_cpu() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn rate(m: &MarkMatcher, ls: &[Listing]) -> (f64, usize) {
    let nice = [25u8];
    // Warm up the lazily built tables.
    let mut flagged = 0;
    for l in ls.iter().take(1000) {
        flagged += usize::from(!m.screen(l, &nice).is_empty());
    }
    let _ = flagged;
    // Best of three passes: the machine may be shared.
    let mut best = f64::INFINITY;
    let mut flagged = 0;
    for _ in 0..3 {
        let t = Instant::now();
        let c0 = thread_cpu();
        flagged = 0;
        for l in ls {
            flagged += usize::from(!m.screen(l, &nice).is_empty());
        }
        let wall = t.elapsed().as_secs_f64();
        let secs = match (c0, thread_cpu()) {
            (Some(a), Some(b)) if b > a => b - a,
            _ => wall,
        };
        eprintln!(
            "  {} listings: wall {wall:.2}s ({:.0}/s), thread CPU {secs:.2}s",
            ls.len(),
            ls.len() as f64 / wall
        );
        best = best.min(secs);
    }
    let secs = best;
    (ls.len() as f64 / secs, flagged)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let all: Vec<String> = std::env::args().skip(1).collect();
    let price = all.iter().any(|a| a == "--price");
    let args: Vec<String> = all.into_iter().filter(|a| a != "--price").collect();
    let (Some(mp), Some(tp)) = (args.first(), args.get(1)) else {
        return Err("usage: throughput MARKS.txt TITLES.txt [MARKS_100K.txt]".into());
    };
    let cfg = TextConfig::default();
    let rs = rights(mp)?;
    let ls = listings(tp, price)?;
    let t = Instant::now();
    let m = MarkMatcher::build(&rs, &cfg)?;
    let build = t.elapsed();
    let (r, flagged) = rate(&m, &ls);
    println!(
        "marks={} titles={} build_ms={:.1} flagged={flagged}",
        rs.len(),
        ls.len(),
        build.as_secs_f64() * 1e3
    );
    println!("rust_listings_per_sec={r:.0} (per CPU-second, one thread)");
    if let Some(big) = args.get(2) {
        let rs = rights(big)?;
        // First build warms the shared phrase tables; time a rebuild.
        let _ = MarkMatcher::build(&rs, &cfg)?;
        let t = Instant::now();
        let c0 = process_cpu();
        let m = MarkMatcher::build(&rs, &cfg)?;
        let build = t.elapsed();
        let cpu = match (c0, process_cpu()) {
            (Some(a), Some(b)) => format!("{:.0}", (b - a) * 1e3),
            _ => "?".into(),
        };
        println!(
            "rust_rebuild_100k_ms={:.0} (wall, 2 threads; process CPU {cpu} ms; marks={})",
            build.as_secs_f64() * 1e3,
            rs.len()
        );
        let (r, flagged) = rate(&m, &ls);
        println!(
            "rust_listings_per_sec_100k={r:.0} (per CPU-second, one thread) flagged={flagged}"
        );
    }
    Ok(())
}
