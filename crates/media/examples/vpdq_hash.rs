//! Prints a video's vPDQ hash in Meta's line format (`frameNumber,quality,pdqHex,timestamp`).
//!
//! `cargo run --release -p shopshield-media --example vpdq_hash -- FILE [SECONDS_PER_HASH]`
//!
//! Used by `bench/video/compare.sh` to compare with Meta's vpdq; the product's command is
//! `shopshield video hash FILE`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use shopshield_media::{VideoConfig, hash_video};
use shopshield_vpdq::format_hash_list;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first().map(PathBuf::from) else {
        eprintln!("usage: vpdq_hash FILE [SECONDS_PER_HASH]");
        return ExitCode::from(2);
    };
    let mut config = VideoConfig::default();
    if let Some(s) = args.get(1) {
        match s.parse::<f64>() {
            Ok(v) => config.seconds_per_hash = v,
            Err(_) => {
                eprintln!("SECONDS_PER_HASH must be a number, got {s:?}");
                return ExitCode::from(2);
            }
        }
    }
    match hash_video(&path, &config) {
        Ok(v) => {
            let mut out = std::io::stdout().lock();
            if out
                .write_all(format_hash_list(&v.frames).as_bytes())
                .is_err()
            {
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{}: {e}", path.display());
            ExitCode::FAILURE
        }
    }
}
