//! `shopshield notices`: file rights holders' notices in bulk, list them.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use shopshield_app::App;
use shopshield_intake::JsonlReader;
use shopshield_model::{NewNotice, NoticeItemState};

use crate::{BadInput, classify, operator, parse_choice};

/// Files one notice per line, each on its own (a line is filed whole or
/// not at all), and prints one receipt per filed notice. Bad lines are
/// reported as `FILE:LINE: field: reason`; any makes the exit code 2.
pub fn file(app: &App, path: &Path) -> Result<ExitCode> {
    let f = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut out = std::io::stdout().lock();
    let mut bad = 0usize;
    let mut filed = 0usize;
    for line in JsonlReader::<_, NewNotice>::new(std::io::BufReader::new(f)) {
        let result = match line.value {
            Ok(notice) => {
                app.notices()
                    .file(&operator(), notice)
                    .map_err(|e| match e {
                        shopshield_app::AppError::Store(_)
                        | shopshield_app::AppError::Integrity(_) => Err(classify(e)),
                        other => Ok(other.to_string()),
                    })
            }
            Err(e) => Err(Ok(e.to_string())),
        };
        match result {
            Ok((_, receipt)) => {
                serde_json::to_writer(&mut out, &receipt)?;
                out.write_all(b"\n")?;
                filed += 1;
            }
            Err(Ok(reason)) => {
                bad += 1;
                eprintln!("{}:{}: {reason}", path.display(), line.number);
            }
            Err(Err(e)) => return Err(e),
        }
    }
    out.flush()?;
    if bad > 0 {
        return Err(BadInput(format!(
            "{bad} bad line(s) in {}; {filed} notice(s) filed, the bad lines were not",
            path.display()
        ))
        .into());
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints every notice (or those with an item in `state`) as JSONL.
pub fn list(app: &App, state: Option<&str>) -> Result<ExitCode> {
    let state = parse_choice(
        "--state",
        state,
        &NoticeItemState::ALL,
        NoticeItemState::as_str,
    )?;
    let mut out = std::io::stdout().lock();
    let mut after: Option<String> = None;
    loop {
        let page = app
            .notices()
            .list(&operator(), state, after.clone(), 1_000)
            .map_err(classify)?;
        let Some(last) = page.last() else { break };
        after = Some(last.stored.notice.id.clone());
        for n in &page {
            serde_json::to_writer(&mut out, n)?;
            out.write_all(b"\n")?;
        }
        if page.len() < 1_000 {
            break;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Prints a holder's accuracy as a reporter and its standing as JSON.
pub fn standing(app: &App, holder: &str) -> Result<ExitCode> {
    let r = app
        .notices()
        .standing(&operator(), holder)
        .map_err(classify)?;
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &r)?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
