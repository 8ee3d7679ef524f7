//! End-to-end tests with the real ffmpeg: small videos are generated at test time (synthetic
//! scenes encoded to MP4/H.264 and WebM/VP9/VP8, a re-encode at another size and bitrate, an
//! excerpt, and a clip with a segment of another spliced in), then probed, decoded, hashed
//! and matched; and broken, foreign and oversized files are refused with the right error.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use shopshield_media::{
    Container, FrameHasher, Limits, MediaError, StreamConfig, StreamFormat, VideoConfig,
    hash_video, open_stream, open_video, probe,
};
use shopshield_vpdq::{FrameHash, MatchConfig, VideoBank, compare};

const W: usize = 160;
const H: usize = 120;
const FPS: usize = 25;

/// A deterministic xorshift generator.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn unit(&mut self) -> f32 {
        (self.next() % 10_000) as f32 / 10_000.0
    }
}

/// One scene: a smooth random pattern (three plane waves of one to four cycles) with three
/// solid rectangles, in random colours. Scenes from different seeds are unrelated images.
fn scene(seed: u64) -> Vec<u8> {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut img = vec![0f32; W * H * 3];
    for _ in 0..3 {
        let fx = (1.0 + 3.0 * rng.unit()) * std::f32::consts::TAU / W as f32;
        let fy = (1.0 + 3.0 * rng.unit()) * std::f32::consts::TAU / H as f32;
        let phase = rng.unit() * std::f32::consts::TAU;
        let colour = [rng.unit(), rng.unit(), rng.unit()];
        let cx: Vec<(f32, f32)> = (0..W)
            .map(|x| ((fx * x as f32).cos(), (fx * x as f32).sin()))
            .collect();
        for y in 0..H {
            let (cy, sy) = ((fy * y as f32 + phase).cos(), (fy * y as f32 + phase).sin());
            for (x, (c, s)) in cx.iter().enumerate() {
                let v = 50.0 * (c * cy - s * sy);
                for ch in 0..3 {
                    img[(y * W + x) * 3 + ch] += v * colour[ch];
                }
            }
        }
    }
    for _ in 0..3 {
        let (x0, y0) = (
            (rng.next() % W as u64) as usize,
            (rng.next() % H as u64) as usize,
        );
        let (w, h) = (
            20 + (rng.next() % 50) as usize,
            15 + (rng.next() % 40) as usize,
        );
        let colour = [rng.unit() * 255.0, rng.unit() * 255.0, rng.unit() * 255.0];
        for y in y0..(y0 + h).min(H) {
            for x in x0..(x0 + w).min(W) {
                for ch in 0..3 {
                    img[(y * W + x) * 3 + ch] = colour[ch] - 128.0;
                }
            }
        }
    }
    img.iter()
        .map(|v| (128.0 + v).clamp(0.0, 255.0) as u8)
        .collect()
}

/// Raw RGB frames: one scene per second, each drifting one pixel to the right every five
/// frames (so frames within a second differ a little).
fn raw_video(seed: u64, seconds: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(seconds * FPS * W * H * 3);
    for s in 0..seconds {
        let img = scene(seed * 1000 + s as u64);
        for f in 0..FPS {
            let dx = f / 5;
            for row in img.chunks_exact(W * 3) {
                // The row shifted right by dx pixels, repeating the first pixel.
                for _ in 0..dx {
                    out.extend_from_slice(&row[..3]);
                }
                out.extend_from_slice(&row[..(W - dx) * 3]);
            }
        }
    }
    out
}

fn ffmpeg(args: &[&str], stdin: Option<&[u8]>) {
    let mut child = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .spawn()
        .expect("ffmpeg must be installed for these tests (scripts/test installs it)");
    if let (Some(data), Some(mut sink)) = (stdin, child.stdin.take()) {
        sink.write_all(data).unwrap();
    }
    assert!(child.wait().unwrap().success(), "ffmpeg {args:?} failed");
}

