//! Decode + hash throughput on this machine: a 10-second 1280x720 H.264 clip at 30 fps
//! (generated with ffmpeg when the bench starts), hashed at one frame per second and at every
//! frame, and decoded at every frame without hashing (to separate ffmpeg's share).
//! Throughput is in sampled frames per second.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use shopshield_media::{VideoConfig, hash_video, open_video};

fn clip() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("shopshield-media-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("hd720-10s.mp4");
    let ok = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi"])
        .args(["-i", "testsrc2=s=1280x720:r=30:d=10"])
        .args([
            "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
        ])
        .arg(&path)
        .status()
        .expect("ffmpeg must be installed");
    assert!(ok.success());
    path
}

fn throughput(c: &mut Criterion) {
    let path = clip();
    let mut g = c.benchmark_group("decode_hash_720p_h264");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    for (name, rate, frames) in [("1fps", 1.0, 10u64), ("every_frame", 0.0, 300)] {
        let cfg = VideoConfig {
            seconds_per_hash: rate,
            ..VideoConfig::default()
        };
        assert_eq!(hash_video(&path, &cfg).unwrap().frames.len() as u64, frames);
        g.throughput(Throughput::Elements(frames));
        g.bench_function(format!("hash_{name}"), |b| {
            b.iter(|| hash_video(&path, &cfg).unwrap())
        });
    }
    let every = VideoConfig {
        seconds_per_hash: 0.0,
        ..VideoConfig::default()
    };
    g.throughput(Throughput::Elements(300));
    g.bench_function("decode_only_every_frame", |b| {
        b.iter(|| {
            let (_, reader) = open_video(&path, &every).unwrap();
            reader.map(|f| f.unwrap().rgb.len()).sum::<usize>()
        })
    });
    g.finish();
    if let Some(dir) = path.parent() {
        let _ = std::fs::remove_dir_all(dir);
    }
}

criterion_group!(benches, throughput);
criterion_main!(benches);
