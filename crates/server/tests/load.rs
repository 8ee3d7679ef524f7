//! The load test: the bounded load client (`common/load.rs`, also
//! `examples/load.rs`) against a real server on a real SQLite file, with
//! `/healthz` probed on fresh connections throughout. It fails on any 5xx
//! or transport error, and when `/healthz` ever takes 100 ms or more.
//!
//! Bounded: `SHOPSHIELD_LOAD_SECONDS` per workload (default 4). The
//! figures are printed as JSON lines (run with `--nocapture` to see them);
//! `bench/load/run.sh` measures a release build the same way.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::Server;
use common::load::{self, Plan, Workload};
use shopshield_model::Role;

fn seconds() -> Duration {
    let s = std::env::var("SHOPSHIELD_LOAD_SECONDS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(4.0);
    Duration::from_secs_f64(s.clamp(0.5, 600.0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_with_healthz_answering_throughout() {
    let dir = tempfile::tempdir().unwrap();
    let srv = Server::start(&dir.path().join("shopshield.db")).await;
    let key = srv.key(Role::Service, None);

    // /healthz on a new connection every 50 ms, for the whole run, from a
    // thread of its own (not a task among the load client's, whose turns
    // on the runtime would count against the server).
    let done = Arc::new(AtomicBool::new(false));
    let probe = {
        let (addr, done) = (
            srv.base.trim_start_matches("http://").to_string(),
            done.clone(),
        );
        std::thread::spawn(move || {
            use std::io::{Read, Write};
            let mut worst = Duration::ZERO;
            let mut probes = 0u32;
            while !done.load(Ordering::Relaxed) {
                let t = Instant::now();
                let mut s = std::net::TcpStream::connect(&addr).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    .unwrap();
                let mut answer = String::new();
                let _ = s.read_to_string(&mut answer);
                let took = t.elapsed();
                assert!(
                    answer.starts_with("HTTP/1.1 200"),
                    "/healthz failed under load: {answer}"
                );
                worst = worst.max(took);
                probes += 1;
                std::thread::sleep(Duration::from_millis(50));
            }
            (worst, probes)
        })
    };

    let mut reports = Vec::new();
    for (workload, concurrency) in [(Workload::Listings, 16), (Workload::Read, 16)] {
        let report = load::run(Plan {
            base: srv.base.clone(),
            key: key.clone(),
            workload,
            concurrency,
            requests: 10_000_000,
            duration: seconds(),
        })
        .await
        .unwrap();
        println!("{}", report.to_json());
        reports.push(report);
    }
    done.store(true, Ordering::Relaxed);
    let (worst, probes) = probe.join().unwrap();
    println!(
        "{{\"healthz_probes\":{probes},\"healthz_worst_ms\":{}}}",
        worst.as_millis()
    );

    for r in &reports {
        assert!(r.answered > 0, "{}", r.to_json());
        assert_eq!(r.server_errors, 0, "{}", r.to_json());
        assert_eq!(r.transport_errors, 0, "{}", r.to_json());
        let ok: u64 = r
            .statuses
            .iter()
            .filter(|(s, _)| (200..300).contains(*s))
            .map(|(_, n)| n)
            .sum();
        assert_eq!(ok as usize, r.answered, "{}", r.to_json());
    }
    // Every listing submitted was stored.
    let listings = reports[0].answered;
    assert!(probes > 10, "only {probes} /healthz probes ran");
    assert!(
        worst < Duration::from_millis(100),
        "/healthz took {worst:?} under load ({listings} listings screened)"
    );
    srv.stop().await;
}
