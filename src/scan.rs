//! `shopshield scan`: listings JSONL in, decisions JSONL out.
//!
//! Locally, two stages run at once: while one batch commits (one fsynced
//! transaction) and its decisions are written out, the next batch is read
//! and screened on every core. With `--nats`, the listings are published
//! to the JetStream work queue instead, and the decisions are written out
//! in input order as the workers commit them.

use std::io::{BufRead, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::mpsc;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use shopshield_app::{App, Principal, ScreenedBatch};
use shopshield_intake::{ImageBase, JsonlReader};
use shopshield_model::Listing;
use shopshield_queue::{Outcome, QueueError, QueueName, ScanRun};

/// Listings screened and committed together. A decision is written out only
/// after its batch is committed, so output never runs ahead of the store.
/// Larger batches touch each page of the sweep index's term tree once for
/// more of their entries: 4,096 cut the commit's cost by a fifth against
/// 1,024 (`bench/scan/run.sh`).
const BATCH: usize = 4096;

/// Listings handed to the queue side at a time (it packs them into
/// messages of its own size).
const QUEUE_CHUNK: usize = 1024;

/// What the committing stage counts.
#[derive(Default)]
struct Tally {
    bad: usize,
    actions: [usize; 3],
}

/// Which image files a local scan may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageAccess {
    /// Only under the listings file's directory (the default).
    ListingsDir,
    /// Only under this directory (`--image-root`).
    Under(std::path::PathBuf),
    /// Anywhere (`--allow-images-anywhere`).
    Anywhere,
}

