//! `shopshield demo --no-serve` as the README's quick start runs it: the
//! counts the README states, the videos' and the livestream's decisions,
//! and a second run that answers the stored decisions (the stopped stream
//! stays stopped). ffmpeg is installed by `scripts/test`, so the MP4 video
//! is decoded here.

use std::path::Path;
use std::process::Command;

fn demo(data: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_shopshield"))
        .env_remove("SHOPSHIELD_DATA")
        .env_remove("SHOPSHIELD_CONFIG")
        .env_remove("SHOPSHIELD_STORE")
        .arg("--data")
        .arg(data)
        .args(["demo", "--no-serve"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn line<'a>(out: &'a str, start: &str) -> &'a str {
    out.lines()
        .find(|l| l.starts_with(start))
        .unwrap_or_else(|| panic!("no line starting {start:?} in:\n{out}"))
}

#[test]
fn the_demo_prints_what_the_readme_says_and_a_second_run_answers_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = demo(&data);
    assert!(
        out.contains("45 listings: 20 approved, 9 to review, 16 rejected."),
        "{out}"
    );
    assert!(
        out.contains("3 videos: 1 approved, 1 to review, 1 rejected."),
        "{out}"
    );
    assert!(line(&out, "vid-001").contains("approve"));
    let reupload = line(&out, "vid-002");
    assert!(reupload.contains("REJECT") && reupload.contains("r-fractal-clip"));
    assert!(
        reupload.contains("00:00:04–00:00:15 of the clip"),
        "{reupload}"
    );
    let logo = line(&out, "vid-003");
    assert!(
        logo.contains("review") && logo.contains("r-puma-logo"),
        "{logo}"
    );
    assert!(logo.contains("The frame at 00:00:03"), "{logo}");
    // The stream: honest until minute two, warned twice, stopped at 02:12.
    let actions: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("  -> "))
        .map(|l| l.split("  -> ").nth(1).unwrap())
        .collect();
    assert_eq!(actions.len(), 8, "{out}");
    assert!(actions[..5].iter().all(|a| *a == "continue"), "{actions:?}");
    assert!(actions[5].starts_with("WARN") && actions[6].starts_with("WARN"));
    assert!(actions[7].starts_with("STOP"), "{actions:?}");
    assert!(line(&out, "  02:12").contains("STOP"));
    assert!(
        out.contains("decision stream:live-001@v1 recorded against creator-sam"),
        "{out}"
    );
    // The same data again: stored decisions, and the stream stays stopped.
    let again = demo(&data);
    assert!(
        again.contains("45 listings: 20 approved, 9 to review, 16 rejected."),
        "{again}"
    );
    assert!(line(&again, "vid-002").contains("stored"), "{again}");
    assert!(
        again
            .contains("already stopped in an earlier run of the demo: decision stream:live-001@v1"),
        "{again}"
    );
}
