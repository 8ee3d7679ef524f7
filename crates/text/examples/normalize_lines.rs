//! Lexicon builder for `bench/text/gen_lexicons.py`.
//!
//!     normalize_lines                 # stdin words -> stdout normalised words
//!     normalize_lines --fingerprint OUT.bin   # stdin words -> sorted fingerprints
//!
//! With `--fingerprint`, every line is normalised exactly as listing tokens
//! are (`shopshield_text::normalize`), spaces removed, and its
//! [`shopshield_text::phrases::lexicon_fingerprint`] written to `OUT.bin` as
//! sorted, de-duplicated little-endian `u32`s: the format the matcher embeds.

use std::io::{BufRead, Write};

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let stdin = std::io::stdin();
    if let Some(i) = args.iter().position(|a| a == "--fingerprint") {
        let Some(path) = args.get(i + 1) else {
            eprintln!("--fingerprint needs an output file");
            std::process::exit(2);
        };
        let mut fps: Vec<u32> = Vec::new();
        for line in stdin.lock().lines() {
            let line = line?;
            let w = shopshield_text::normalize(line.trim())
                .text()
                .replace(' ', "");
            if !w.is_empty() {
                fps.push(shopshield_text::phrases::lexicon_fingerprint(&w));
            }
        }
        fps.sort_unstable();
        fps.dedup();
        let bytes: Vec<u8> = fps.iter().flat_map(|f| f.to_le_bytes()).collect();
        std::fs::write(path, bytes)?;
        eprintln!("{path}: {} fingerprints", fps.len());
        return Ok(());
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for line in stdin.lock().lines() {
        let line = line?;
        writeln!(out, "{}", shopshield_text::normalize(line.trim()).text())?;
    }
    out.flush()
}
