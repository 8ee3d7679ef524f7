//! Loading evaluation inputs (shared by the robustness and logo-in-photo examples).
//! Logos: simple-icons SVGs rendered with resvg, black on white, 256x256 with a margin.
//! Photos: every JPEG/PNG in a directory.

use std::path::{Path, PathBuf};

use shopshield_pdq::eval::EvalImage;
use shopshield_pdq::{DecodeOptions, decode};

pub fn render_svg(path: &Path, size: u32) -> Option<EvalImage> {
    use resvg::{tiny_skia, usvg};
    let data = std::fs::read(path).ok()?;
    let tree = usvg::Tree::from_data(&data, &usvg::Options::default()).ok()?;
    let mut pixmap = tiny_skia::Pixmap::new(size, size)?;
    let s = tree.size();
    let content = size as f32 * 0.8;
    let scale = content / s.width().max(s.height());
    let tx = (size as f32 - s.width() * scale) / 2.0;
    let ty = (size as f32 - s.height() * scale) / 2.0;
    let transform = tiny_skia::Transform::from_row(scale, 0.0, 0.0, scale, tx, ty);
    resvg::render(&tree, transform, &mut pixmap.as_mut());
    // Premultiplied RGBA over white.
    let mut rgb = Vec::with_capacity((size * size * 3) as usize);
    for px in pixmap.data().chunks_exact(4) {
        let a = px[3];
        for c in &px[..3] {
            rgb.push(c.saturating_add(255 - a));
        }
    }
    Some(EvalImage {
        name: path.file_stem()?.to_string_lossy().into_owned(),
        width: size as usize,
        height: size as usize,
        rgb,
    })
}

#[allow(dead_code)] // not every example loads photos this way
pub fn load_photos(dir: &Path) -> Vec<EvalImage> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    paths.sort();
    paths
        .iter()
        .filter_map(|p| {
            let bytes = std::fs::read(p).ok()?;
            let img = decode(&bytes, &DecodeOptions::default()).ok()?;
            Some(EvalImage {
                name: p.file_name()?.to_string_lossy().into_owned(),
                width: img.width,
                height: img.height,
                rgb: img.rgb,
            })
        })
        .collect()
}

/// `limit` logos spread evenly over the alphabet of `dir`'s SVGs (deterministic).
#[allow(dead_code)]
pub fn load_logos(dir: &Path, limit: usize) -> Vec<EvalImage> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    paths.retain(|p| p.extension().is_some_and(|e| e == "svg"));
    paths.sort();
    let step = (paths.len() / limit.max(1)).max(1);
    paths
        .iter()
        .step_by(step)
        .take(limit)
        .filter_map(|p| render_svg(p, 256))
        .collect()
}