fn encode_raw(raw: &[u8], out: &Path, codec_args: &[&str]) {
    let size = format!("{W}x{H}");
    let fps = FPS.to_string();
    let mut args = vec![
        "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", &size, "-r", &fps, "-i", "-",
    ];
    args.extend_from_slice(codec_args);
    args.push(out.to_str().unwrap());
    ffmpeg(&args, Some(raw));
}

const H264: &[&str] = &[
    "-c:v",
    "libx264",
    "-preset",
    "ultrafast",
    "-crf",
    "18",
    "-pix_fmt",
    "yuv420p",
];
const VP9: &[&str] = &[
    "-c:v",
    "libvpx-vp9",
    "-deadline",
    "realtime",
    "-cpu-used",
    "8",
    "-b:v",
    "800k",
    "-pix_fmt",
    "yuv420p",
    "-threads",
    "1",
];
// libvpx's own threading is very slow on a busy machine (9 s for this clip); with one
// thread it takes a fraction of a second.
const VP8: &[&str] = &[
    "-c:v",
    "libvpx",
    "-deadline",
    "realtime",
    "-cpu-used",
    "8",
    "-b:v",
    "800k",
    "-threads",
    "1",
];

struct Fixtures {
    dir: PathBuf,
}

impl Fixtures {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// Generates the test videos once per test run.
fn fixtures() -> &'static Fixtures {
    static F: OnceLock<Fixtures> = OnceLock::new();
    F.get_or_init(|| {
        // Regenerated on every run (the generator is part of the test).
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("media-fixtures");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let p = |n: &str| dir.join(n);
        let a = raw_video(1, 6);
        let b = raw_video(2, 8);
        encode_raw(&a, &p("a.mp4"), H264);
        encode_raw(&a, &p("a_vp9.webm"), VP9);
        encode_raw(&b, &p("b.mp4"), H264);
        encode_raw(&b, &p("b_vp8.webm"), VP8);
        let s = |x: &Path| x.to_str().unwrap().to_string();
        // A re-encoded at twice the size and a low bitrate.
        ffmpeg(
            &[
                "-i",
                &s(&p("a.mp4")),
                "-vf",
                "scale=320:240",
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-b:v",
                "150k",
                &s(&p("a_big_lowrate.mp4")),
            ],
            None,
        );
        // Seconds 1-4 of A on their own.
        ffmpeg(
            &[
                "-i",
                &s(&p("a.mp4")),
                "-vf",
                "trim=1:4,setpts=PTS-STARTPTS",
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                &s(&p("a_excerpt.mp4")),
            ],
            None,
        );
        // B's first 3 s, then A's seconds 1-4, then the rest of B: 11 s.
        ffmpeg(
            &[
                "-i",
                &s(&p("b.mp4")),
                "-i",
                &s(&p("a.mp4")),
                "-filter_complex",
                "[0:v]trim=0:3,setpts=PTS-STARTPTS[b1];[1:v]trim=1:4,setpts=PTS-STARTPTS[a];\
                 [0:v]trim=3:8,setpts=PTS-STARTPTS[b2];[b1][a][b2]concat=n=3:v=1[out]",
                "-map",
                "[out]",
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-crf",
                "20",
                &s(&p("spliced.mp4")),
            ],
            None,
        );
        // Audio only, in an MP4.
        ffmpeg(
            &[
                "-f",
                "lavfi",
                "-i",
                "sine=frequency=440:duration=1",
                "-c:a",
                "aac",
                &s(&p("audio.mp4")),
            ],
            None,
        );
        // The first half of A (its index comes last, so it is lost).
        let bytes = std::fs::read(p("a.mp4")).unwrap();
        std::fs::write(p("truncated.mp4"), &bytes[..bytes.len() / 2]).unwrap();
        // A valid MP4 header followed by noise.
        let mut garbage = bytes[..32].to_vec();
        let mut rng = Rng(7);
        garbage.extend((0..20_000).map(|_| rng.next() as u8));
        std::fs::write(p("garbage.mp4"), garbage).unwrap();
        // A with bytes flipped all through its frames; A's WebM cut in half.
        let mut flipped = bytes.clone();
        let mut rng = Rng(11);
        for _ in 0..200 {
            let j = 2000 + (rng.next() as usize) % (flipped.len() - 4000);
            flipped[j] ^= 0xff;
        }
        std::fs::write(p("flipped.mp4"), flipped).unwrap();
        let webm = std::fs::read(p("a_vp9.webm")).unwrap();
        std::fs::write(p("truncated.webm"), &webm[..webm.len() / 2]).unwrap();
        std::fs::write(p("notes.mp4"), b"just some text, not a video\n").unwrap();
        std::fs::write(p("empty.webm"), b"").unwrap();
        Fixtures { dir }
    })
}

