//! Decoding sampled frames with an ffmpeg subprocess, one frame at a time.
//!
//! ffmpeg writes each sampled frame to its stdout as a binary PPM (`P6`, 8-bit RGB), which
//! carries its own width and height, so a stream whose resolution changes is read correctly
//! and every frame's size is checked against the pixel limit before its pixels are read. Only
//! one frame is held in memory at a time (plus the pipe's buffer).
//!
//! Frames are picked and converted the way Meta's vpdq does it (`filehasher.cpp`,
//! `ffmpegwrapper.h`, `hasher.h` in facebook/ThreatExchange `vpdq/cpp`): every
//! `max(1, int(seconds_per_hash * frame_rate))`-th decoded frame, numbered from 0 in decoding
//! order, converted to RGB24 by swscale with `SWS_AREA` at the video's own size (or the
//! requested downsample size), with swscale's default BT.601 matrix, without applying
//! rotation metadata; the timestamp is `float(frame_number) / float(frame_rate)`.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{ChildStdout, Command, Stdio};
use std::thread::JoinHandle;

use shopshield_pdq::{Hasher, LumaFormula, Pixels};
use shopshield_vpdq::FrameHash;

use crate::config::{StreamConfig, VideoConfig};
use crate::error::MediaError;
use crate::probe::{self, VideoInfo};
use crate::process::{self, Expiry, StderrTail, Watchdog};

/// One decoded frame: 8-bit RGB, row-major, `width * height * 3` bytes.
#[derive(Clone, PartialEq)]
pub struct DecodedFrame {
    /// For a file, the frame's index among all decoded frames (Meta's frame number); for a
    /// stream, the index of the sampled frame.
    pub frame_number: u64,
    /// Seconds from the start of the video (for a stream, from its first frame).
    pub timestamp: f64,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Interleaved RGB bytes.
    pub rgb: Vec<u8>,
}

impl std::fmt::Debug for DecodedFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecodedFrame")
            .field("frame_number", &self.frame_number)
            .field("timestamp", &self.timestamp)
            .field("width", &self.width)
            .field("height", &self.height)
            .finish()
    }
}

impl DecodedFrame {
    /// The pixels, for `shopshield_pdq` (photo and logo checks on video frames).
    pub fn pixels(&self) -> Pixels<'_> {
        Pixels::Rgb8(&self.rgb)
    }
}

/// Hashes decoded frames with PDQ as Meta's vpdq does: luminance from RGB in float32 with
/// the C++ reference's `fillFloatLumaFromRGB` coefficients. Reuses its buffers between frames.
#[derive(Debug)]
pub struct FrameHasher {
    hasher: Hasher,
}

impl Default for FrameHasher {
    fn default() -> Self {
        FrameHasher::new()
    }
}

impl FrameHasher {
    /// A hasher with Meta's vpdq luminance formula.
    pub fn new() -> FrameHasher {
        FrameHasher {
            hasher: Hasher::with_formula(LumaFormula::Float32),
        }
    }

    /// The frame's vPDQ frame hash.
    pub fn hash(&mut self, frame: &DecodedFrame) -> Result<FrameHash, MediaError> {
        let h = self
            .hasher
            .hash(frame.pixels(), frame.width as usize, frame.height as usize)
            .map_err(|e| MediaError::Protocol {
                reason: format!("frame {}: {e}", frame.frame_number),
            })?;
        Ok(FrameHash {
            frame_number: frame.frame_number,
            quality: h.quality,
            hash: h.hash,
            timestamp: frame.timestamp,
        })
    }
}

#[derive(Debug, Clone, Copy)]
enum Numbering {
    /// A file: output frame `i` is decoded frame `i * step`.
    EveryNth { step: u64, frame_rate: f32 },
    /// A stream: output frame `i` is at `i * interval` seconds.
    Timed { interval: f64 },
}

/// Limits checked as frames arrive.
#[derive(Debug, Clone, Copy)]
struct RunLimits {
    max_pixels: u64,
    /// On the frame number (all decoded frames) for files, on sampled frames for streams.
    max_frames: Option<u64>,
    max_duration: Option<f64>,
}

/// Decoded frames, one at a time, from an ffmpeg subprocess. An iterator of
/// `Result<DecodedFrame, MediaError>`; after an error it ends. Dropping it stops ffmpeg.
pub struct FrameReader {
    stdout: Option<BufReader<ChildStdout>>,
    dog: Watchdog,
    stderr: Option<StderrTail>,
    numbering: Numbering,
    limits: RunLimits,
    index: u64,
    done: bool,
    /// Used to strip the path from ffmpeg's messages.
    source: PathBuf,
    is_stream: bool,
    accept_damaged: bool,
    timeouts: (f64, f64),
    _feeder: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for FrameReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameReader")
            .field("numbering", &self.numbering)
            .field("frames_read", &self.index)
            .field("done", &self.done)
            .finish()
    }
}

