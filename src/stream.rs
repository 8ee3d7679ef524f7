//! `shopshield stream replay FILE.jsonl`: a recorded livestream replayed
//! against the engine, each action printed as JSONL with its time `t`.
//!
//! The first line may hold the stream's metadata (`creator_id`, `shop_id`,
//! `region`, `id`, `title`: a JSON object without `type`); every other
//! line is an event with `t` (seconds since the start) and `type`:
//! `transcript` (`text`, optional `end`), `frame` (`image`, a path
//! relative to the file, or `pdq`), or `product` (`listing_id`). Nothing
//! is stored or enforced. Every line is read and checked before anything
//! is printed; a bad line exits 2 naming it.

use std::io::{BufRead, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use shopshield_app::App;
use shopshield_intake::{ImageBase, parse_json};
use shopshield_model::{NewStream, StreamActionKind, StreamEvent};

use crate::BadInput;

/// Metadata used when the file has none.
fn default_meta() -> Result<NewStream> {
    Ok(serde_json::from_value(serde_json::json!({
        "id": "replay", "creator_id": "replay", "region": "US"
    }))?)
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Meta {
    #[serde(default)]
    id: Option<String>,
    creator_id: String,
    #[serde(default)]
    shop_id: Option<String>,
    region: shopshield_model::Region,
    #[serde(default)]
    title: Option<String>,
}

pub fn replay(app: &App, file: &Path) -> Result<ExitCode> {
    let label = file.display().to_string();
    let f = std::fs::File::open(file).with_context(|| format!("cannot open {label}"))?;
    let mut meta = default_meta()?;
    let mut events = Vec::new();
    let mut lines = Vec::new();
    for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
        let n = i + 1;
        let line = line.with_context(|| format!("reading {label} failed at line {n}"))?;
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value =
            parse_json(line.as_bytes()).map_err(|e| BadInput(format!("{label}:{n}: {e}")))?;
        if events.is_empty() && value.get("type").is_none() && lines.is_empty() {
            let m: Meta = parse_json(line.as_bytes())
                .map_err(|e| BadInput(format!("{label}:{n}: metadata: {e}")))?;
            meta = NewStream {
                id: m.id.unwrap_or_else(|| "replay".into()),
                creator_id: m.creator_id,
                shop_id: m.shop_id,
                region: m.region,
                title: m.title,
            };
            lines.push(n);
            continue;
        }
        let event: StreamEvent =
            parse_json(line.as_bytes()).map_err(|e| BadInput(format!("{label}:{n}: {e}")))?;
        events.push(event);
        lines.push(n);
    }
    let meta_line = usize::from(lines.len() > events.len());
    let base = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let actions = app
        .streams()
        .replay(meta, &events, ImageBase::Dir(base))
        .map_err(|e| {
            let at = match e.event {
                Some(i) => lines.get(i + meta_line).copied().unwrap_or(0),
                None => lines.first().copied().unwrap_or(0),
            };
            let err = crate::classify(e.error);
            match err.downcast_ref::<BadInput>() {
                Some(b) => anyhow::Error::new(BadInput(format!("{label}:{at}: {b}"))),
                None => err,
            }
        })?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for a in &actions {
        serde_json::to_writer(&mut out, a)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    let count = |k: StreamActionKind| actions.iter().filter(|a| a.action == k).count();
    eprintln!(
        "replayed {} of {} events: {} warning(s), {} unpin(s), {}",
        actions.len(),
        events.len(),
        count(StreamActionKind::Warn),
        count(StreamActionKind::Unpin),
        if count(StreamActionKind::Stop) > 0 {
            "stopped"
        } else {
            "not stopped"
        }
    );
    Ok(ExitCode::SUCCESS)
}
