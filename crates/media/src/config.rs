//! How videos are sampled and decoded, and the limits that keep a hostile upload cheap.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::MediaError;

/// Bounds on what is decoded. Checked before decoding (from the file size and ffprobe's
/// report) and again while decoding (the container's report can be wrong).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    /// Largest file accepted, in bytes. Default 512 MiB.
    pub max_file_bytes: u64,
    /// Longest video accepted, in seconds. Default 900 (15 minutes).
    pub max_duration_seconds: f64,
    /// Largest frame accepted, as width x height. Default 3840 x 2160 (4K UHD), in either
    /// orientation.
    pub max_pixels: u64,
    /// Most frames accepted in the video (all frames, not only the sampled ones).
    /// Default 54,000 (15 minutes at 60 frames per second).
    pub max_frames: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 512 << 20,
            max_duration_seconds: 900.0,
            max_pixels: 3840 * 2160,
            max_frames: 54_000,
        }
    }
}

/// How a video file is sampled, decoded and bounded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VideoConfig {
    /// Seconds between hashed frames, as Meta's `seconds_per_hash`: every
    /// `int(seconds_per_hash * frame_rate)`-th decoded frame is hashed (at least every
    /// frame). `0` hashes every frame. Default 1.
    pub seconds_per_hash: f64,
    /// Scale frames to this width and height before hashing (Meta's `downsample_width` and
    /// `downsample_height`); `None` hashes at the video's own size, Meta's default.
    pub downsample: Option<(u32, u32)>,
    /// Size, duration and frame limits.
    pub limits: Limits,
    /// Deadline for decoding a whole file. Default 300 s.
    pub timeout: Duration,
    /// Deadline for ffprobe. Default 30 s.
    pub probe_timeout: Duration,
    /// The ffmpeg program (a name looked up in `PATH`, or a path). Default `ffmpeg`.
    pub ffmpeg: PathBuf,
    /// The ffprobe program. Default `ffprobe`.
    pub ffprobe: PathBuf,
    /// Decoder threads for ffmpeg (`-threads`); `0` lets ffmpeg choose. Default 0.
    pub threads: u32,
    /// Hash whatever ffmpeg manages to decode even when it reports damage (Meta's vpdq
    /// behaviour). Default `false`: a file whose decoding reports any error is refused as
    /// [`MediaError::Corrupt`] once decoding ends.
    pub accept_damaged: bool,
}

impl Default for VideoConfig {
    fn default() -> Self {
        VideoConfig {
            seconds_per_hash: 1.0,
            downsample: None,
            limits: Limits::default(),
            timeout: Duration::from_secs(300),
            probe_timeout: Duration::from_secs(30),
            ffmpeg: PathBuf::from("ffmpeg"),
            ffprobe: PathBuf::from("ffprobe"),
            threads: 0,
            accept_damaged: false,
        }
    }
}

fn bad(field: &'static str, reason: impl Into<String>) -> MediaError {
    MediaError::Config {
        field,
        reason: reason.into(),
    }
}

/// Smallest side PDQ hashes (smaller frames hash to zero with quality 0).
const MIN_SIDE: u32 = 5;

impl VideoConfig {
    /// Checks every field's range.
    pub fn validate(&self) -> Result<(), MediaError> {
        if !self.seconds_per_hash.is_finite() || self.seconds_per_hash < 0.0 {
            return Err(bad(
                "seconds_per_hash",
                format!("must be a number >= 0, got {}", self.seconds_per_hash),
            ));
        }
        if self.seconds_per_hash > 3600.0 {
            return Err(bad("seconds_per_hash", "must be at most 3600"));
        }
        if let Some((w, h)) = self.downsample {
            if w < MIN_SIDE || h < MIN_SIDE {
                return Err(bad(
                    "downsample",
                    format!("both sides must be at least {MIN_SIDE} pixels, got {w}x{h}"),
                ));
            }
            if u64::from(w) * u64::from(h) > self.limits.max_pixels {
                return Err(bad(
                    "downsample",
                    format!("{w}x{h} exceeds limits.max_pixels"),
                ));
            }
        }
        self.limits.validate()?;
        if self.timeout.is_zero() {
            return Err(bad("timeout", "must be above zero"));
        }
        if self.probe_timeout.is_zero() {
            return Err(bad("probe_timeout", "must be above zero"));
        }
        if self.threads > 64 {
            return Err(bad("threads", "must be at most 64"));
        }
        Ok(())
    }
}

