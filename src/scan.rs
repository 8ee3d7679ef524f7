//! `shopshield scan`: listings JSONL in, decisions JSONL out.

use std::io::{BufRead, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use shopshield_app::{App, Principal};
use shopshield_intake::{ImageBase, JsonlReader};
use shopshield_model::Listing;

/// Listings screened and committed together. A decision is written out only
/// after its batch is committed, so output never runs ahead of the store.
const BATCH: usize = 512;

pub fn run(app: &App, input: &str, out: Option<&Path>) -> Result<ExitCode> {
    let reader: Box<dyn BufRead> = if input == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let f = std::fs::File::open(input).with_context(|| format!("cannot open {input}"))?;
        Box::new(std::io::BufReader::with_capacity(1 << 20, f))
    };
    let label = if input == "-" { "<stdin>" } else { input };
    // Image paths in the listings are relative to the listings file (to
    // the working directory for standard input).
    let base = match Path::new(input).parent() {
        Some(p) if input != "-" && !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    // A file is written under a temporary name and renamed when complete, so
    // an interrupted scan never leaves a half-written file; the decisions
    // themselves are in the store, and scanning again returns them.
    let tmp = out.map(|p| p.with_extension("partial"));
    let mut sink: Box<dyn Write> = match &tmp {
        Some(t) => Box::new(BufWriter::new(
            std::fs::File::create(t).with_context(|| format!("cannot create {}", t.display()))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    let bar = ProgressBar::new_spinner();
    bar.set_style(ProgressStyle::with_template(
        "{spinner} {pos} listings screened ({per_sec}) {msg}",
    )?);
    let principal = Principal::operator("cli scan");
    let mut bad = 0usize;
    let mut counts = [0usize; 3];
    let mut batch: Vec<(usize, Listing)> = Vec::with_capacity(BATCH);
    let mut flush = |batch: &mut Vec<(usize, Listing)>,
                     sink: &mut Box<dyn Write>,
                     bad: &mut usize|
     -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let (numbers, listings): (Vec<usize>, Vec<Listing>) = batch.drain(..).unzip();
        let results = app
            .screening()
            .submit_batch(&principal, listings, ImageBase::Dir(base))
            .map_err(crate::classify)?;
        for (n, r) in numbers.into_iter().zip(results) {
            match r {
                Ok(s) => {
                    counts[s.decision.action as usize] += 1;
                    serde_json::to_writer(&mut *sink, &s.decision)?;
                    sink.write_all(b"\n")?;
                }
                Err(e) => {
                    *bad += 1;
                    bar.suspend(|| eprintln!("{label}:{n}: {e}"));
                }
            }
            bar.inc(1);
        }
        sink.flush()?;
        Ok(())
    };
    for line in JsonlReader::<_, Listing>::new(reader) {
        match line.value {
            Ok(l) => {
                batch.push((line.number, l));
                if batch.len() >= BATCH {
                    flush(&mut batch, &mut sink, &mut bad)?;
                }
            }
            Err(shopshield_intake::IntakeError::Io(e)) => {
                flush(&mut batch, &mut sink, &mut bad)?;
                anyhow::bail!("reading {label} failed at line {}: {e}", line.number);
            }
            Err(e) => {
                bad += 1;
                bar.suspend(|| eprintln!("{label}:{}: {e}", line.number));
            }
        }
    }
    flush(&mut batch, &mut sink, &mut bad)?;
    drop(sink);
    bar.finish_and_clear();
    if let (Some(tmp), Some(out)) = (&tmp, out) {
        std::fs::rename(tmp, out)
            .with_context(|| format!("cannot rename {} to {}", tmp.display(), out.display()))?;
    }
    eprintln!(
        "screened {} listings: {} approved, {} to review, {} rejected; {bad} bad line(s)",
        counts.iter().sum::<usize>(),
        counts[0],
        counts[1],
        counts[2]
    );
    if bad > 0 {
        eprintln!("error: {bad} line(s) could not be screened (see above)");
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}
