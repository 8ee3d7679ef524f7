//! The bounded load client, shared by the load test (`tests/load.rs`) and
//! the command-line client (`examples/load.rs`): a fixed number of
//! concurrent keep-alive connections, each sending requests back to back
//! until a request count or a time limit is reached (whichever first).
//! Every answer is counted by status, so 5xx answers are seen.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What each request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// `GET /healthz`.
    Healthz,
    /// `GET /v1/categories`: an authenticated read.
    Read,
    /// `POST /v1/listings`: a new listing screened and stored each time.
    Listings,
}

impl Workload {
    pub fn parse(s: &str) -> Option<Workload> {
        match s {
            "healthz" => Some(Workload::Healthz),
            "read" => Some(Workload::Read),
            "listings" => Some(Workload::Listings),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Workload::Healthz => "healthz",
            Workload::Read => "read",
            Workload::Listings => "listings",
        }
    }
}

/// One run's bounds.
#[derive(Debug, Clone)]
pub struct Plan {
    pub base: String,
    pub key: String,
    pub workload: Workload,
    pub concurrency: usize,
    pub requests: u64,
    pub duration: Duration,
}

/// What a run measured.
#[derive(Debug, Clone)]
pub struct Report {
    pub workload: Workload,
    pub concurrency: usize,
    pub answered: usize,
    pub seconds: f64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub statuses: BTreeMap<u16, u64>,
    pub server_errors: u64,
    pub transport_errors: u64,
}

impl Report {
    pub fn to_json(&self) -> serde_json::Value {
        let r2 = |x: f64| (x * 100.0).round() / 100.0;
        serde_json::json!({
            "workload": self.workload.name(),
            "concurrency": self.concurrency,
            "answered": self.answered,
            "seconds": r2(self.seconds),
            "per_second": (self.per_second * 10.0).round() / 10.0,
            "p50_ms": r2(self.p50_ms),
            "p99_ms": r2(self.p99_ms),
            "max_ms": r2(self.max_ms),
            "statuses": self.statuses,
            "server_errors": self.server_errors,
            "transport_errors": self.transport_errors,
        })
    }
}

/// Only loopback servers are loaded.
pub fn is_loopback(base: &str) -> bool {
    let host = base
        .trim_start_matches("http://")
        .split([':', '/'])
        .next()
        .unwrap_or_default();
    host == "localhost" || host.starts_with("127.") || host == "[::1]"
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

/// Runs the plan to its end and reports.
pub async fn run(plan: Plan) -> Result<Report, String> {
    if !is_loopback(&plan.base) {
        return Err("the load client only targets loopback addresses".into());
    }
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(plan.concurrency)
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())?;
    let plan = Arc::new(plan);
    let issued = Arc::new(AtomicU64::new(0));
    let run_id = format!("{}-{}", std::process::id(), rand::random::<u32>());
    let start = Instant::now();
    let deadline = start + plan.duration;
    let mut tasks = Vec::new();
    for _ in 0..plan.concurrency {
        let (plan, client, issued, run_id) =
            (plan.clone(), client.clone(), issued.clone(), run_id.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
            let mut errors = 0u64;
            loop {
                let n = issued.fetch_add(1, Ordering::Relaxed);
                if n >= plan.requests || Instant::now() >= deadline {
                    break;
                }
                let req = match plan.workload {
                    Workload::Healthz => client.get(format!("{}/healthz", plan.base)),
                    Workload::Read => client
                        .get(format!("{}/v1/categories", plan.base))
                        .bearer_auth(&plan.key),
                    Workload::Listings => {
                        let body = serde_json::json!({
                            "id": format!("load-{run_id}-{n}"),
                            "shop_id": format!("shop-{}", n % 97),
                            "region": "US",
                            "category": "apparel/shoes",
                            "title": TITLES[(n % 8) as usize],
                            "price": {"amount": 10.0 + (n % 90) as f64, "currency": "USD"},
                        });
                        client
                            .post(format!("{}/v1/listings", plan.base))
                            .bearer_auth(&plan.key)
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
    let mut transport_errors = 0;
    for t in tasks {
        let (l, s, e) = t.await.map_err(|e| format!("a client task failed: {e}"))?;
        lat.extend(l);
        for (k, v) in s {
            *statuses.entry(k).or_default() += v;
        }
        transport_errors += e;
    }
    let seconds = start.elapsed().as_secs_f64();
    lat.sort();
    let pct = |p: f64| -> f64 {
        if lat.is_empty() {
            return 0.0;
        }
        let i = ((lat.len() as f64 - 1.0) * p).round() as usize;
        lat[i].as_secs_f64() * 1000.0
    };
    let server_errors = statuses
        .iter()
        .filter(|(s, _)| **s >= 500)
        .map(|(_, n)| n)
        .sum();
    Ok(Report {
        workload: plan.workload,
        concurrency: plan.concurrency,
        answered: lat.len(),
        seconds,
        per_second: lat.len() as f64 / seconds,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        max_ms: pct(1.0),
        statuses,
        server_errors,
        transport_errors,
    })
}