/// Where the screening happens.
pub enum Via<'a> {
    /// In this process, on the store it opened, reading images as allowed.
    Local(&'a App, ImageAccess),
    /// In the workers of a NATS JetStream queue (which read images only
    /// under the listings file's directory).
    Queue { nats: &'a str, queue: QueueName },
}

pub fn run(via: Via<'_>, input: &str, out: Option<&Path>) -> Result<ExitCode> {
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
    // themselves are in the store, and scanning again returns them. A device
    // or pipe (`--out /dev/null`) is written directly.
    let (tmp, sink) = open_out(out)?;
    let sink: Box<dyn Write + Send> = sink;
    let bar = ProgressBar::new_spinner();
    bar.set_style(ProgressStyle::with_template(
        "{spinner} {pos} listings screened ({per_sec}) {msg}",
    )?);
    let (read_bad, tally) = match via {
        Via::Local(app, images) => {
            let base = match &images {
                ImageAccess::ListingsDir => ImageBase::Dir(base),
                ImageAccess::Under(root) => ImageBase::Under { dir: base, root },
                ImageAccess::Anywhere => ImageBase::Anywhere(base),
            };
            local(app, reader, base, sink, &bar, label)?
        }
        Via::Queue { nats, queue } => queued(nats, queue, reader, base, sink, &bar, label)?,
    };
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

/// Screens in this process: returns the unparsable lines and the tally.
fn local(
    app: &App,
    reader: Box<dyn BufRead>,
    base: ImageBase<'_>,
    sink: Box<dyn Write + Send>,
    bar: &ProgressBar,
    label: &str,
) -> Result<(usize, Tally)> {
    let principal = Principal::operator("cli scan");
    // Three stages, each on its own thread: read and screen, commit, write out.
    let (tx, rx) = mpsc::sync_channel::<(Vec<usize>, ScreenedBatch)>(1);
    let (wtx, wrx) = mpsc::sync_channel::<(Vec<usize>, Answers)>(2);
    let (read_bad, tally) = std::thread::scope(|s| -> Result<(usize, Tally)> {
        let writer = {
            let bar = bar.clone();
            s.spawn(move || write_stage(wrx, sink, &bar, label))
        };
        let committer = {
            let principal = principal.clone();
            s.spawn(move || commit_stage(app, &principal, base, rx, wtx))
        };
        let read = read_stage(app, &principal, base, reader, tx, bar, label);
        let committed = committer
            .join()
            .map_err(|_| anyhow::anyhow!("the committing stage panicked"))?;
        let tally = writer
            .join()
            .map_err(|_| anyhow::anyhow!("the writing stage panicked"))?;
        // A stage that fails stops the stages feeding it (their sends fail), so the
        // later stage's error is the cause and is reported first.
        let tally = tally?;
        committed?;
        Ok((read?, tally))
    })?;
    Ok((read_bad, tally))
}

/// Screens through the queue: this process reads and publishes; the
/// workers screen and commit; the decisions come back on this run's
/// results subject and are written in input order.
fn queued(
    nats: &str,
    queue: QueueName,
    reader: Box<dyn BufRead>,
    dir: &Path,
    mut sink: Box<dyn Write + Send>,
    bar: &ProgressBar,
    label: &str,
) -> Result<(usize, Tally)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<(u64, Listing)>>(4);
    std::thread::scope(|s| -> Result<(usize, Tally)> {
        // The queue side runs on a thread of its own; this thread reads
        // (standard input cannot move between threads).
        let queue_side = s.spawn(move || {
            rt.block_on(async {
                let client = shopshield_queue::connect(nats, "shopshield scan")
                    .await
                    .context("--nats")?;
                let run = ScanRun::start(client, queue, Some(dir)).await?;
                let mut tally = Tally::default();
                run.run(rx, |line, outcome| {
                    match outcome {
                        Outcome::Decided { decision, .. } => {
                            tally.actions[decision.action as usize] += 1;
                            serde_json::to_writer(&mut sink, &decision)
                                .map_err(std::io::Error::from)
                                .and_then(|()| sink.write_all(b"\n"))
                                .map_err(|e| QueueError::App(format!("writing decisions: {e}")))?;
                        }
                        Outcome::Failed(e) => {
                            tally.bad += 1;
                            bar.suspend(|| eprintln!("{label}:{line}: {e}"));
                        }
                    }
                    bar.inc(1);
                    Ok(())
                })
                .await?;
                sink.flush()?;
                anyhow::Ok(tally)
            })
        });
        let read = (|| -> Result<usize> {
            let mut bad = 0;
            let mut chunk = Vec::with_capacity(QUEUE_CHUNK);
            for line in JsonlReader::<_, Listing>::new(reader) {
                match line.value {
                    Ok(l) => {
                        chunk.push((line.number as u64, l));
                        if chunk.len() >= QUEUE_CHUNK
                            && tx.blocking_send(std::mem::take(&mut chunk)).is_err()
                        {
                            // The queue side failed; its error is reported.
                            return Ok(bad);
                        }
                    }
                    Err(shopshield_intake::IntakeError::Io(e)) => {
                        anyhow::bail!("reading {label} failed at line {}: {e}", line.number);
                    }
                    Err(e) => {
                        bad += 1;
                        bar.suspend(|| eprintln!("{label}:{}: {e}", line.number));
                    }
                }
            }
            if !chunk.is_empty() {
                let _ = tx.blocking_send(chunk);
            }
            Ok(bad)
        })();
        // Closing the channel tells the queue side that input ended (also
        // when reading failed, so that it does not wait for more).
        drop(tx);
        let tally = queue_side
            .join()
            .map_err(|_| anyhow::anyhow!("the queue side panicked"))?;
        let read = read?;
        Ok((read, tally?))
    })
}

/// `scan --kind video`: one short video per line, screened and stored one
/// at a time (decoding dominates; ffmpeg uses the cores), one decision per
/// line out, in input order. Media paths are relative to the file and read
/// as `images` allows, like a listing's images.
pub fn run_videos(
    app: &App,
    images: ImageAccess,
    input: &str,
    out: Option<&Path>,
) -> Result<ExitCode> {
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
    let base = match &images {
        ImageAccess::ListingsDir => ImageBase::Dir(base),
        ImageAccess::Under(root) => ImageBase::Under { dir: base, root },
        ImageAccess::Anywhere => ImageBase::Anywhere(base),
    };
    let (tmp, mut sink) = open_out(out)?;
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

/// Commits batches in order and hands each batch's answers, in input order,
/// to the writing stage, so the committing thread (a bulk scan's busiest)
/// does not also serialise them.
fn commit_stage(
    app: &App,
    p: &Principal,
    base: ImageBase<'_>,
    rx: mpsc::Receiver<(Vec<usize>, ScreenedBatch)>,
    tx: mpsc::SyncSender<(Vec<usize>, Answers)>,
) -> Result<()> {
    for (numbers, batch) in rx {
        let results = app
            .screening()
            .commit_batch(p, batch, base)
            .map_err(crate::classify)?;
        if tx.send((numbers, results)).is_err() {
            break;
        }
    }
    Ok(())
}

/// A committed batch's answers, in input order.
type Answers = Vec<Result<shopshield_app::Submitted, shopshield_app::AppError>>;

/// Writes committed batches' decisions, and reports their refused lines, in input order.
fn write_stage(
    rx: mpsc::Receiver<(Vec<usize>, Answers)>,
    mut sink: Box<dyn Write + Send>,
    bar: &ProgressBar,
    label: &str,
) -> Result<Tally> {
    let mut tally = Tally::default();
    for (numbers, results) in rx {
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

/// Where decisions go: standard output; a device or pipe, written directly; or a file,
/// written as `NAME.partial` (returned, for the rename into place once complete).
type OutSink = (Option<std::path::PathBuf>, Box<dyn Write + Send>);

fn open_out(out: Option<&Path>) -> Result<OutSink> {
    Ok(match out {
        None => (None, Box::new(BufWriter::new(std::io::stdout()))),
        Some(p) if crate::store::is_special_file(p) => (
            None,
            Box::new(BufWriter::new(
                crate::store::open_special(p)
                    .with_context(|| format!("cannot open {}", p.display()))?,
            )),
        ),
        Some(p) if p.is_dir() => {
            return Err(crate::BadInput(format!("--out: {} is a directory", p.display())).into());
        }
        Some(p) => {
            // `NAME.partial` beside it (appended: `with_extension` would turn `run.v2` and
            // `run.v3` into the same `run.partial`).
            let mut name = p.as_os_str().to_owned();
            name.push(".partial");
            let t = std::path::PathBuf::from(name);
            let f = crate::store::private_file(&t).map_err(|e| {
                crate::BadInput(format!("--out: cannot create {}: {e}", t.display()))
            })?;
            (Some(t), Box::new(BufWriter::new(f)))
        }
    })
}