/// The file's frame hashes at the default rate (each file decoded once per run).
fn hashes(name: &str) -> Vec<FrameHash> {
    static MEMO: OnceLock<Mutex<HashMap<String, Vec<FrameHash>>>> = OnceLock::new();
    let memo = MEMO.get_or_init(Default::default);
    if let Some(h) = memo.lock().unwrap().get(name) {
        return h.clone();
    }
    let h = hash_video(&fixtures().path(name), &VideoConfig::default())
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .frames;
    memo.lock().unwrap().insert(name.to_string(), h.clone());
    h
}

fn cfg() -> MatchConfig {
    MatchConfig::default()
}

#[test]
fn probes_mp4_and_webm() {
    let f = fixtures();
    let cfg = VideoConfig::default();
    let mp4 = probe(&f.path("a.mp4"), &cfg).unwrap();
    assert_eq!(mp4.container, Container::Mp4);
    assert_eq!(
        (mp4.width, mp4.height, mp4.codec.as_str()),
        (160, 120, "h264")
    );
    assert_eq!(mp4.frame_rate, 25.0);
    assert_eq!((mp4.frame_count, mp4.frame_count_exact), (150, true));
    assert!((mp4.duration_seconds.unwrap() - 6.0).abs() < 0.05);
    let vp9 = probe(&f.path("a_vp9.webm"), &cfg).unwrap();
    assert_eq!(vp9.container, Container::WebM);
    assert_eq!(vp9.codec, "vp9");
    assert_eq!(vp9.frame_count, 150, "estimated from duration x rate");
    let vp8 = probe(&f.path("b_vp8.webm"), &cfg).unwrap();
    assert_eq!((vp8.codec.as_str(), vp8.width), ("vp8", 160));
}

