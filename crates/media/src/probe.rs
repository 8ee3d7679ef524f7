//! Recognising the container from the file's first bytes, and asking ffprobe for the video
//! stream's duration, size, codec, frame rate and frame count.

use std::io::Read;
use std::path::Path;
use std::process::Command;

use serde::{Deserialize, Serialize};

use crate::config::VideoConfig;
use crate::error::MediaError;
use crate::process::{self, StderrTail, Watchdog};

/// The containers accepted: what the issue asks for (MP4 and WebM), by their ffmpeg
/// demuxers. The demuxer is chosen from the file's first bytes and passed to ffmpeg with
/// `-f`, so no other demuxer ever reads the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Container {
    /// ISO base media: MP4, MOV, M4V, 3GP (ffmpeg's `mov` demuxer).
    Mp4,
    /// WebM or Matroska (ffmpeg's `matroska` demuxer).
    WebM,
}

impl Container {
    /// The ffmpeg demuxer name.
    pub fn demuxer(self) -> &'static str {
        match self {
            Container::Mp4 => "mov",
            Container::WebM => "matroska",
        }
    }

    /// `"MP4"` or `"WebM"`.
    pub fn name(self) -> &'static str {
        match self {
            Container::Mp4 => "MP4",
            Container::WebM => "WebM",
        }
    }
}

/// Identifies MP4 or WebM from the first bytes; otherwise says what the file looks like.
pub fn sniff(head: &[u8]) -> Result<Container, MediaError> {
    if head.len() >= 8 {
        let tag = &head[4..8];
        if matches!(
            tag,
            b"ftyp" | b"moov" | b"mdat" | b"free" | b"wide" | b"skip" | b"pnot" | b"styp"
        ) {
            return Ok(Container::Mp4);
        }
    }
    if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        return Ok(Container::WebM);
    }
    let what = if head.is_empty() {
        "the file is empty".to_string()
    } else if head.starts_with(b"\x89PNG") {
        "the file is a PNG image".to_string()
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "the file is a JPEG image".to_string()
    } else if head.starts_with(b"GIF8") {
        "the file is a GIF image".to_string()
    } else if head.starts_with(b"RIFF") && head.get(8..12) == Some(b"WEBP") {
        "the file is a WebP image".to_string()
    } else if head.starts_with(b"RIFF") && head.get(8..12) == Some(b"AVI ") {
        "the file is an AVI video; only MP4 and WebM are accepted".to_string()
    } else if head.starts_with(b"%PDF") {
        "the file is a PDF document".to_string()
    } else if head.starts_with(b"PK\x03\x04") {
        "the file is a ZIP archive".to_string()
    } else if head.starts_with(b"ID3") || head.starts_with(&[0xFF, 0xFB]) {
        "the file is MP3 audio".to_string()
    } else if head.starts_with(&[0x47]) && head.len() > 188 && head[188] == 0x47 {
        "the file is an MPEG transport stream; only MP4 and WebM files are accepted".to_string()
    } else if head
        .iter()
        .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace())
    {
        "the file is text".to_string()
    } else {
        "the file is neither an MP4 nor a WebM video".to_string()
    };
    Err(MediaError::NotVideo { reason: what })
}

/// What ffprobe reports about a video file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VideoInfo {
    /// The container.
    pub container: Container,
    /// Size of the file in bytes.
    pub file_bytes: u64,
    /// Duration in seconds (the video stream's, else the container's), when known.
    pub duration_seconds: Option<f64>,
    /// Frame width in pixels.
    pub width: u32,
    /// Frame height in pixels.
    pub height: u32,
    /// Codec name as ffmpeg calls it (`h264`, `vp9`, `vp8`, `av1`, ...).
    pub codec: String,
    /// Frames per second: the stream's average frame rate, else its base rate (the rate
    /// Meta's vpdq uses to pick frames and compute timestamps).
    pub frame_rate: f64,
    /// Number of frames: the container's count when it states one, else duration x frame
    /// rate rounded (see [`VideoInfo::frame_count_exact`]).
    pub frame_count: u64,
    /// Whether [`VideoInfo::frame_count`] is the container's count rather than an estimate.
    pub frame_count_exact: bool,
    /// Index of the video stream used (the first video stream that is not cover art).
    pub stream_index: u32,
}

