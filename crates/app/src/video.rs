//! Video intake: the `[video]` configuration, hashing registered clips and
//! submitted videos with ffmpeg (`shopshield-media`), and reading vPDQ hash
//! lists.

use std::io::Write;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use shopshield_gate::VideoMatchConfig;
use shopshield_media::{Limits, MediaError, VideoConfig};
use shopshield_model::ValidationError;
use shopshield_vpdq::FrameHash;

/// `[video]` in `shopshield.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VideoSettings {
    /// Seconds between hashed frames (Meta's `seconds_per_hash`; default 1).
    pub seconds_per_hash: f64,
    /// Longest video accepted, in seconds (default 900).
    pub max_duration_seconds: f64,
    /// Largest frame accepted, in pixels (default 3840 x 2160).
    pub max_pixels: u64,
    /// Most frames in a video (all frames, not only the hashed ones; default 54,000).
    pub max_frames: u64,
    /// Largest video file, in bytes (default 512 MiB; over HTTP the body
    /// limit applies first).
    pub max_file_bytes: u64,
    /// Most frames in a submitted vPDQ hash list (default 100,000).
    pub max_hash_frames: usize,
    /// Deadline for decoding one video, in seconds (default 300).
    pub timeout_secs: u64,
    /// Frames checked against the logo and photo banks: every n-th hashed
    /// frame (default 1: every hashed frame; 0: none).
    pub frame_check_every: usize,
    /// vPDQ matching thresholds and confidences (`[video.matching]`).
    pub matching: VideoMatchConfig,
}

impl Default for VideoSettings {
    fn default() -> Self {
        let limits = Limits::default();
        VideoSettings {
            seconds_per_hash: 1.0,
            max_duration_seconds: limits.max_duration_seconds,
            max_pixels: limits.max_pixels,
            max_frames: limits.max_frames,
            max_file_bytes: limits.max_file_bytes,
            max_hash_frames: 100_000,
            timeout_secs: 300,
            frame_check_every: 1,
            matching: VideoMatchConfig::default(),
        }
    }
}

impl VideoSettings {
    pub fn validate(&self) -> Result<(), String> {
        self.matching.validate()?;
        self.media().validate().map_err(|e| e.to_string())?;
        if self.max_hash_frames == 0 {
            return Err("max_hash_frames must be at least 1".into());
        }
        Ok(())
    }

    /// The decoder's configuration.
    pub fn media(&self) -> VideoConfig {
        VideoConfig {
            seconds_per_hash: self.seconds_per_hash,
            limits: Limits {
                max_file_bytes: self.max_file_bytes,
                max_duration_seconds: self.max_duration_seconds,
                max_pixels: self.max_pixels,
                max_frames: self.max_frames,
            },
            timeout: Duration::from_secs(self.timeout_secs.max(1)),
            ..VideoConfig::default()
        }
    }
}

/// A video problem as a validation error naming `field`.
pub fn media_error(field: &str, e: MediaError) -> ValidationError {
    ValidationError::new(field, e.to_string())
}

/// True when `bytes` look like a vPDQ hash list (Meta's lines or
/// python-threatexchange's JSON) rather than a video file.
pub fn is_hash_list(bytes: &[u8]) -> bool {
    let head = bytes.trim_ascii_start();
    matches!(head.first(), Some(b'0'..=b'9' | b'['))
        && std::str::from_utf8(&head[..head.len().min(4096)]).is_ok()
}

/// Parses a vPDQ hash list.
pub fn parse_hash_list(
    field: &str,
    text: &str,
    max_frames: usize,
) -> Result<Vec<FrameHash>, ValidationError> {
    shopshield_vpdq::parse_any(text, max_frames)
        .map_err(|e| ValidationError::new(field, e.to_string()))
}

/// A video file's bytes written to a private temporary file, for ffmpeg
/// (which reads files, not memory). Removed when dropped.
pub fn spool(field: &str, bytes: &[u8]) -> Result<tempfile::NamedTempFile, ValidationError> {
    let io =
        |e: std::io::Error| ValidationError::new(field, format!("cannot spool the video: {e}"));
    let mut f = tempfile::Builder::new()
        .prefix("shopshield-video-")
        .tempfile()
        .map_err(io)?;
    f.write_all(bytes).map_err(io)?;
    f.flush().map_err(io)?;
    Ok(f)
}

/// The frame hashes of a video given as bytes: a hash list is parsed, a
/// video file is decoded and hashed (Meta's vpdq at `seconds_per_hash`).
pub fn frames_of(
    field: &str,
    bytes: &[u8],
    settings: &VideoSettings,
) -> Result<Vec<FrameHash>, ValidationError> {
    if is_hash_list(bytes) {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| ValidationError::new(field, "the hash list is not UTF-8 text"))?;
        return parse_hash_list(field, text, settings.max_hash_frames);
    }
    let file = spool(field, bytes)?;
    let hashed = shopshield_media::hash_video(file.path(), &settings.media())
        .map_err(|e| media_error(field, e))?;
    Ok(hashed.frames)
}
