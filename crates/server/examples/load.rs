//! A bounded load client for a running server: a fixed number of
//! concurrent keep-alive connections, each sending requests back to back,
//! until a request count or a time limit is reached (whichever first).
//! Prints throughput and latency percentiles as JSON, and counts every
//! answer by status, so 5xx answers are seen.
//!
//! ```sh
//! cargo run --release -p shopshield-server --example load -- \
//!     --base http://127.0.0.1:8080 --key KEY --workload listings \
//!     --concurrency 16 --requests 20000 --seconds 30
//! ```
//!
//! Workloads: `healthz` (GET /healthz), `read` (GET /v1/categories, an
//! authenticated read), `listings` (POST /v1/listings, each a new listing
//! screened and stored). Only ever point it at your own server.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

struct Args {
    base: String,
    key: String,
    workload: String,
    concurrency: usize,
    requests: u64,
    seconds: u64,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        base: "http://127.0.0.1:8080".into(),
        key: String::new(),
        workload: "listings".into(),
        concurrency: 16,
        requests: 10_000,
        seconds: 30,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--base" => a.base = value()?,
            "--key" => a.key = value()?,
            "--workload" => a.workload = value()?,
            "--concurrency" => a.concurrency = value()?.parse().map_err(|e| format!("{e}"))?,
            "--requests" => a.requests = value()?.parse().map_err(|e| format!("{e}"))?,
            "--seconds" => a.seconds = value()?.parse().map_err(|e| format!("{e}"))?,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if !["healthz", "read", "listings"].contains(&a.workload.as_str()) {
        return Err("--workload is healthz, read or listings".into());
    }
    if !(1..=1024).contains(&a.concurrency) || a.seconds == 0 || a.seconds > 600 {
        return Err("--concurrency 1..=1024, --seconds 1..=600".into());
    }
    let host = a
        .base
        .trim_start_matches("http://")
        .split([':', '/'])
        .next()
        .unwrap_or_default();
    if !(host == "localhost" || host.starts_with("127.") || host == "[::1]") {
        return Err("the load client only targets loopback addresses".into());
    }
    Ok(a)
}

const TITLES: [&str; 8] = [
    "Running shoes, breathable mesh",
    "Nike Air Max 90 sneakers",
    "Cotton t-shirt, plain white",
    "Leather handbag with gold buckle",
    "Adidas Ultraboost replica cheap",
    "Wireless earbuds with charging case",
    "Stainless steel water bottle 1l",
    "Vintage denim jacket, size M",
];

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let a = match args() {
        Ok(a) => Arc::new(a),
        Err(e) => {
            eprintln!("load: {e}");
            std::process::exit(2);
        }
    };
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(a.concurrency)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap_or_else(|e| {
            eprintln!("load: {e}");
            std::process::exit(2);
        });
    let issued = Arc::new(AtomicU64::new(0));
    let run_id = std::process::id();
    let start = Instant::now();
    let deadline = start + Duration::from_secs(a.seconds);
    let mut tasks = Vec::new();
    for _ in 0..a.concurrency {
        let (a, client, issued) = (a.clone(), client.clone(), issued.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
            let mut errors = 0u64;
            loop {
                let n = issued.fetch_add(1, Ordering::Relaxed);
                if n >= a.requests || Instant::now() >= deadline {
                    break;
                }
                let req = match a.workload.as_str() {
                    "healthz" => client.get(format!("{}/healthz", a.base)),
                    "read" => client
                        .get(format!("{}/v1/categories", a.base))
                        .bearer_auth(&a.key),
                    _ => {
                        let body = serde_json::json!({
                            "id": format!("load-{run_id}-{n}"),
                            "shop_id": format!("shop-{}", n % 97),
                            "region": "US",
                            "category": "apparel/shoes",
                            "title": TITLES[(n % 8) as usize],
                            "price": {"amount": 10.0 + (n % 90) as f64, "currency": "USD"},
                        });
                        client
                            .post(format!("{}/v1/listings", a.base))
                            .bearer_auth(&a.key)
                            .json(&body)
                    }
                };
                let t = Instant::now();
                match req.send().await {
                    Ok(r) => {
                        let s = r.status().as_u16();
                        let _ = r.bytes().await;
                        lat.push(t.elapsed());
                        *statuses.entry(s).or_default() += 1;
                    }
                    Err(_) => errors += 1,
                }
            }
            (lat, statuses, errors)
        }));
    }
    let mut lat = Vec::new();
    let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
    let mut errors = 0;
    for t in tasks {
        if let Ok((l, s, e)) = t.await {
            lat.extend(l);
            for (k, v) in s {
                *statuses.entry(k).or_default() += v;
            }
            errors += e;
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    lat.sort();
    let pct = |p: f64| -> f64 {
        if lat.is_empty() {
            return 0.0;
        }
        let i = ((lat.len() as f64 - 1.0) * p).round() as usize;
        lat[i].as_secs_f64() * 1000.0
    };
    let server_errors: u64 = statuses
        .iter()
        .filter(|(s, _)| **s >= 500)
        .map(|(_, n)| n)
        .sum();
    let report = serde_json::json!({
        "workload": a.workload,
        "concurrency": a.concurrency,
        "answered": lat.len(),
        "seconds": (elapsed * 100.0).round() / 100.0,
        "per_second": ((lat.len() as f64 / elapsed) * 10.0).round() / 10.0,
        "p50_ms": (pct(0.50) * 100.0).round() / 100.0,
        "p99_ms": (pct(0.99) * 100.0).round() / 100.0,
        "max_ms": (pct(1.0) * 100.0).round() / 100.0,
        "statuses": statuses,
        "server_errors": server_errors,
        "transport_errors": errors,
    });
    println!("{report}");
    if server_errors > 0 || errors > 0 {
        std::process::exit(1);
    }
}
