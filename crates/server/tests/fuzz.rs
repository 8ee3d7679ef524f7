//! A mutation fuzzer on stable Rust over the three parsers that take bytes
//! from outside: the JSON intake (listings and rights, single documents
//! and JSONL), the text normaliser, and the image decoder (with its header
//! probe). It starts from valid seeds, mutates them (bit flips, byte
//! inserts and deletes, interesting values, splices of two inputs,
//! truncation) and checks that nothing panics and that the outputs keep
//! their invariants.
//!
//! Bounded in time: `SHOPSHIELD_FUZZ_SECONDS` per target (default 8), so
//! CI spends about 25 s here. The seed of the run is printed; a failing
//! input is written to `target/fuzz-failures/` and the test fails.
//! `SHOPSHIELD_FUZZ_SEED=N` replays a run.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use shopshield_intake::{JsonlReader, parse_json};
use shopshield_model::{Listing, NewRight};
use shopshield_pdq::DecodeOptions;

fn budget() -> Duration {
    let secs = std::env::var("SHOPSHIELD_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(8.0);
    Duration::from_secs_f64(secs.clamp(0.1, 600.0))
}

fn seed() -> u64 {
    std::env::var("SHOPSHIELD_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        })
}

const INTERESTING: [&[u8]; 14] = [
    b"\x00",
    b"\xff",
    b"\xff\xff\xff\x7f",
    b"\x80\x00\x00\x00",
    b"\"",
    b"\\u0000",
    b"\\ud800",
    b"1e999",
    b"-0",
    b"[[[[[[[[[[[[[[[[",
    b"{\"a\":",
    "\u{202e}".as_bytes(),
    "\u{200d}".as_bytes(),
    "ｎｉｋｅ".as_bytes(),
];

/// One mutation of `input`, drawing on `pool` for splices.
fn mutate(rng: &mut StdRng, input: &[u8], pool: &[Vec<u8>]) -> Vec<u8> {
    let mut out = input.to_vec();
    let rounds = rng.random_range(1..=4);
    for _ in 0..rounds {
        let len = out.len();
        match rng.random_range(0..7) {
            0 if len > 0 => {
                let i = rng.random_range(0..len);
                out[i] ^= 1 << rng.random_range(0..8);
            }
            1 if len > 0 => {
                let i = rng.random_range(0..len);
                out[i] = rng.random();
            }
            2 => {
                let i = rng.random_range(0..=len);
                let b = INTERESTING[rng.random_range(0..INTERESTING.len())];
                out.splice(i..i, b.iter().copied());
            }
            3 if len > 0 => {
                let i = rng.random_range(0..len);
                let n = rng.random_range(1..=(len - i).min(64));
                out.drain(i..i + n);
            }
            4 if len > 0 => {
                out.truncate(rng.random_range(0..len));
            }
            5 if !pool.is_empty() => {
                let other = &pool[rng.random_range(0..pool.len())];
                if !other.is_empty() {
                    let a = rng.random_range(0..other.len());
                    let b = rng.random_range(a..=other.len());
                    let i = rng.random_range(0..=out.len());
                    out.splice(i..i, other[a..b].iter().copied());
                }
            }
            _ if len > 1 => {
                // Copy a run within the input (repeats headers, lengths).
                let a = rng.random_range(0..len);
                let b = rng.random_range(a..=len.min(a + 32));
                let run = out[a..b].to_vec();
                let i = rng.random_range(0..=out.len());
                out.splice(i..i, run);
            }
            _ => out.push(rng.random()),
        }
    }
    out.truncate(1 << 20);
    out
}

/// Runs `check` on mutations of the seeds for the time budget. Returns the
/// number of inputs tried; fails the test on a panic or a broken invariant.
fn fuzz(name: &str, seeds: Vec<Vec<u8>>, check: impl Fn(&[u8]) -> Result<(), String>) -> u64 {
    let seed = seed();
    eprintln!("fuzz {name}: seed {seed}");
    let mut rng = StdRng::seed_from_u64(seed);
    let mut pool = seeds.clone();
    let end = Instant::now() + budget();
    let mut tried = 0u64;
    let fail = |input: &[u8], why: String, tried: u64| -> ! {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/fuzz-failures");
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join(format!("{name}-{seed}-{tried}.bin"));
        let _ = std::fs::write(&path, input);
        panic!(
            "fuzz {name}: {why}; input written to {} (seed {seed})",
            path.display()
        );
    };
    // The seeds themselves first.
    for s in &seeds {
        match catch_unwind(AssertUnwindSafe(|| check(s))) {
            Ok(Ok(())) => {}
            Ok(Err(why)) => fail(s, why, 0),
            Err(_) => fail(s, "panicked on a seed".into(), 0),
        }
    }
    while Instant::now() < end {
        let base = &pool[rng.random_range(0..pool.len())];
        let input = mutate(&mut rng, base, &seeds);
        match catch_unwind(AssertUnwindSafe(|| check(&input))) {
            Ok(Ok(())) => {}
            Ok(Err(why)) => fail(&input, why, tried),
            Err(_) => fail(&input, "panicked".into(), tried),
        }
        tried += 1;
        // Keep some mutants as new bases, so mutations compound.
        if rng.random_range(0..16) == 0 {
            if pool.len() < 256 {
                pool.push(input);
            } else {
                let i = rng.random_range(seeds.len()..pool.len());
                pool[i] = input;
            }
        }
    }
    eprintln!("fuzz {name}: {tried} inputs, no failure");
    tried
}

#[test]
fn json_intake() {
    let seeds: Vec<Vec<u8>> = [
        r#"{"id":"l-1","shop_id":"shop-9","creator_id":"c-3","region":"US","category":"apparel/shoes","title":"Air Max 90 sneakers","description":"...","brand":"Nike","price":{"amount":19.99,"currency":"USD"},"images":["data:image/png;base64,iVBORw0KGgo="],"sku":"X1","meta":{"a":[1,2,{"b":null}]}}"#,
        r#"{"id":"r-1","holder":"nike","kind":"trademark","mark":"NIKE","nice_classes":[25],"regions":["*"],"price_floor":{"amount":60,"currency":"USD"}}"#,
        "{\"id\":\"a\"}\n{\"id\":\"b\",\"shop_id\":\"s\",\"region\":\"ID\",\"category\":\"x\",\"title\":\"t\"}\n\n",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    let n = fuzz("json", seeds, |bytes| {
        if let Ok(l) = parse_json::<Listing>(bytes) {
            // A listing that passes validation serialises and hashes.
            if l.validate().is_ok() {
                let again = serde_json::to_vec(&l).map_err(|e| e.to_string())?;
                let back: Listing = serde_json::from_slice(&again).map_err(|e| e.to_string())?;
                if back.content_hash() != l.content_hash() {
                    return Err("content hash changed over a round trip".into());
                }
            }
        }
        if let Ok(r) = parse_json::<NewRight>(bytes) {
            let _ = r.validate();
        }
        for line in JsonlReader::<_, Listing>::new(bytes) {
            if let Err(e) = &line.value {
                let msg = e.to_string();
                if msg.len() > 2_000 {
                    return Err(format!("an error message of {} bytes", msg.len()));
                }
            }
        }
        Ok(())
    });
    assert!(n > 0);
}

#[test]
fn text_normaliser() {
    let seeds: Vec<Vec<u8>> = [
        "Nike Air Max 90",
        "N1KE   ＡＩＲ jordan\u{200b}s — 100% authentic!!",
        "Ｎｉｋｅ运动鞋 NikeT恤 ایران",
        "ɴɪᴋᴇ 𝐍𝐈𝐊𝐄 \u{0301}e\u{0301} Cafe\u{0301}",
        "G.U.C.C.I l0u1s v@itton $upreme",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    let n = fuzz("text", seeds, |bytes| {
        let input = String::from_utf8_lossy(bytes);
        let out = shopshield_text::normalize(&input);
        let text = out.text();
        if text.starts_with(' ') || text.ends_with(' ') || text.contains("  ") {
            return Err(format!("badly spaced output {text:?}"));
        }
        if out.original_len() != input.len() {
            return Err("original length differs".into());
        }
        if !text.is_empty() {
            let span = out.original_span(0..text.len());
            if span.start > span.end || span.end > input.len() {
                return Err(format!("span {span:?} outside the input"));
            }
        }
        let again = shopshield_text::normalize(text);
        if again.text() != shopshield_text::normalize(text).text() {
            return Err("normalising is not deterministic".into());
        }
        Ok(())
    });
    assert!(n > 0);
}

fn encoded(format: image::ImageFormat, w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x * 9) as u8, (y * 5) as u8, ((x + y) * 3) as u8])
    });
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut std::io::Cursor::new(&mut out), format)
        .unwrap_or_else(|e| panic!("cannot encode a {format:?} seed: {e}"));
    out
}

