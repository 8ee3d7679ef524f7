//! Lexicon builder for `bench/text/gen_lexicons.py`.
//!
//!     normalize_lines                         # stdin words -> stdout normalised words
//!     normalize_lines --fingerprint OUT.bin   # stdin `word<TAB>zipf` -> lexicon file
//!
//! With `--fingerprint`, every line is `word` or `word<TAB>zipf` (the word's
//! Zipf frequency, 0–9.9; a word without one is stored as 2.0, the
//! "ordinary word" bar). The word is normalised exactly as listing tokens
//! are (`shopshield_text::normalize`), spaces removed, and its
//! [`shopshield_text::phrases::lexicon_fingerprint`] written to `OUT.bin` in
//! the format the matcher embeds: `n` sorted, de-duplicated little-endian
//! `u32` fingerprints, then `n` bytes, each the Zipf frequency × 10 of the
//! fingerprint at the same position (the highest when words share one).

use std::io::{BufRead, Write};

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let stdin = std::io::stdin();
    if let Some(i) = args.iter().position(|a| a == "--fingerprint") {
        let Some(path) = args.get(i + 1) else {
            eprintln!("--fingerprint needs an output file");
            std::process::exit(2);
        };
        let mut entries: Vec<(u32, u8)> = Vec::new();
        for line in stdin.lock().lines() {
            let line = line?;
            let (word, zipf) = match line.split_once('\t') {
                Some((w, z)) => match z.trim().parse::<f64>() {
                    Ok(z) if (0.0..=25.5).contains(&z) => (w, (z * 10.0).round() as u8),
                    _ => {
                        eprintln!("bad Zipf frequency in line {line:?}");
                        std::process::exit(2);
                    }
                },
                None => (line.as_str(), 20),
            };
            let w = shopshield_text::normalize(word.trim())
                .text()
                .replace(' ', "");
            if !w.is_empty() {
                entries.push((shopshield_text::phrases::lexicon_fingerprint(&w), zipf));
            }
        }
        // Sorted by fingerprint, highest frequency first, then one per fingerprint.
        entries.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        entries.dedup_by_key(|e| e.0);
        let mut bytes: Vec<u8> = entries.iter().flat_map(|e| e.0.to_le_bytes()).collect();
        bytes.extend(entries.iter().map(|e| e.1));
        std::fs::write(path, bytes)?;
        eprintln!("{path}: {} fingerprints", entries.len());
        return Ok(());
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for line in stdin.lock().lines() {
        let line = line?;
        writeln!(out, "{}", shopshield_text::normalize(line.trim()).text())?;
    }
    out.flush()
}
