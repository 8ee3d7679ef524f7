//! Prints `normalize(line)` for every line of standard input: used by
//! `bench/text/gen_lexicons.py` to store the lexicons normalised, exactly as
//! listing tokens are.

use std::io::{BufRead, Write};

fn main() -> std::io::Result<()> {
    let stdin = std::io::stdin();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for line in stdin.lock().lines() {
        let line = line?;
        writeln!(out, "{}", shopshield_text::normalize(line.trim()).text())?;
    }
    out.flush()
}
