//! `shopshield report`: the transparency report, and `report sor`: DSA
//! statements of reasons in batches for the Transparency Database.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use shopshield_app::report::{render, sor};
use shopshield_app::{App, ReportQuery};

use crate::{BadInput, classify, operator};

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Json,
    Md,
    Html,
}

/// Writes `bytes` to `out` (atomically: a temporary file renamed into
/// place, so a failure leaves nothing half-written) or to standard output.
fn write_out(out: Option<&Path>, bytes: &[u8]) -> Result<()> {
    match out {
        None => {
            std::io::stdout().write_all(bytes)?;
            Ok(())
        }
        Some(path) if crate::store::is_special_file(path) => {
            // A device or pipe: renaming a file over it would replace it.
            crate::store::open_special(path)
                .and_then(|mut f| f.write_all(bytes))
                .with_context(|| format!("cannot write {}", path.display()))?;
            Ok(())
        }
        Some(path) => {
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let name = path
                .file_name()
                .ok_or_else(|| BadInput(format!("--out: {} is not a file name", path.display())))?;
            let tmp = dir.join(format!(".{}.tmp", name.to_string_lossy()));
            crate::store::private_file(&tmp)
                .and_then(|mut f| f.write_all(bytes))
                .with_context(|| format!("cannot write {}", tmp.display()))?;
            std::fs::rename(&tmp, path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            Ok(())
        }
    }
}

fn query(from: Option<&str>, to: Option<&str>, region: Option<&str>) -> Result<ReportQuery> {
    let from = from.ok_or_else(|| BadInput("--from: is required (YYYY-MM-DD)".into()))?;
    let to = to.ok_or_else(|| BadInput("--to: is required (YYYY-MM-DD)".into()))?;
    Ok(ReportQuery {
        from: from.to_string(),
        to: to.to_string(),
        region: region.map(str::to_string),
    })
}

/// `shopshield report`.
pub fn transparency(
    app: &App,
    from: Option<&str>,
    to: Option<&str>,
    region: Option<&str>,
    format: Format,
    out: Option<&Path>,
) -> Result<ExitCode> {
    let q = query(from, to, region)?;
    let r = app
        .reports()
        .transparency(&operator(), &q)
        .map_err(|e| flag(classify(e)))?;
    let text = match format {
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&r)?;
            s.push('\n');
            s
        }
        Format::Md => render::markdown(&r),
        Format::Html => render::html(&r),
    };
    write_out(out, text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// `shopshield report sor`: one JSON line per batch of at most 100
/// statements, each line the body of one call of the Transparency
/// Database's multiple-statements endpoint (`{"statements": [...]}`).
pub fn statements(app: &App, from: Option<&str>, to: Option<&str>, out: &Path) -> Result<ExitCode> {
    let q = query(from, to, None)?;
    let all = app
        .reports()
        .statements(&operator(), &q)
        .map_err(|e| flag(classify(e)))?;
    let mut text = String::new();
    for b in sor::batches(&all) {
        text.push_str(&serde_json::to_string(&b)?);
        text.push('\n');
    }
    write_out(Some(out), text.as_bytes())?;
    eprintln!(
        "wrote {} statements of reasons in {} batches to {}",
        all.len(),
        all.len().div_ceil(sor::rules::MAX_BATCH),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Names the flag a field error is about (`from` → `--from`).
fn flag(e: anyhow::Error) -> anyhow::Error {
    match e.downcast::<BadInput>() {
        Ok(b) => {
            let m = b.0;
            let m = ["from", "to", "region"]
                .iter()
                .find(|f| m.starts_with(&format!("{f}:")))
                .map_or(m.clone(), |_| format!("--{m}"));
            BadInput(m).into()
        }
        Err(e) => e,
    }
}