/// The filter chain converting to RGB the way Meta's vpdq does.
fn rgb_filter(downsample: Option<(u32, u32)>) -> String {
    let size = match downsample {
        Some((w, h)) => format!("w={w}:h={h}:"),
        None => String::new(),
    };
    format!("scale={size}flags=area:in_color_matrix=bt601,format=rgb24")
}

/// Meta's frame step: `int(seconds_per_hash * frame_rate)`, at least 1.
pub fn frame_step(seconds_per_hash: f64, frame_rate: f64) -> u64 {
    let step = (seconds_per_hash * frame_rate) as i64;
    step.max(1) as u64
}

fn base_command(ffmpeg: &Path, threads: u32) -> Command {
    let mut cmd = Command::new(ffmpeg);
    cmd.args(["-hide_banner", "-nostats", "-loglevel", "error"]);
    if threads > 0 {
        cmd.args(["-threads", &threads.to_string()]);
    }
    cmd
}

fn output_args(cmd: &mut Command, filter: &str) {
    cmd.args(["-an", "-sn", "-dn", "-vf", filter])
        .args(["-fps_mode", "passthrough"])
        .args(["-f", "image2pipe", "-c:v", "ppm", "pipe:1"]);
}

/// Probes a file, checks the limits, and starts decoding its sampled frames.
pub fn open_video(
    path: &Path,
    config: &VideoConfig,
) -> Result<(VideoInfo, FrameReader), MediaError> {
    let info = probe::probe(path, config)?;
    let step = frame_step(config.seconds_per_hash, info.frame_rate);
    let mut filter = String::new();
    if step > 1 {
        filter.push_str(&format!("select=not(mod(n\\,{step})),"));
    }
    filter.push_str(&rgb_filter(config.downsample));
    let mut cmd = base_command(&config.ffmpeg, config.threads);
    cmd.args(["-nostdin", "-noautorotate"])
        .args(["-protocol_whitelist", "file"])
        .args(["-f", info.container.demuxer()])
        .arg("-i")
        .arg(probe::file_url(path))
        .args(["-map", &format!("0:{}", info.stream_index)]);
    output_args(&mut cmd, &filter);
    cmd.stdin(Stdio::null());
    let mut child = process::spawn(cmd, "ffmpeg", &config.ffmpeg)?;
    let stdout = child
        .stdout
        .take()
        .map(|s| BufReader::with_capacity(1 << 16, s));
    let stderr = StderrTail::collect(child.stderr.take());
    let dog = Watchdog::new(child, Some(config.timeout), None);
    let reader = FrameReader {
        stdout,
        dog,
        stderr: Some(stderr),
        numbering: Numbering::EveryNth {
            step,
            frame_rate: info.frame_rate as f32,
        },
        limits: RunLimits {
            max_pixels: config.limits.max_pixels,
            max_frames: Some(config.limits.max_frames),
            max_duration: Some(config.limits.max_duration_seconds),
        },
        index: 0,
        done: false,
        source: path.to_path_buf(),
        is_stream: false,
        accept_damaged: config.accept_damaged,
        timeouts: (config.timeout.as_secs_f64(), 0.0),
        _feeder: None,
    };
    Ok((info, reader))
}

