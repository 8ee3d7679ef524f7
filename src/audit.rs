//! `audit verify`, `enforcement tick` and `cases list`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use shopshield_app::{App, AuditError, audit_log};

use crate::{classify, operator};

/// Verifies the enforcement log of the store in `data` without opening the
/// application (which refuses a tampered log). Exit 0 and a summary when
/// intact; exit 1 naming the first bad entry.
pub fn verify(data: &Path, url: Option<&str>) -> Result<ExitCode> {
    let store = crate::store::open_existing(data, url)?;
    match audit_log(store.as_ref()) {
        Ok(report) => {
            println!("{}", serde_json::to_string(&report)?);
            let anchor = match &report.anchor {
                Some(a) if a.seq == report.head.seq && a.hash == report.head.hash => {
                    "matches the anchor"
                }
                Some(_) => "does not match the anchor",
                None => "no anchor yet (empty log)",
            };
            eprintln!(
                "enforcement log intact: {} entries, head {} ({}), {anchor}",
                report.entries,
                report.head.seq,
                report.head.hash.get(..16).unwrap_or(&report.head.hash),
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(AuditError::Store(e)) => Err(e.into()),
        Err(e) => {
            let seq = e.seq().unwrap_or(0);
            eprintln!("enforcement log TAMPERED: first bad entry is seq {seq}: {e}");
            Ok(ExitCode::from(1))
        }
    }
}

/// Applies the expiries and penalty ends due now.
pub fn tick(app: &App) -> Result<ExitCode> {
    let out = app.review().tick(&operator()).map_err(classify)?;
    println!(
        "{}",
        serde_json::json!({ "appended": out.entries.len(), "at": app.now() })
    );
    Ok(ExitCode::SUCCESS)
}

/// Prints the open cases, queue by queue.
pub fn list_cases(app: &App) -> Result<ExitCode> {
    let p = operator();
    for q in app.review().queues(&p).map_err(classify)? {
        for c in app.review().queue(&p, &q.queue).map_err(classify)? {
            println!("{}", serde_json::to_string(&c)?);
        }
    }
    Ok(ExitCode::SUCCESS)
}