#[derive(Deserialize)]
struct ProbeOut {
    #[serde(default)]
    streams: Vec<ProbeStream>,
    format: Option<ProbeFormat>,
}

#[derive(Deserialize)]
struct ProbeStream {
    index: u32,
    codec_type: Option<String>,
    codec_name: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
    avg_frame_rate: Option<String>,
    r_frame_rate: Option<String>,
    duration: Option<String>,
    nb_frames: Option<String>,
    disposition: Option<Disposition>,
}

#[derive(Deserialize)]
struct Disposition {
    #[serde(default)]
    attached_pic: u8,
}

#[derive(Deserialize)]
struct ProbeFormat {
    duration: Option<String>,
}

fn rational(text: Option<&str>) -> Option<f64> {
    let t = text?;
    let (n, d) = t.split_once('/').unwrap_or((t, "1"));
    let n: f64 = n.trim().parse().ok()?;
    let d: f64 = d.trim().parse().ok()?;
    let v = n / d;
    (v.is_finite() && v > 0.0).then_some(v)
}

fn positive(text: Option<&str>) -> Option<f64> {
    let v: f64 = text?.trim().parse().ok()?;
    (v.is_finite() && v >= 0.0).then_some(v)
}

/// Reads the first bytes and the size of the file.
pub(crate) fn open_checks(
    path: &Path,
    config: &VideoConfig,
) -> Result<(Container, u64), MediaError> {
    let io = |e: std::io::Error| MediaError::Io {
        reason: match e.kind() {
            std::io::ErrorKind::NotFound => "the file does not exist".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            _ => e.to_string(),
        },
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(MediaError::Io {
            reason: "not a regular file".to_string(),
        });
    }
    let bytes = meta.len();
    if bytes > config.limits.max_file_bytes {
        return Err(MediaError::FileTooLarge {
            bytes,
            max_bytes: config.limits.max_file_bytes,
        });
    }
    let mut head = Vec::with_capacity(512);
    std::fs::File::open(path)
        .map_err(io)?
        .take(512)
        .read_to_end(&mut head)
        .map_err(io)?;
    Ok((sniff(&head)?, bytes))
}

/// `file:` URL for a local path, so that a name with a colon or a leading dash is never read
/// as a protocol or an option.
pub(crate) fn file_url(path: &Path) -> std::ffi::OsString {
    let mut url = std::ffi::OsString::from("file:");
    url.push(path.as_os_str());
    url
}

/// Probes a video file: size limit, container sniffing, then ffprobe; checks the pixel,
/// duration and frame limits.
pub fn probe(path: &Path, config: &VideoConfig) -> Result<VideoInfo, MediaError> {
    config.validate()?;
    let (container, file_bytes) = open_checks(path, config)?;
    let mut cmd = Command::new(&config.ffprobe);
    cmd.args(["-v", "error", "-hide_banner", "-print_format", "json"])
        .args(["-show_format", "-show_streams"])
        .args(["-protocol_whitelist", "file", "-f", container.demuxer()])
        .arg("-i")
        .arg(file_url(path))
        .stdin(std::process::Stdio::null());
    let mut child = process::spawn(cmd, "ffprobe", &config.ffprobe)?;
    let stdout = child.stdout.take();
    let stderr = StderrTail::collect(child.stderr.take());
    let mut dog = Watchdog::new(child, Some(config.probe_timeout), None);
    let out = match stdout {
        Some(s) => process::read_bounded(s, 4 << 20),
        None => Ok((Vec::new(), false)),
    };
    let status = dog.finish();
    let lines = stderr.join();
    if dog.expired().is_some() {
        return Err(MediaError::Timeout {
            stage: "probing the video",
            seconds: config.probe_timeout.as_secs_f64(),
        });
    }
    let status = status.map_err(|e| MediaError::Process {
        program: "ffprobe",
        reason: e.to_string(),
    })?;
    let (json, truncated) = out.map_err(|e| MediaError::Process {
        program: "ffprobe",
        reason: e.to_string(),
    })?;
    if !status.success() {
        return Err(MediaError::Corrupt {
            reason: process::summarize(&lines, path),
        });
    }
    if truncated {
        return Err(MediaError::Corrupt {
            reason: "the container describes an implausible number of streams".to_string(),
        });
    }
    let parsed: ProbeOut = serde_json::from_slice(&json).map_err(|e| MediaError::Protocol {
        reason: format!("ffprobe's JSON: {e}"),
    })?;
    info_from_probe(parsed, container, file_bytes, config)
}