/// Starts decoding a live stream read from `input` (an upload body, a socket, a pipe),
/// sampling one frame every `seconds_per_hash` seconds of presentation time. ffmpeg reads
/// the stream from its stdin; a thread copies `input` there.
pub fn open_stream<R: Read + Send + 'static>(
    mut input: R,
    config: &StreamConfig,
) -> Result<FrameReader, MediaError> {
    config.validate()?;
    let rate = 1.0 / config.seconds_per_hash;
    let filter = format!("fps=fps={rate},{}", rgb_filter(None));
    let mut cmd = base_command(&config.ffmpeg, config.threads);
    cmd.arg("-noautorotate")
        .args(["-protocol_whitelist", "pipe"])
        .args(["-f", config.format.demuxer()])
        .args(["-i", "pipe:0", "-map", "0:v:0"]);
    output_args(&mut cmd, &filter);
    cmd.stdin(Stdio::piped());
    let mut child = process::spawn(cmd, "ffmpeg", &config.ffmpeg)?;
    let stdin = child.stdin.take();
    let feeder = stdin.and_then(|mut sink| {
        std::thread::Builder::new()
            .name("ffmpeg-feed".into())
            .spawn(move || {
                // Ends when the input ends (closing ffmpeg's stdin) or ffmpeg goes away.
                let _ = std::io::copy(&mut input, &mut sink);
                let _ = sink.flush();
            })
            .ok()
    });
    let stdout = child
        .stdout
        .take()
        .map(|s| BufReader::with_capacity(1 << 16, s));
    let stderr = StderrTail::collect(child.stderr.take());
    let dog = Watchdog::new(child, None, Some(config.stall_timeout));
    Ok(FrameReader {
        stdout,
        dog,
        stderr: Some(stderr),
        numbering: Numbering::Timed {
            interval: config.seconds_per_hash,
        },
        limits: RunLimits {
            max_pixels: config.max_pixels,
            max_frames: config.max_frames,
            max_duration: None,
        },
        index: 0,
        done: false,
        source: PathBuf::from("pipe:0"),
        is_stream: true,
        accept_damaged: config.accept_damaged,
        timeouts: (0.0, config.stall_timeout.as_secs_f64()),
        _feeder: feeder,
    })
}

/// Reads one whitespace-delimited decimal token of a PPM header. `Ok(None)` at a clean end
/// of input before the token starts.
fn ppm_token(r: &mut impl BufRead) -> std::io::Result<Option<u64>> {
    let mut value: Option<u64> = None;
    loop {
        let buf = r.fill_buf()?;
        let Some(&b) = buf.first() else {
            return match value {
                Some(v) => Ok(Some(v)),
                None => Ok(None),
            };
        };
        if b.is_ascii_whitespace() {
            r.consume(1);
            if value.is_some() {
                return Ok(value);
            }
        } else if b.is_ascii_digit() {
            r.consume(1);
            let v = value.unwrap_or(0);
            value = Some(
                v.checked_mul(10)
                    .and_then(|v| v.checked_add(u64::from(b - b'0')))
                    .ok_or_else(|| std::io::Error::other("PPM header number overflows"))?,
            );
        } else {
            return Err(std::io::Error::other(format!(
                "unexpected byte {b:#04x} in a PPM header"
            )));
        }
    }
}

enum Next {
    Frame(DecodedFrame),
    End,
}

impl FrameReader {
    /// Frames read so far.
    pub fn frames_read(&self) -> u64 {
        self.index
    }

    fn fail(&mut self, e: MediaError) -> Option<Result<DecodedFrame, MediaError>> {
        self.done = true;
        self.stdout = None;
        self.dog.kill();
        Some(Err(e))
    }

    /// The error for a process that ended (or was killed) before producing what was
    /// expected; `None` when it exited cleanly.
    fn exit_error(&mut self) -> Option<MediaError> {
        self.stdout = None;
        let status = self.dog.finish();
        let lines = self.stderr.take().map(StderrTail::join).unwrap_or_default();
        if let Some(e) = self.dog.expired() {
            return Some(match e {
                Expiry::Total(_) => MediaError::Timeout {
                    stage: "decoding the video",
                    seconds: self.timeouts.0,
                },
                Expiry::Stall(_) => MediaError::Timeout {
                    stage: "waiting for the next frame",
                    seconds: self.timeouts.1,
                },
            });
        }
        match status {
            // At `-loglevel error` ffmpeg prints only errors: damaged or missing data.
            Ok(s) if s.success() && (self.accept_damaged || lines.is_empty()) => None,
            Ok(_) => Some(MediaError::Corrupt {
                reason: process::summarize(&lines, &self.source),
            }),
            Err(e) => Some(MediaError::Process {
                program: "ffmpeg",
                reason: e.to_string(),
            }),
        }
    }

