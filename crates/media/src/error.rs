//! Errors, each naming what was wrong with the file or the setup in words a seller or an
//! operator can act on (ffmpeg's own messages are summarised, never passed on whole).

/// Why a video could not be probed, decoded or hashed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MediaError {
    /// ffmpeg or ffprobe could not be started.
    #[error(
        "{program} is not installed or cannot be run (looked for {path:?}); install the ffmpeg package"
    )]
    FfmpegMissing {
        /// `"ffmpeg"` or `"ffprobe"`.
        program: &'static str,
        /// The path or name that was tried.
        path: String,
    },
    /// ffmpeg or ffprobe failed to start for another reason.
    #[error("could not run {program}: {reason}")]
    Process {
        /// `"ffmpeg"` or `"ffprobe"`.
        program: &'static str,
        /// The operating system's reason.
        reason: String,
    },
    /// The file could not be read.
    #[error("cannot read the video file: {reason}")]
    Io {
        /// The operating system's reason.
        reason: String,
    },
    /// The file is not an MP4 or WebM video (another format, or no video stream).
    #[error("not a video: {reason}")]
    NotVideo {
        /// What the file is, or what it lacks.
        reason: String,
    },
    /// The file starts like an MP4 or WebM video but cannot be read or decoded.
    #[error("the video file is damaged or incomplete: {reason}")]
    Corrupt {
        /// A short summary of what ffmpeg reported.
        reason: String,
    },
    /// The file is larger than [`crate::Limits::max_file_bytes`].
    #[error("the video file is {bytes} bytes; the limit is {max_bytes} bytes")]
    FileTooLarge {
        /// Size of the file.
        bytes: u64,
        /// The limit.
        max_bytes: u64,
    },
    /// The video is longer than [`crate::Limits::max_duration_seconds`].
    #[error("the video lasts {seconds:.1} s; the limit is {max_seconds:.1} s")]
    TooLong {
        /// Duration found (from the container, or reached while decoding).
        seconds: f64,
        /// The limit.
        max_seconds: f64,
    },
    /// A frame has more pixels than [`crate::Limits::max_pixels`].
    #[error("the video's frames are {width}x{height} pixels; the limit is {max_pixels} pixels")]
    FrameTooLarge {
        /// Frame width.
        width: u64,
        /// Frame height.
        height: u64,
        /// The limit on width x height.
        max_pixels: u64,
    },
    /// The video has more frames than [`crate::Limits::max_frames`].
    #[error("the video has {frames} frames; the limit is {max_frames}")]
    TooManyFrames {
        /// Frames found (from the container, an estimate from duration x frame rate, or the
        /// count reached while decoding).
        frames: u64,
        /// The limit.
        max_frames: u64,
    },
    /// ffmpeg or ffprobe ran past the configured deadline and was stopped.
    #[error("{stage} took longer than {seconds:.1} s and was stopped")]
    Timeout {
        /// `"probing the video"`, `"decoding the video"` or `"waiting for the next frame"`.
        stage: &'static str,
        /// The deadline.
        seconds: f64,
    },
    /// A configuration value is out of range.
    #[error("invalid video configuration: {field}: {reason}")]
    Config {
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// ffmpeg produced output this crate cannot read (a bug or an unexpected ffmpeg version).
    #[error("unexpected output from ffmpeg: {reason}")]
    Protocol {
        /// What was unexpected.
        reason: String,
    },
}
