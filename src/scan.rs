//! `shopshield scan`: listings JSONL in, decisions JSONL out.
//!
//! Two stages run at once: while one batch commits (one fsynced
//! transaction) and its decisions are written out, the next batch is read
//! and screened on every core.

use std::io::{BufRead, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::mpsc;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use shopshield_app::{App, Principal, ScreenedBatch};
use shopshield_intake::{ImageBase, JsonlReader};
use shopshield_model::Listing;

/// Listings screened and committed together. A decision is written out only
/// after its batch is committed, so output never runs ahead of the store.
const BATCH: usize = 1024;

/// What the committing stage counts.
#[derive(Default)]
struct Tally {
    bad: usize,
    actions: [usize; 3],
}

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
    let base = ImageBase::Dir(base);
    // A file is written under a temporary name and renamed when complete, so
    // an interrupted scan never leaves a half-written file; the decisions
    // themselves are in the store, and scanning again returns them.
    let tmp = out.map(|p| p.with_extension("partial"));
    let sink: Box<dyn Write + Send> = match &tmp {
        Some(t) => Box::new(BufWriter::new(
            std::fs::File::create(t).with_context(|| format!("cannot create {}", t.display()))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout())),
    };
    let bar = ProgressBar::new_spinner();
    bar.set_style(ProgressStyle::with_template(
        "{spinner} {pos} listings screened ({per_sec}) {msg}",
    )?);
    let principal = Principal::operator("cli scan");
    let (tx, rx) = mpsc::sync_channel::<(Vec<usize>, ScreenedBatch)>(1);
    let (read_bad, tally) = std::thread::scope(|s| -> Result<(usize, Tally)> {
        let committer = {
            let (bar, principal) = (bar.clone(), principal.clone());
            s.spawn(move || commit_stage(app, &principal, base, rx, sink, &bar, label))
        };
        let read = read_stage(app, &principal, base, reader, tx, &bar, label);
        let tally = committer
            .join()
            .map_err(|_| anyhow::anyhow!("the committing stage panicked"))??;
        Ok((read?, tally))
    })?;
    bar.finish_and_clear();
    if let (Some(tmp), Some(out)) = (&tmp, out) {
        std::fs::rename(tmp, out)
            .with_context(|| format!("cannot rename {} to {}", tmp.display(), out.display()))?;
    }
    let bad = read_bad + tally.bad;
    let a = tally.actions;
    eprintln!(
        "screened {} listings: {} approved, {} to review, {} rejected; {bad} bad line(s)",
        a.iter().sum::<usize>(),
        a[0],
        a[1],
        a[2]
    );
    if bad > 0 {
        eprintln!("error: {bad} line(s) could not be screened (see above)");
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}

/// `scan --kind video`: one short video per line, screened and stored one
/// at a time (decoding dominates; ffmpeg uses the cores), one decision per
/// line out, in input order. Media paths are relative to the file.
pub fn run_videos(app: &App, input: &str, out: Option<&Path>) -> Result<ExitCode> {
    let reader: Box<dyn BufRead> = if input == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let f = std::fs::File::open(input).with_context(|| format!("cannot open {input}"))?;
        Box::new(std::io::BufReader::new(f))
    };
    let label = if input == "-" { "<stdin>" } else { input };
    let base = match Path::new(input).parent() {
        Some(p) if input != "-" && !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let base = ImageBase::Dir(base);
    let tmp = out.map(|p| p.with_extension("partial"));
    let mut sink: Box<dyn Write> = match &tmp {
        Some(t) => Box::new(BufWriter::new(
            std::fs::File::create(t).with_context(|| format!("cannot create {}", t.display()))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout())),
    };
    let principal = Principal::operator("cli scan");
    let (mut bad, mut actions) = (0usize, [0usize; 3]);
    for line in JsonlReader::<_, shopshield_model::Video>::new(reader) {
        let video = match line.value {
            Ok(v) => v,
            Err(e) => {
                bad += 1;
                eprintln!("{label}:{}: {e}", line.number);
                continue;
            }
        };
        match app.videos().submit(&principal, video, base) {
            Ok(s) => {
                actions[s.decision.action as usize] += 1;
                serde_json::to_writer(&mut sink, &s.decision)?;
                sink.write_all(b"\n")?;
            }
            Err(e) => {
                let e = crate::classify(e);
                if e.downcast_ref::<crate::BadInput>().is_none() {
                    return Err(e);
                }
                bad += 1;
                eprintln!("{label}:{}: {e}", line.number);
            }
        }
    }
    sink.flush()?;
    drop(sink);
    if let (Some(tmp), Some(out)) = (&tmp, out) {
        std::fs::rename(tmp, out)
            .with_context(|| format!("cannot rename {} to {}", tmp.display(), out.display()))?;
    }
    eprintln!(
        "screened {} videos: {} approved, {} to review, {} rejected; {bad} bad line(s)",
        actions.iter().sum::<usize>(),
        actions[0],
        actions[1],
        actions[2]
    );
    if bad > 0 {
        eprintln!("error: {bad} line(s) could not be screened (see above)");
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads and screens batches, handing each to the committing stage.
/// Returns the number of lines that could not be parsed.
fn read_stage(
    app: &App,
    p: &Principal,
    base: ImageBase<'_>,
    reader: Box<dyn BufRead>,
    tx: mpsc::SyncSender<(Vec<usize>, ScreenedBatch)>,
    bar: &ProgressBar,
    label: &str,
) -> Result<usize> {
    let mut bad = 0;
    let mut numbers = Vec::with_capacity(BATCH);
    let mut listings: Vec<Listing> = Vec::with_capacity(BATCH);
    let send = |numbers: &mut Vec<usize>, listings: &mut Vec<Listing>| -> Result<()> {
        if listings.is_empty() {
            return Ok(());
        }
        let batch = app
            .screening()
            .screen_batch(p, std::mem::take(listings), base)
            .map_err(crate::classify)?;
        // A closed channel means the committing stage failed; its error
        // is the one reported.
        let _ = tx.send((std::mem::take(numbers), batch));
        Ok(())
    };
    for line in JsonlReader::<_, Listing>::new(reader) {
        match line.value {
            Ok(l) => {
                numbers.push(line.number);
                listings.push(l);
                if listings.len() >= BATCH {
                    send(&mut numbers, &mut listings)?;
                }
            }
            Err(shopshield_intake::IntakeError::Io(e)) => {
                send(&mut numbers, &mut listings)?;
                anyhow::bail!("reading {label} failed at line {}: {e}", line.number);
            }
            Err(e) => {
                bad += 1;
                bar.suspend(|| eprintln!("{label}:{}: {e}", line.number));
            }
        }
    }
    send(&mut numbers, &mut listings)?;
    Ok(bad)
}

/// Commits batches in order and writes their decisions out.
fn commit_stage(
    app: &App,
    p: &Principal,
    base: ImageBase<'_>,
    rx: mpsc::Receiver<(Vec<usize>, ScreenedBatch)>,
    mut sink: Box<dyn Write + Send>,
    bar: &ProgressBar,
    label: &str,
) -> Result<Tally> {
    let mut tally = Tally::default();
    for (numbers, batch) in rx {
        let results = app
            .screening()
            .commit_batch(p, batch, base)
            .map_err(crate::classify)?;
        for (n, r) in numbers.into_iter().zip(results) {
            match r {
                Ok(s) => {
                    tally.actions[s.decision.action as usize] += 1;
                    serde_json::to_writer(&mut sink, &s.decision)?;
                    sink.write_all(b"\n")?;
                }
                Err(e) => {
                    tally.bad += 1;
                    bar.suspend(|| eprintln!("{label}:{n}: {e}"));
                }
            }
            bar.inc(1);
        }
        sink.flush()?;
    }
    Ok(tally)
}
