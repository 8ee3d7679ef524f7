//! The video I/O adapter: probes and decodes MP4 and WebM files (and live streams) by running
//! `ffmpeg` and `ffprobe` as subprocesses, never linking to libav, and hashes the sampled
//! frames into vPDQ frame hashes comparable with Meta's vpdq.
//!
//! * [`probe`]: container (sniffed from the first bytes), duration, size, codec, frame rate,
//!   frame count, with the [`Limits`] checked.
//! * [`hash_video`]: the whole file's [`FrameHash`]es at [`VideoConfig::seconds_per_hash`].
//! * [`open_video`] / [`open_stream`]: a [`FrameReader`] yielding decoded RGB frames one by one
//!   (for hashing as they come, and for checking frames against logo and photo banks).
//!
//! Every failure is a [`MediaError`] naming what was wrong: ffmpeg missing, not a video,
//! damaged, too large (bytes, pixels, duration, frames), or too slow (timeouts).
//!
//! See `docs/video.md` for the sampling rules, the limits and measured numbers.

pub mod config;
pub mod decode;
pub mod error;
pub mod probe;
mod process;

pub use config::{Limits, StreamConfig, StreamFormat, VideoConfig};
pub use decode::{
    DecodedFrame, FrameHasher, FrameReader, VideoHash, frame_step, hash_video, open_stream,
    open_video,
};
pub use error::MediaError;
pub use probe::{Container, VideoInfo, probe, sniff};
pub use shopshield_vpdq::FrameHash;
