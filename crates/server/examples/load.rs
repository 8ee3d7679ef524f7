//! A bounded load client for a running server (the same client the load
//! test runs; see `tests/common/load.rs`). Prints throughput and latency
//! percentiles as one JSON line, and counts every answer by status, so
//! 5xx answers are seen; exits 1 when there were any.
//!
//! ```sh
//! cargo run --release -p shopshield-server --example load -- \
//!     --base http://127.0.0.1:8080 --key KEY --workload listings \
//!     --concurrency 16 --requests 20000 --seconds 30
//! ```
//!
//! Workloads: `healthz` (GET /healthz), `read` (GET /v1/categories, an
//! authenticated read), `listings` (POST /v1/listings, each a new listing
//! screened and stored). Only loopback addresses are accepted.

#[path = "../tests/common/load.rs"]
mod load;

use std::time::Duration;

use load::{Plan, Workload};

fn args() -> Result<Plan, String> {
    let mut p = Plan {
        base: "http://127.0.0.1:8080".into(),
        key: String::new(),
        workload: Workload::Listings,
        concurrency: 16,
        requests: 10_000,
        duration: Duration::from_secs(30),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--base" => p.base = value()?,
            "--key" => p.key = value()?,
            "--workload" => {
                let w = value()?;
                p.workload = Workload::parse(&w)
                    .ok_or_else(|| format!("--workload: {w:?} is not healthz, read or listings"))?;
            }
            "--concurrency" => {
                p.concurrency = value()?
                    .parse()
                    .map_err(|e| format!("--concurrency: {e}"))?
            }
            "--requests" => {
                p.requests = value()?.parse().map_err(|e| format!("--requests: {e}"))?
            }
            "--seconds" => {
                let s: u64 = value()?.parse().map_err(|e| format!("--seconds: {e}"))?;
                p.duration = Duration::from_secs(s);
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if !(1..=1024).contains(&p.concurrency) {
        return Err("--concurrency: must be 1..=1024".into());
    }
    if p.duration.is_zero() || p.duration > Duration::from_secs(600) {
        return Err("--seconds: must be 1..=600".into());
    }
    if !load::is_loopback(&p.base) {
        return Err("--base: the load client only targets loopback addresses".into());
    }
    Ok(p)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let plan = match args() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("load: {e}");
            std::process::exit(2);
        }
    };
    match load::run(plan).await {
        Ok(report) => {
            println!("{}", report.to_json());
            if report.server_errors > 0 || report.transport_errors > 0 {
                std::process::exit(1);
            }
        }
        Err(e) => {
            eprintln!("load: {e}");
            std::process::exit(2);
        }
    }
}