impl Limits {
    /// Checks every field's range.
    pub fn validate(&self) -> Result<(), MediaError> {
        if self.max_file_bytes == 0 {
            return Err(bad("limits.max_file_bytes", "must be above zero"));
        }
        if !self.max_duration_seconds.is_finite() || self.max_duration_seconds <= 0.0 {
            return Err(bad("limits.max_duration_seconds", "must be above zero"));
        }
        if self.max_pixels < u64::from(MIN_SIDE * MIN_SIDE) {
            return Err(bad("limits.max_pixels", "must be at least 25"));
        }
        if self.max_frames == 0 {
            return Err(bad("limits.max_frames", "must be above zero"));
        }
        Ok(())
    }
}

/// The container of a live stream fed through a pipe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamFormat {
    /// Fragmented MP4 (or an MP4 with its index first).
    Mp4,
    /// WebM or Matroska.
    WebM,
    /// MPEG transport stream (what HLS segments carry).
    MpegTs,
}

impl StreamFormat {
    /// The ffmpeg demuxer name.
    pub fn demuxer(self) -> &'static str {
        match self {
            StreamFormat::Mp4 => "mov",
            StreamFormat::WebM => "matroska",
            StreamFormat::MpegTs => "mpegts",
        }
    }
}

/// How a live stream is sampled and bounded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamConfig {
    /// The stream's container.
    pub format: StreamFormat,
    /// Seconds between sampled frames (by presentation time, since a stream's frame rate is
    /// not known in advance). Default 1.
    pub seconds_per_hash: f64,
    /// Largest frame accepted, as width x height (checked on every frame, so a resolution
    /// change mid-stream is caught). Default 3840 x 2160.
    pub max_pixels: u64,
    /// Stop with an error after this many sampled frames; `None` for no limit.
    pub max_frames: Option<u64>,
    /// Stop with an error when no frame arrives for this long. Default 30 s.
    pub stall_timeout: Duration,
    /// The ffmpeg program. Default `ffmpeg`.
    pub ffmpeg: PathBuf,
    /// Decoder threads for ffmpeg; `0` lets ffmpeg choose.
    pub threads: u32,
    /// Keep going when ffmpeg reports damaged data (lost packets are common in live
    /// streams). Default `true`; when `false` the reader ends with [`MediaError::Corrupt`].
    pub accept_damaged: bool,
}

impl StreamConfig {
    /// Defaults for a stream in `format`.
    pub fn new(format: StreamFormat) -> StreamConfig {
        StreamConfig {
            format,
            seconds_per_hash: 1.0,
            max_pixels: 3840 * 2160,
            max_frames: None,
            stall_timeout: Duration::from_secs(30),
            ffmpeg: PathBuf::from("ffmpeg"),
            threads: 0,
            accept_damaged: true,
        }
    }

    /// Checks every field's range.
    pub fn validate(&self) -> Result<(), MediaError> {
        if !self.seconds_per_hash.is_finite()
            || self.seconds_per_hash <= 0.0
            || self.seconds_per_hash > 3600.0
        {
            return Err(bad(
                "seconds_per_hash",
                format!(
                    "must be above 0 and at most 3600 for a stream, got {}",
                    self.seconds_per_hash
                ),
            ));
        }
        if self.max_pixels < u64::from(MIN_SIDE * MIN_SIDE) {
            return Err(bad("max_pixels", "must be at least 25"));
        }
        if self.max_frames == Some(0) {
            return Err(bad("max_frames", "must be above zero"));
        }
        if self.stall_timeout.is_zero() {
            return Err(bad("stall_timeout", "must be above zero"));
        }
        if self.threads > 64 {
            return Err(bad("threads", "must be at most 64"));
        }
        Ok(())
    }
}
