//! `shopshield video hash FILE`: a video's vPDQ hashes in Meta's line format.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use shopshield_app::AppConfig;
use shopshield_media::MediaError;

use crate::BadInput;

/// Hashes `file` at `rate` frames per second (0: every frame) and prints
/// `frameNumber,quality,pdqHex,timestamp` lines. The `[video]` limits apply.
pub fn hash(config: &AppConfig, file: &Path, rate: f64) -> Result<ExitCode> {
    if !rate.is_finite() || rate < 0.0 {
        return Err(BadInput(format!(
            "--rate {rate}: must be a number of frames per second >= 0"
        ))
        .into());
    }
    let mut media = config.video.media();
    media.seconds_per_hash = if rate == 0.0 { 0.0 } else { 1.0 / rate };
    let hashed = shopshield_media::hash_video(file, &media).map_err(|e| match e {
        MediaError::FfmpegMissing { .. } | MediaError::Process { .. } => {
            anyhow::anyhow!("{}: {e}", file.display())
        }
        other => BadInput(format!("{}: {other}", file.display())).into(),
    })?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    out.write_all(shopshield_vpdq::format_hash_list(&hashed.frames).as_bytes())?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
