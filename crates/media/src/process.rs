//! Running ffmpeg and ffprobe: spawning with a clear error when they are missing, a watchdog
//! that kills the process past a total deadline or when it stalls, bounded capture of stderr,
//! and a short summary of what ffmpeg complained about.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, ChildStderr, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::error::MediaError;

/// Spawns `cmd`, mapping "not found" to [`MediaError::FfmpegMissing`].
pub(crate) fn spawn(
    mut cmd: Command,
    program: &'static str,
    path: &Path,
) -> Result<Child, MediaError> {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => {
            MediaError::FfmpegMissing {
                program,
                path: path.display().to_string(),
            }
        }
        _ => MediaError::Process {
            program,
            reason: e.to_string(),
        },
    })
}

/// Why the watchdog killed a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expiry {
    /// The whole run took longer than the deadline.
    Total(Duration),
    /// No progress for this long.
    Stall(Duration),
}

/// Kills a child process past a total deadline, or when [`Watchdog::progress`] has not been
/// called for the stall timeout. Dropping it (or [`Watchdog::finish`]) stops the thread.
pub(crate) struct Watchdog {
    child: Arc<Mutex<Child>>,
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
    start: Instant,
    last_progress_ms: Arc<AtomicU64>,
    expired: Arc<Mutex<Option<Expiry>>>,
    killed: Arc<AtomicBool>,
}

impl Watchdog {
    pub(crate) fn new(child: Child, total: Option<Duration>, stall: Option<Duration>) -> Watchdog {
        let child = Arc::new(Mutex::new(child));
        let (tx, rx) = mpsc::channel::<()>();
        let start = Instant::now();
        let last_progress_ms = Arc::new(AtomicU64::new(0));
        let expired = Arc::new(Mutex::new(None));
        let killed = Arc::new(AtomicBool::new(false));
        let thread = {
            let child = Arc::clone(&child);
            let last = Arc::clone(&last_progress_ms);
            let expired = Arc::clone(&expired);
            let killed = Arc::clone(&killed);
            std::thread::Builder::new()
                .name("ffmpeg-watchdog".into())
                .spawn(move || {
                    loop {
                        let now = start.elapsed();
                        let mut wait = Duration::from_millis(100);
                        let mut hit = None;
                        if let Some(t) = total {
                            if now >= t {
                                hit = Some(Expiry::Total(t));
                            } else {
                                wait = wait.min(t - now);
                            }
                        }
                        if let (Some(s), None) = (stall, hit) {
                            let since = Duration::from_millis(last.load(Ordering::Relaxed));
                            let idle = now.saturating_sub(since);
                            if idle >= s {
                                hit = Some(Expiry::Stall(s));
                            } else {
                                wait = wait.min(s - idle);
                            }
                        }
                        if let Some(e) = hit {
                            if let Ok(mut slot) = expired.lock() {
                                *slot = Some(e);
                            }
                            if let Ok(mut c) = child.lock() {
                                let _ = c.kill();
                            }
                            killed.store(true, Ordering::SeqCst);
                            return;
                        }
                        match rx.recv_timeout(wait.max(Duration::from_millis(1))) {
                            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
                            Err(RecvTimeoutError::Timeout) => {}
                        }
                    }
                })
                .ok()
        };
        Watchdog {
            child,
            stop: Some(tx),
            thread,
            start,
            last_progress_ms,
            expired,
            killed,
        }
    }

    /// Records progress (resets the stall timer).
    pub(crate) fn progress(&self) {
        let ms = self.start.elapsed().as_millis() as u64;
        self.last_progress_ms.store(ms, Ordering::Relaxed);
    }

    /// Why the watchdog killed the process, if it did.
    pub(crate) fn expired(&self) -> Option<Expiry> {
        if !self.killed.load(Ordering::SeqCst) {
            return None;
        }
        self.expired.lock().ok().and_then(|e| *e)
    }