    fn read_frame(&mut self) -> Result<Next, MediaError> {
        let Some(r) = self.stdout.as_mut() else {
            return Ok(Next::End);
        };
        let proto = |e: std::io::Error| MediaError::Protocol {
            reason: e.to_string(),
        };
        // Header: "P6" <ws> width <ws> height <ws> maxval <one ws>.
        let mut magic = [0u8; 2];
        let first = r.fill_buf().map_err(proto)?;
        if first.is_empty() {
            return Ok(Next::End);
        }
        r.read_exact(&mut magic).map_err(proto)?;
        if &magic != b"P6" {
            return Err(MediaError::Protocol {
                reason: "ffmpeg's frame is not a binary PPM".to_string(),
            });
        }
        let mut field = || -> Result<u64, MediaError> {
            ppm_token(r)
                .map_err(proto)?
                .ok_or_else(|| MediaError::Protocol {
                    reason: "ffmpeg's output ends inside a frame header".to_string(),
                })
        };
        let (width, height, maxval) = (field()?, field()?, field()?);
        if maxval != 255 || width == 0 || height == 0 {
            return Err(MediaError::Protocol {
                reason: format!("unexpected PPM frame {width}x{height} max {maxval}"),
            });
        }
        let pixels = width.saturating_mul(height);
        if pixels > self.limits.max_pixels {
            return Err(MediaError::FrameTooLarge {
                width,
                height,
                max_pixels: self.limits.max_pixels,
            });
        }
        let (frame_number, timestamp) = match self.numbering {
            Numbering::EveryNth { step, frame_rate } => {
                let n = self.index.saturating_mul(step);
                (n, f64::from(n as f32 / frame_rate))
            }
            Numbering::Timed { interval } => (self.index, self.index as f64 * interval),
        };
        if let Some(max) = self.limits.max_frames {
            let count = if self.is_stream {
                self.index + 1
            } else {
                frame_number + 1
            };
            if count > max {
                return Err(MediaError::TooManyFrames {
                    frames: count,
                    max_frames: max,
                });
            }
        }
        if let Some(max) = self.limits.max_duration.filter(|m| timestamp > *m) {
            return Err(MediaError::TooLong {
                seconds: timestamp,
                max_seconds: max,
            });
        }
        let mut rgb = vec![0u8; (pixels * 3) as usize];
        r.read_exact(&mut rgb).map_err(|_| MediaError::Protocol {
            reason: "ffmpeg's output ends inside a frame".to_string(),
        })?;
        self.index += 1;
        self.dog.progress();
        Ok(Next::Frame(DecodedFrame {
            frame_number,
            timestamp,
            width: width as u32,
            height: height as u32,
            rgb,
        }))
    }
}

impl Iterator for FrameReader {
    type Item = Result<DecodedFrame, MediaError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.read_frame() {
            Ok(Next::Frame(f)) => Some(Ok(f)),
            Ok(Next::End) => {
                self.done = true;
                match self.exit_error() {
                    Some(e) => Some(Err(e)),
                    None if self.index == 0 && !self.is_stream => Some(Err(MediaError::Corrupt {
                        reason: "no frame of the video stream could be decoded".to_string(),
                    })),
                    None => None,
                }
            }
            Err(e) => {
                // A read failure is usually ffmpeg dying (killed, or crashed on bad input):
                // report that rather than the broken pipe.
                let e = match e {
                    MediaError::Protocol { .. } => self.exit_error().unwrap_or(e),
                    other => other,
                };
                self.fail(e)
            }
        }
    }
}

/// A file's probe report and its frame hashes.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct VideoHash {
    /// What ffprobe reported.
    pub info: VideoInfo,
    /// One hash per sampled frame, in frame order.
    pub frames: Vec<FrameHash>,
}

/// Decodes and hashes a video file: Meta's vpdq frame hashes at `config.seconds_per_hash`.
pub fn hash_video(path: &Path, config: &VideoConfig) -> Result<VideoHash, MediaError> {
    let (info, reader) = open_video(path, config)?;
    let mut hasher = FrameHasher::new();
    let mut frames = Vec::new();
    for frame in reader {
        frames.push(hasher.hash(&frame?)?);
    }
    Ok(VideoHash { info, frames })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_frame_step() {
        assert_eq!(frame_step(1.0, 25.0), 25);
        assert_eq!(frame_step(1.0, 30000.0 / 1001.0), 29);
        assert_eq!(frame_step(0.0, 30.0), 1);
        assert_eq!(frame_step(1.0, 0.5), 1);
        assert_eq!(frame_step(0.5, 25.0), 12);
    }

    #[test]
    fn ppm_tokens() {
        let mut r = std::io::Cursor::new(b" 320 240\n255\nrest".to_vec());
        assert_eq!(ppm_token(&mut r).unwrap(), Some(320));
        assert_eq!(ppm_token(&mut r).unwrap(), Some(240));
        assert_eq!(ppm_token(&mut r).unwrap(), Some(255));
        let mut rest = String::new();
        r.read_to_string(&mut rest).unwrap();
        assert_eq!(rest, "rest");
        let mut empty = std::io::Cursor::new(Vec::new());
        assert_eq!(ppm_token(&mut empty).unwrap(), None);
        let mut bad = std::io::Cursor::new(b"12x".to_vec());
        assert!(ppm_token(&mut bad).is_err());
    }
}
