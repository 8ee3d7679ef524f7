//! `shopshield sweep`: run the sweeps due now.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use shopshield_app::App;

use crate::{classify, operator};

pub fn run(app: &App, out: Option<&Path>) -> Result<ExitCode> {
    // The output file is created first: a path that cannot be written
    // fails before anything is taken down.
    let mut file = match out {
        Some(p) => Some(std::io::BufWriter::new(
            crate::store::private_file(p)
                .with_context(|| format!("cannot create {}", p.display()))?,
        )),
        None => None,
    };
    let report = app.sweeps().run_now(&operator(), None).map_err(classify)?;
    if let Some(f) = file.as_mut() {
        for d in &report.decisions {
            serde_json::to_writer(&mut *f, d)?;
            f.write_all(b"\n")?;
        }
        f.flush()?;
    }
    for s in &report.sweeps {
        eprintln!(
            "sweep {}: {} ({}): looked at {}, rescreened {}, taken down {}, to review {}, cases closed {}, restored {}",
            s.id,
            s.cause.change,
            s.cause.version,
            s.counts.looked_at,
            s.counts.rescreened,
            s.counts.taken_down,
            s.counts.to_review,
            s.counts.cases_closed,
            s.counts.restored
        );
    }
    let c = report.counts;
    println!(
        "looked at {}, rescreened {}, taken down {}",
        c.looked_at, c.rescreened, c.taken_down
    );
    if c.to_review + c.cases_closed + c.restored > 0 {
        println!(
            "to review {}, cases closed {}, restored {}",
            c.to_review, c.cases_closed, c.restored
        );
    }
    Ok(ExitCode::SUCCESS)
}