    fn stop_thread(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// Waits for the process to exit (the watchdog still enforces its deadlines meanwhile),
    /// then stops the watchdog.
    pub(crate) fn finish(&mut self) -> std::io::Result<ExitStatus> {
        let status = loop {
            let polled = match self.child.lock() {
                Ok(mut c) => c.try_wait(),
                Err(_) => Err(std::io::Error::other("process lock poisoned")),
            };
            match polled {
                Ok(Some(status)) => break Ok(status),
                Ok(None) => std::thread::sleep(Duration::from_millis(2)),
                Err(e) => break Err(e),
            }
        };
        self.stop_thread();
        status
    }

    /// Kills the process (used when the reader stops early) and reaps it.
    pub(crate) fn kill(&mut self) {
        self.stop_thread();
        if let Ok(mut c) = self.child.lock() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The first lines of a process's stderr (bounded), collected on a thread.
pub(crate) struct StderrTail {
    thread: Option<JoinHandle<Vec<String>>>,
}

const STDERR_MAX_LINES: usize = 40;
const STDERR_MAX_LINE: usize = 400;

impl StderrTail {
    pub(crate) fn collect(stderr: Option<ChildStderr>) -> StderrTail {
        let thread = stderr.and_then(|s| {
            std::thread::Builder::new()
                .name("ffmpeg-stderr".into())
                .spawn(move || {
                    let mut lines = Vec::new();
                    let mut reader = BufReader::new(s);
                    let mut buf = Vec::new();
                    loop {
                        buf.clear();
                        // Bounded read of one line; the rest of an overlong line is dropped.
                        match (&mut reader).take(64 * 1024).read_until(b'\n', &mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(_) => {
                                if lines.len() < STDERR_MAX_LINES {
                                    let text = String::from_utf8_lossy(&buf);
                                    let line: String =
                                        text.trim_end().chars().take(STDERR_MAX_LINE).collect();
                                    if !line.is_empty() {
                                        lines.push(line);
                                    }
                                }
                            }
                        }
                    }
                    lines
                })
                .ok()
        });
        StderrTail { thread }
    }

    pub(crate) fn join(mut self) -> Vec<String> {
        self.thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default()
    }
}

/// Reads at most `max` bytes of `r` (the rest is drained and dropped); returns the bytes and
/// whether there was more.
pub(crate) fn read_bounded(mut r: impl Read, max: usize) -> std::io::Result<(Vec<u8>, bool)> {
    let mut out = Vec::new();
    (&mut r).take(max as u64).read_to_end(&mut out)?;
    let more = std::io::copy(&mut r, &mut std::io::sink())? > 0;
    Ok((out, more))
}

/// Known ffmpeg complaints and how to say them to a person.
const KNOWN: &[(&str, &str)] = &[
    (
        "moov atom not found",
        "the MP4 index (moov box) is missing; the file is probably cut short",
    ),
    (
        "ebml header parsing failed",
        "the WebM/Matroska header is invalid",
    ),
    (
        "invalid data found when processing input",
        "the container data is invalid",
    ),
    ("truncated", "the file is cut short"),
    ("ended prematurely", "the file is cut short"),
    (
        "error while decoding",
        "video frames are damaged and cannot be decoded",
    ),
    ("invalid nal unit", "the H.264 stream is damaged"),
    ("no frame!", "the video stream holds no decodable frame"),
    ("corrupt", "the data is corrupt"),
];

/// One short sentence from ffmpeg's stderr: a plain-language reading of the first known
/// complaint, followed by ffmpeg's own first distinct error line with the `[demuxer @ 0x...]`
/// prefix and any file path removed, cut to 160 characters.
pub(crate) fn summarize(lines: &[String], path: &Path) -> String {
    let path_text = path.display().to_string();
    let cleaned: Vec<String> = lines
        .iter()
        .map(|l| {
            let mut s = l.as_str();
            // Strip "[mov,mp4,... @ 0x55...] " prefixes.
            while s.starts_with('[') {
                match s.find("] ") {
                    Some(i) => s = &s[i + 2..],
                    None => break,
                }
            }
            let mut s = s.replace(&format!("file:{path_text}"), "the file");
            s = s.replace(&path_text, "the file");
            s.trim().to_string()
        })
        .filter(|s| !s.is_empty())
        .collect();
    let lower: Vec<String> = cleaned.iter().map(|s| s.to_lowercase()).collect();
    let plain = KNOWN
        .iter()
        .find(|(needle, _)| lower.iter().any(|l| l.contains(needle)))
        .map(|(_, text)| *text);
    let first: Option<String> = cleaned.first().map(|s| {
        let mut t: String = s.chars().take(160).collect();
        if s.chars().count() > 160 {
            t.push('…');
        }
        t
    });
    match (plain, first) {
        (Some(p), Some(f)) => format!("{p} (ffmpeg: {f})"),
        (Some(p), None) => p.to_string(),
        (None, Some(f)) => format!("ffmpeg: {f}"),
        (None, None) => "ffmpeg gave no reason".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_are_short_and_path_free() {
        let p = Path::new("/srv/uploads/x.mp4");
        let lines = vec![
            "[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55d5d6c3c2c0] moov atom not found".to_string(),
            "file:/srv/uploads/x.mp4: Invalid data found when processing input".to_string(),
        ];
        let s = summarize(&lines, p);
        assert_eq!(
            s,
            "the MP4 index (moov box) is missing; the file is probably cut short (ffmpeg: moov atom not found)"
        );
        assert!(!s.contains("/srv"));
        let long = vec!["x".repeat(1000)];
        assert!(summarize(&long, p).chars().count() < 200);
        assert_eq!(summarize(&[], p), "ffmpeg gave no reason");
    }
}