fn info_from_probe(
    parsed: ProbeOut,
    container: Container,
    file_bytes: u64,
    config: &VideoConfig,
) -> Result<VideoInfo, MediaError> {
    let is_video = |s: &&ProbeStream| s.codec_type.as_deref() == Some("video");
    let stream = parsed
        .streams
        .iter()
        .filter(is_video)
        .find(|s| s.disposition.as_ref().is_none_or(|d| d.attached_pic == 0))
        .ok_or_else(|| MediaError::NotVideo {
            reason: if parsed.streams.is_empty() {
                format!("the {} file holds no streams", container.name())
            } else if parsed.streams.iter().any(|s| is_video(&s)) {
                format!("the {} file holds only a cover picture", container.name())
            } else {
                format!("the {} file has no video stream", container.name())
            },
        })?;
    let (width, height) = match (stream.width, stream.height) {
        (Some(w), Some(h)) if w > 0 && h > 0 => (w, h),
        _ => {
            return Err(MediaError::Corrupt {
                reason: "the video stream states no frame size".to_string(),
            });
        }
    };
    let pixels = u64::from(width) * u64::from(height);
    if pixels > config.limits.max_pixels {
        return Err(MediaError::FrameTooLarge {
            width: width.into(),
            height: height.into(),
            max_pixels: config.limits.max_pixels,
        });
    }
    let frame_rate = rational(stream.avg_frame_rate.as_deref())
        .or_else(|| rational(stream.r_frame_rate.as_deref()))
        .ok_or_else(|| MediaError::Corrupt {
            reason: "the video stream states no frame rate".to_string(),
        })?;
    let duration_seconds = positive(stream.duration.as_deref())
        .or_else(|| positive(parsed.format.as_ref().and_then(|f| f.duration.as_deref())));
    if let Some(d) = duration_seconds.filter(|d| *d > config.limits.max_duration_seconds) {
        return Err(MediaError::TooLong {
            seconds: d,
            max_seconds: config.limits.max_duration_seconds,
        });
    }
    let stated = stream
        .nb_frames
        .as_deref()
        .and_then(|n| n.trim().parse::<u64>().ok())
        .filter(|n| *n > 0);
    let (frame_count, frame_count_exact) = match (stated, duration_seconds) {
        (Some(n), _) => (n, true),
        (None, Some(d)) => ((d * frame_rate).round() as u64, false),
        (None, None) => (0, false),
    };
    if frame_count > config.limits.max_frames {
        return Err(MediaError::TooManyFrames {
            frames: frame_count,
            max_frames: config.limits.max_frames,
        });
    }
    Ok(VideoInfo {
        container,
        file_bytes,
        duration_seconds,
        width,
        height,
        codec: stream.codec_name.clone().unwrap_or_default(),
        frame_rate,
        frame_count,
        frame_count_exact,
        stream_index: stream.index,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing() {
        assert_eq!(sniff(b"\0\0\0\x20ftypisom").unwrap(), Container::Mp4);
        assert_eq!(
            sniff(&[0x1A, 0x45, 0xDF, 0xA3, 1]).unwrap(),
            Container::WebM
        );
        let reason = |b: &[u8]| match sniff(b) {
            Err(MediaError::NotVideo { reason }) => reason,
            other => panic!("{other:?}"),
        };
        assert_eq!(reason(b""), "the file is empty");
        assert_eq!(reason(b"\x89PNG\r\n\x1a\n"), "the file is a PNG image");
        assert_eq!(reason(b"hello, world\n"), "the file is text");
        assert_eq!(reason(b"%PDF-1.7"), "the file is a PDF document");
    }

    #[test]
    fn rationals() {
        assert_eq!(rational(Some("30000/1001")), Some(30000.0 / 1001.0));
        assert_eq!(rational(Some("0/0")), None);
        assert_eq!(rational(Some("25")), Some(25.0));
        assert_eq!(rational(None), None);
    }
}