#[test]
fn image_decoder() {
    use image::ImageFormat as F;
    let seeds = vec![
        encoded(F::Png, 24, 16),
        encoded(F::Jpeg, 24, 16),
        encoded(F::Gif, 12, 12),
        encoded(F::Bmp, 8, 8),
        encoded(F::Tiff, 8, 8),
        encoded(F::WebP, 16, 16),
    ];
    // Small limits: a mutated header claiming a huge image must be refused
    // before decoding, not allocate.
    let opts = DecodeOptions {
        max_bytes: 1 << 20,
        max_pixels: 1 << 20,
        max_dimension: 4096,
        max_alloc: 64 << 20,
        alpha_over_white: true,
    };
    let n = fuzz("image", seeds, |bytes| {
        let probed = shopshield_pdq::probe(bytes, &opts);
        match shopshield_pdq::decode(bytes, &opts) {
            Ok(img) => {
                if img.rgb.len() != img.width * img.height * 3 {
                    return Err("pixel buffer of the wrong size".into());
                }
                if (img.width * img.height) as u64 > opts.max_pixels {
                    return Err("decoded beyond the pixel limit".into());
                }
                if probed.is_err() {
                    return Err("decoded an image whose header the probe refused".into());
                }
            }
            Err(e) => {
                let msg = e.to_string();
                if msg.contains("Format error") || msg.contains("chunk") || msg.len() > 300 {
                    return Err(format!("decoder internals in the message: {msg}"));
                }
            }
        }
        Ok(())
    });
    assert!(n > 0);
}
