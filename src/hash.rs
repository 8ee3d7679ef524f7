//! `shopshield hash FILE...`: PDQ hashes of image files.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use shopshield_pdq::{DecodeOptions, Hasher, hash_image_bytes};

pub fn run(files: &[PathBuf]) -> Result<ExitCode> {
    let opts = DecodeOptions::default();
    let mut hasher = Hasher::new();
    let mut bad = 0;
    for f in files {
        let hashed = std::fs::read(f)
            .map_err(|e| e.to_string())
            .and_then(|bytes| {
                hash_image_bytes(&bytes, &opts, &mut hasher).map_err(|e| e.to_string())
            });
        match hashed {
            Ok(h) => println!("{},{},{}", h.hashes[0].to_hex(), h.quality, f.display()),
            Err(e) => {
                bad += 1;
                eprintln!("{}: {e}", f.display());
            }
        }
    }
    if bad > 0 {
        eprintln!("error: {bad} file(s) could not be hashed");
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}
