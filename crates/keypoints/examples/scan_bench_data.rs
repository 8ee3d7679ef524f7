//! Writes the input of the whole-process benchmark (`bench/images/scan.sh`): a rights file of
//! N distinct logos and a listings file of image listings.
//!
//! Logos: the simple-icons SVGs rendered black on white (256 px), then, to reach N distinct
//! artworks deterministically, "lockups" of two different icons side by side (icon `i` with
//! icon `(i * 7 + k) mod n`), as brands combine marks; each file is a distinct artwork.
//! Listings: photos (product cut-outs enlarged to 800 px on the longer side, landscape
//! photos brought down to 1024 px), one image each, JPEG q85; every fifth shows one of the
//! registered logos as a label at 30% of its shorter side. Titles are ordinary product words.
//!
//! ```text
//! scan_bench_data --icons DIR --photos DIR... --out DIR [--logos N] [--listings N]
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};

use image::{ImageFormat, RgbImage, imageops};
use shopshield_pdq::eval::EvalImage;
use shopshield_pdq::{DecodeOptions, decode};

#[path = "../../pdq/examples/common/mod.rs"]
mod common;
use common::render_svg;

fn photos_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p
                .extension()
                .is_some_and(|x| x == "png" || x == "jpg" || x == "jpeg")
                && !p.to_string_lossy().contains("_mirror.")
            {
                out.push(p);
            }
        }
    }
}

fn to_img(e: &EvalImage) -> RgbImage {
    RgbImage::from_raw(e.width as u32, e.height as u32, e.rgb.clone())
        .unwrap_or_else(|| RgbImage::new(1, 1))
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mut icons, mut photo_dirs, mut out) = (None, Vec::new(), None);
    let (mut n_logos, mut n_listings) = (10_000usize, 573usize);
    let mut i = 0;
    while i < args.len() {
        let v = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--icons" => icons = Some(PathBuf::from(v)),
            "--photos" => photo_dirs.push(PathBuf::from(v)),
            "--out" => out = Some(PathBuf::from(v)),
            "--logos" => n_logos = v.parse().unwrap_or(n_logos),
            "--listings" => n_listings = v.parse().unwrap_or(n_listings),
            other => {
                eprintln!("unknown argument {other}");
                std::process::exit(2);
            }
        }
        i += 2;
    }
    let (Some(icons), Some(out)) = (icons, out) else {
        eprintln!("usage: scan_bench_data --icons DIR --photos DIR... --out DIR");
        std::process::exit(2);
    };
    std::fs::create_dir_all(out.join("logos"))?;
    std::fs::create_dir_all(out.join("img"))?;
    let mut svgs: Vec<PathBuf> = std::fs::read_dir(&icons)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "svg"))
        .collect();
    svgs.sort();
    let icons: Vec<EvalImage> = svgs.iter().filter_map(|p| render_svg(p, 256)).collect();
    let n = icons.len();
    let mut rights = std::io::BufWriter::new(std::fs::File::create(out.join("rights.jsonl"))?);
    let mut written = 0usize;
    let mut logo_files = Vec::new();
    'outer: for round in 0.. {
        for (i, icon) in icons.iter().enumerate() {
            if written == n_logos {
                break 'outer;
            }
            let (name, img) = if round == 0 {
                (icon.name.clone(), to_img(icon))
            } else {
                // A lockup: this icon and another, side by side on one 512x256 canvas.
                let j = (i * 7 + round) % n;
                if j == i {
                    continue;
                }
                let mut canvas = RgbImage::from_pixel(512, 256, image::Rgb([255, 255, 255]));
                imageops::replace(&mut canvas, &to_img(icon), 0, 0);
                imageops::replace(&mut canvas, &to_img(&icons[j]), 256, 0);
                (format!("{}+{}", icon.name, icons[j].name), canvas)
            };
            let file = format!("logos/{written:05}.png");
            img.save_with_format(out.join(&file), ImageFormat::Png)
                .map_err(std::io::Error::other)?;
            writeln!(
                rights,
                "{}",
                serde_json::json!({
                    "id": format!("r-logo-{written:05}"),
                    "holder": format!("holder of {name}"),
                    "kind": "logo",
                    "image": file,
                    "regions": ["*"],
                })
            )?;
            logo_files.push(file);
            written += 1;
        }
        if round > n {
            break;
        }
    }
    rights.flush()?;
    let mut paths = Vec::new();
    for d in &photo_dirs {
        photos_under(d, &mut paths);
    }
    paths.sort();
    let mut listings = std::io::BufWriter::new(std::fs::File::create(out.join("listings.jsonl"))?);
    let words = [
        "cotton tee",
        "ceramic mug",
        "garden hose",
        "toy car",
        "wall clock",
        "desk lamp",
        "phone case",
        "water bottle",
        "wool scarf",
        "picture frame",
    ];
    let mut made = 0usize;
    let step = (paths.len() / n_listings.max(1)).max(1);
    for (k, p) in paths.iter().cycle().step_by(step).enumerate() {
        if made == n_listings || k > 10 * n_listings {
            break;
        }
        let Ok(bytes) = std::fs::read(p) else {
            continue;
        };
        let Ok(d) = decode(&bytes, &DecodeOptions::default()) else {
            continue;
        };
        let Some(mut img) = RgbImage::from_raw(d.width as u32, d.height as u32, d.rgb) else {
            continue;
        };
        let longer = img.width().max(img.height());
        let target = if longer < 800 { 800 } else { longer.min(1024) };
        if target != longer {
            let (w, h) = (
                img.width() * target / longer,
                img.height() * target / longer,
            );
            img = imageops::resize(&img, w, h, imageops::FilterType::Triangle);
        }
        if made.is_multiple_of(5) && !logo_files.is_empty() {
            let logo = image::open(out.join(&logo_files[(made * 37) % logo_files.len()]))
                .map_err(std::io::Error::other)?
                .to_rgb8();
            let side = img.width().min(img.height()) * 30 / 100;
            let (lw, lh) = (side, (side * logo.height() / logo.width().max(1)).max(1));
            let small = imageops::resize(&logo, lw, lh, imageops::FilterType::Triangle);
            let (x, y) = (i64::from(img.width() / 4), i64::from(img.height() / 3));
            imageops::replace(&mut img, &small, x, y);
        }
        let file = format!("img/{made:05}.jpg");
        let mut buf = Vec::new();
        img.write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
            &mut buf, 85,
        ))
        .map_err(std::io::Error::other)?;
        std::fs::write(out.join(&file), buf)?;
        writeln!(
            listings,
            "{}",
            serde_json::json!({
                "id": format!("l-{made:05}"),
                "shop_id": format!("shop-{}", made % 40),
                "region": "US",
                "category": "apparel/accessories",
                "title": format!("{} no. {made}", words[made % words.len()]),
                "images": [file],
            })
        )?;
        made += 1;
    }
    listings.flush()?;
    eprintln!(
        "wrote {written} logos and {made} listings to {}",
        out.display()
    );
    Ok(())
}
