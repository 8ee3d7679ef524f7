//! Feature extraction cost on given photos, for the side-by-side run with OpenCV's ORB
//! (`bench/images/orb_peer.sh`). For each image: decode once, then extract the listing-photo
//! features (grey conversion, resampling to 1,024 px, 8-level pyramid, FAST, orientation,
//! descriptors: everything `query_features` does) `--runs` times on one thread, and print one
//! tab-separated line: path, width, height, keypoints, mean CPU ms (total over the runs
//! divided by the runs: the kernel may account CPU time in whole scheduler ticks).
//!
//! CPU time is the thread's own, read from `/proc/thread-self/schedstat`, so a busy machine
//! slows the run down without changing the figure much.

use std::process::ExitCode;

use shopshield_keypoints::query_features;
use shopshield_pdq::{DecodeOptions, decode};

#[path = "../benches/support/cpu.rs"]
mod cpu;
use cpu::thread_cpu_ns;

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
        let mut keypoints = 0;
        let Some(t0) = thread_cpu_ns() else {
            eprintln!("no /proc/thread-self/schedstat: cannot read CPU time");
            return ExitCode::from(2);
        };
        for _ in 0..runs {
            match query_features(&img.rgb, img.width, img.height) {
                Ok(q) => keypoints = q.features.keypoints.len(),
                Err(e) => {
                    eprintln!("{path}: {e}");
                    return ExitCode::from(2);
                }
            }
        }
        let mean = thread_cpu_ns().map_or(0.0, |t1| (t1 - t0) as f64 / 1e6 / runs as f64);
        println!(
            "{path}\t{}\t{}\t{keypoints}\t{mean:.2}",
            img.width, img.height
        );
    }
    ExitCode::SUCCESS
}