#[test]
fn hashes_one_frame_per_second_with_meta_numbering() {
    let frames = hashes("a.mp4");
    let numbers: Vec<u64> = frames.iter().map(|f| f.frame_number).collect();
    assert_eq!(numbers, [0, 25, 50, 75, 100, 125]);
    let times: Vec<f64> = frames.iter().map(|f| f.timestamp).collect();
    assert_eq!(times, [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
    assert!(frames.iter().all(|f| f.quality >= 50), "{frames:?}");
    // Every scene is a different image.
    for (i, a) in frames.iter().enumerate() {
        for b in &frames[i + 1..] {
            assert!(
                a.hash.distance(&b.hash) > 64,
                "{} vs {}",
                a.frame_number,
                b.frame_number
            );
        }
    }
    // Half-second sampling: every 12th frame.
    let half = VideoConfig {
        seconds_per_hash: 0.5,
        ..VideoConfig::default()
    };
    let f = hash_video(&fixtures().path("a.mp4"), &half).unwrap().frames;
    assert_eq!(f.len(), 13);
    // Meta computes the timestamp in float32: 12 / 25 is 0.47999998927116394.
    assert_eq!(
        (f[1].frame_number, f[1].timestamp),
        (12, f64::from(12f32 / 25f32))
    );
    assert_eq!(f[1].to_line().rsplit(',').next(), Some("0.480"));
}

#[test]
fn the_same_video_in_webm_matches_the_mp4() {
    let mp4 = hashes("a.mp4");
    let webm = hashes("a_vp9.webm");
    assert_eq!(mp4.len(), webm.len());
    for (a, b) in mp4.iter().zip(&webm) {
        assert_eq!(a.frame_number, b.frame_number);
        assert!(
            a.hash.distance(&b.hash) <= 31,
            "frame {}: {}",
            a.frame_number,
            a.hash.distance(&b.hash)
        );
    }
    let m = compare(&webm, &mp4, &cfg()).unwrap();
    assert_eq!(
        (m.query_match_percent, m.compared_match_percent),
        (100.0, 100.0)
    );
    assert!(m.is_match);
    let m = compare(&hashes("b_vp8.webm"), &hashes("b.mp4"), &cfg()).unwrap();
    assert!(m.is_match && m.query_match_percent == 100.0);
}

#[test]
fn a_reencode_at_another_size_and_bitrate_matches() {
    let m = compare(&hashes("a_big_lowrate.mp4"), &hashes("a.mp4"), &cfg()).unwrap();
    assert!(m.is_match, "{m:?}");
    assert_eq!(m.query_match_percent, 100.0);
    assert_eq!(m.query_ranges.len(), 1);
    assert_eq!(
        (
            m.query_ranges[0].start_seconds,
            m.query_ranges[0].end_seconds
        ),
        (0.0, 5.0)
    );
}

#[test]
fn unrelated_videos_do_not_match() {
    let m = compare(&hashes("b.mp4"), &hashes("a.mp4"), &cfg()).unwrap();
    assert_eq!((m.query_matched_frames, m.compared_matched_frames), (0, 0));
    assert!(!m.is_match);
    assert!(m.min_distance.is_none());
}

#[test]
fn an_excerpt_matches_with_the_default_thresholds_and_names_the_time() {
    let a = hashes("a.mp4");
    let excerpt = hashes("a_excerpt.mp4");
    assert_eq!(excerpt.len(), 3);
    let m = compare(&excerpt, &a, &cfg()).unwrap();
    assert!(m.is_match, "{m:?}");
    assert_eq!(m.query_match_percent, 100.0);
    assert_eq!(m.compared_match_percent, 50.0);
    assert_eq!(m.compared_ranges.len(), 1);
    let r = m.compared_ranges[0];
    assert_eq!((r.start_seconds, r.end_seconds, r.frames), (1.0, 3.0, 3));
    assert_eq!(r.describe(), "0:01.000-0:03.000");
}

#[test]
fn a_spliced_segment_is_found_on_both_timelines() {
    let (a, b, spliced) = (hashes("a.mp4"), hashes("b.mp4"), hashes("spliced.mp4"));
    assert_eq!(spliced.len(), 11);
    let mut bank: VideoBank<&str> = VideoBank::new(cfg()).unwrap();
    bank.insert("a", &a).unwrap();
    bank.insert("b", &b).unwrap();
    // A fills 3 of the 11 seconds: below the default 80% of the query.
    assert!(bank.search(&spliced).is_empty());
    let loose = MatchConfig {
        query_match_percent: 20.0,
        ..cfg()
    };
    let hits = bank.search_with(&spliced, &loose).unwrap();
    let keys: Vec<&str> = hits.iter().map(|h| h.key).collect();
    assert_eq!(keys, ["b", "a"]);
    let ma = &hits[1].result;
    assert_eq!(ma.query_match_percent, 3.0 * 100.0 / 11.0);
    assert_eq!(ma.compared_match_percent, 50.0);
    let spans = |rs: &[shopshield_vpdq::TimeRange]| -> Vec<(f64, f64)> {
        rs.iter()
            .map(|r| (r.start_seconds, r.end_seconds))
            .collect()
    };
    assert_eq!(spans(&ma.query_ranges), [(3.0, 5.0)]);
    assert_eq!(spans(&ma.compared_ranges), [(1.0, 3.0)]);
    assert_eq!(ma.pairs.len(), 1);
    let mb = &hits[0].result;
    assert_eq!(mb.compared_match_percent, 100.0);
    assert_eq!(spans(&mb.query_ranges), [(0.0, 2.0), (6.0, 10.0)]);
    assert_eq!(spans(&mb.compared_ranges), [(0.0, 7.0)]);
}

#[test]
fn frames_come_one_by_one_with_pixels() {
    let f = fixtures();
    let (info, mut reader) = open_video(&f.path("b.mp4"), &VideoConfig::default()).unwrap();
    assert_eq!(info.frame_count, 200);
    let first = reader.next().unwrap().unwrap();
    assert_eq!(
        (first.width, first.height, first.rgb.len()),
        (160, 120, 160 * 120 * 3)
    );
    let second = reader.next().unwrap().unwrap();
    assert_eq!(second.frame_number, 25);
    let mut hasher = FrameHasher::new();
    assert_eq!(hasher.hash(&second).unwrap(), hashes("b.mp4")[1]);
    // Dropping the reader early stops ffmpeg (the test would hang otherwise).
    drop(reader);
    // Downsampling, as Meta's downsample_width/height.
    let small = VideoConfig {
        downsample: Some((64, 48)),
        ..VideoConfig::default()
    };
    let (_, reader) = open_video(&f.path("b.mp4"), &small).unwrap();
    let frames: Vec<_> = reader.collect::<Result<_, _>>().unwrap();
    assert_eq!(frames.len(), 8);
    assert!(frames.iter().all(|f| (f.width, f.height) == (64, 48)));
}

#[test]
fn a_live_stream_is_sampled_by_time() {
    let f = fixtures();
    let file = std::fs::File::open(f.path("a_vp9.webm")).unwrap();
    let reader = open_stream(file, &StreamConfig::new(StreamFormat::WebM)).unwrap();
    let mut hasher = FrameHasher::new();
    let frames: Vec<FrameHash> = reader
        .map(|fr| hasher.hash(&fr.unwrap()).unwrap())
        .collect();
    assert_eq!(frames.len(), 6);
    assert_eq!(frames[2].timestamp, 2.0);
    let m = compare(&frames, &hashes("a.mp4"), &cfg()).unwrap();
    assert_eq!(m.query_match_percent, 100.0, "{m:?}");
    // A stream that is not what it claims to be.
    let reader = open_stream(
        std::io::Cursor::new(b"not a webm".to_vec()),
        &StreamConfig::new(StreamFormat::WebM),
    )
    .unwrap();
    let out: Vec<_> = reader.collect();
    assert!(
        matches!(out.as_slice(), [Err(MediaError::Corrupt { .. })]),
        "{out:?}"
    );
}

/// A live source that sends nothing for a while.
struct Silent(Duration);
impl std::io::Read for Silent {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        std::thread::sleep(self.0);
        Ok(0)
    }
}

#[test]
fn a_stalled_stream_times_out() {
    let cfg = StreamConfig {
        stall_timeout: Duration::from_millis(300),
        ..StreamConfig::new(StreamFormat::MpegTs)
    };
    let started = std::time::Instant::now();
    let out: Vec<_> = open_stream(Silent(Duration::from_secs(5)), &cfg)
        .unwrap()
        .collect();
    assert!(
        matches!(
            out.as_slice(),
            [Err(MediaError::Timeout {
                stage: "waiting for the next frame",
                ..
            })]
        ),
        "{out:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(4));
}

fn err(name: &str, cfg: &VideoConfig) -> MediaError {
    match hash_video(&fixtures().path(name), cfg) {
        Ok(v) => panic!("{name} hashed: {} frames", v.frames.len()),
        Err(e) => e,
    }
}

#[test]
fn broken_and_foreign_files_get_clear_errors() {
    let d = VideoConfig::default();
    let e = err("truncated.mp4", &d);
    assert!(
        matches!(&e, MediaError::Corrupt { reason } if reason.contains("moov")),
        "{e}"
    );
    assert!(
        !e.to_string().contains(fixtures().dir.to_str().unwrap()),
        "no paths: {e}"
    );
    let e = err("garbage.mp4", &d);
    assert!(matches!(e, MediaError::Corrupt { .. }), "{e}");
    assert!(e.to_string().len() < 300, "{e}");
    let e = err("flipped.mp4", &d);
    assert!(
        matches!(&e, MediaError::Corrupt { reason } if reason.starts_with("video frames are damaged")),
        "{e}"
    );
    let e = err("truncated.webm", &d);
    assert!(
        matches!(&e, MediaError::Corrupt { reason } if reason.starts_with("the file is cut short")),
        "{e}"
    );
    // Meta's behaviour on request: hash what decodes.
    let lenient = VideoConfig {
        accept_damaged: true,
        ..d.clone()
    };
    let part = hash_video(&fixtures().path("truncated.webm"), &lenient)
        .unwrap()
        .frames;
    assert!((1..6).contains(&part.len()), "{}", part.len());
    assert_eq!(part[0], hashes("a_vp9.webm")[0]);
    let e = err("notes.mp4", &d);
    assert_eq!(
        e,
        MediaError::NotVideo {
            reason: "the file is text".into()
        }
    );
    let e = err("empty.webm", &d);
    assert_eq!(
        e,
        MediaError::NotVideo {
            reason: "the file is empty".into()
        }
    );
    let e = err("audio.mp4", &d);
    assert_eq!(
        e,
        MediaError::NotVideo {
            reason: "the MP4 file has no video stream".into()
        }
    );
    let e = err("missing.mp4", &d);
    assert!(matches!(e, MediaError::Io { .. }), "{e}");
}

#[test]
fn oversized_videos_are_refused_before_decoding() {
    let d = VideoConfig::default();
    let with = |limits: Limits| VideoConfig {
        limits,
        ..d.clone()
    };
    let l = Limits::default();
    let e = err(
        "a.mp4",
        &with(Limits {
            max_file_bytes: 1000,
            ..l
        }),
    );
    assert!(
        matches!(
            e,
            MediaError::FileTooLarge {
                max_bytes: 1000,
                ..
            }
        ),
        "{e}"
    );
    let e = err(
        "a_big_lowrate.mp4",
        &with(Limits {
            max_pixels: 160 * 120,
            ..l
        }),
    );
    assert_eq!(
        e,
        MediaError::FrameTooLarge {
            width: 320,
            height: 240,
            max_pixels: 19_200
        }
    );
    let e = err(
        "spliced.mp4",
        &with(Limits {
            max_duration_seconds: 10.0,
            ..l
        }),
    );
    assert!(
        matches!(e, MediaError::TooLong { seconds, .. } if (seconds - 11.0).abs() < 0.1),
        "{e}"
    );
    let e = err(
        "a.mp4",
        &with(Limits {
            max_frames: 100,
            ..l
        }),
    );
    assert_eq!(
        e,
        MediaError::TooManyFrames {
            frames: 150,
            max_frames: 100
        }
    );
    assert!(e.to_string().contains("150 frames"));
}

#[test]
fn timeouts_and_a_missing_ffmpeg() {
    let slow = VideoConfig {
        timeout: Duration::from_millis(1),
        ..VideoConfig::default()
    };
    let e = err("b.mp4", &slow);
    assert!(
        matches!(
            e,
            MediaError::Timeout {
                stage: "decoding the video",
                ..
            }
        ),
        "{e}"
    );
    let missing = VideoConfig {
        ffprobe: "/nonexistent/ffprobe".into(),
        ..VideoConfig::default()
    };
    let e = err("a.mp4", &missing);
    assert!(
        matches!(
            e,
            MediaError::FfmpegMissing {
                program: "ffprobe",
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("install the ffmpeg package"));
    let missing = VideoConfig {
        ffmpeg: "/nonexistent/ffmpeg".into(),
        ..VideoConfig::default()
    };
    let e = err("a.mp4", &missing);
    assert!(
        matches!(
            e,
            MediaError::FfmpegMissing {
                program: "ffmpeg",
                ..
            }
        ),
        "{e}"
    );
    let bad = VideoConfig {
        seconds_per_hash: -1.0,
        ..VideoConfig::default()
    };
    assert!(matches!(
        err("a.mp4", &bad),
        MediaError::Config {
            field: "seconds_per_hash",
            ..
        }
    ));
}
