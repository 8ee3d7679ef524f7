//! Feature extraction cost on given photos, for the side-by-side run with OpenCV's ORB
//! (`bench/images/orb_peer.sh`). For each image: decode once, then extract the listing-photo
//! features (grey conversion, resampling to 1,024 px, 8-level pyramid, FAST, orientation,
//! descriptors: everything `query_features` does) `--runs` times on one thread, and print one
//! tab-separated line: path, width, height, keypoints, median CPU ms, minimum CPU ms.
//!
//! CPU time is the thread's own, read from `/proc/thread-self/schedstat`, so a busy machine
//! slows the run down without changing the figure much.

use std::process::ExitCode;

use shopshield_keypoints::query_features;
use shopshield_pdq::{DecodeOptions, decode};

fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn main() -> ExitCode {
    let mut runs = 30usize;
    let mut paths = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--runs" {
            match args.next().and_then(|v| v.parse().ok()) {
                Some(n) if n > 0 => runs = n,
                _ => {
                    eprintln!("--runs needs a positive number");
                    return ExitCode::from(2);
                }
            }
        } else {
            paths.push(a);
        }
    }
    if paths.is_empty() {
        eprintln!("usage: extract_peer [--runs N] IMAGE...");
        return ExitCode::from(2);
    }
    for path in paths {
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("{path}: {e}");
                return ExitCode::from(2);
            }
        };
        let img = match decode(&bytes, &DecodeOptions::default()) {
            Ok(i) => i,
            Err(e) => {
                eprintln!("{path}: {e}");
                return ExitCode::from(2);
            }
        };
        let mut times = Vec::with_capacity(runs);
        let mut keypoints = 0;
        for _ in 0..runs {
            let t0 = thread_cpu_ns();
            let q = query_features(&img.rgb, img.width, img.height);
            let t1 = thread_cpu_ns();
            match (q, t0, t1) {
                (Ok(q), Some(a), Some(b)) => {
                    keypoints = q.features.keypoints.len();
                    times.push((b - a) as f64 / 1e6);
                }
                (Err(e), _, _) => {
                    eprintln!("{path}: {e}");
                    return ExitCode::from(2);
                }
                _ => {
                    eprintln!("no /proc/thread-self/schedstat: cannot read CPU time");
                    return ExitCode::from(2);
                }
            }
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{path}\t{}\t{}\t{keypoints}\t{:.2}\t{:.2}",
            img.width,
            img.height,
            times[times.len() / 2],
            times[0]
        );
    }
    ExitCode::SUCCESS
}
