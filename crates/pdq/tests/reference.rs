//! Bit-exactness against Meta's reference on every image of its test set.

use std::path::PathBuf;

use shopshield_pdq::decode::{DecodeOptions, decode};
use shopshield_pdq::{Hash256, Hasher, LumaFormula, Pixels};

struct Row {
    file: String,
    width: usize,
    height: usize,
    hash: Hash256,
    quality: u8,
    dihedral: Vec<Hash256>,
}

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

fn rows() -> Vec<Row> {
    let tsv = std::fs::read_to_string(data_dir().join("expected.tsv")).unwrap();
    tsv.lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            Row {
                file: f[0].to_string(),
                width: f[2].parse().unwrap(),
                height: f[3].parse().unwrap(),
                hash: f[4].parse().unwrap(),
                quality: f[5].parse().unwrap(),
                dihedral: f[6].split(',').map(|h| h.parse().unwrap()).collect(),
            }
        })
        .collect()
}

fn read_original(file: &str) -> Vec<u8> {
    // Stored once: see tests/data/README.md.
    let file = file.replace("dih__bridge-1-original.jpg", "bridge-mods__aaa-orig.jpg");
    std::fs::read(data_dir().join(file)).unwrap()
}

/// The exact pixels the reference was fed: libjpeg for JPEG, any decoder for lossless PNG.
fn reference_pixels(file: &str, bytes: &[u8]) -> (Vec<u8>, usize, usize) {
    if file.ends_with(".jpg") {
        let d = mozjpeg::Decompress::new_mem(bytes).unwrap();
        let mut d = d.rgb().unwrap();
        let (w, h) = (d.width(), d.height());
        let px: Vec<[u8; 3]> = d.read_scanlines().unwrap();
        (px.iter().flatten().copied().collect(), w, h)
    } else {
        let img = image::load_from_memory(bytes).unwrap().to_rgb8();
        let (w, h) = img.dimensions();
        (img.into_raw(), w as usize, h as usize)
    }
}

#[test]
fn bit_exact_on_every_reference_image() {
    let rows = rows();
    assert_eq!(rows.len(), 30);
    // Decode each file once; check the default formula on every image and the C++ float32
    // formula too (it gives the same hashes on the whole set; checked on all in release runs,
    // on the smaller images here to keep debug test time down).
    let decoded: Vec<(Vec<u8>, usize, usize)> = rows
        .iter()
        .map(|row| reference_pixels(&row.file, &read_original(&row.file)))
        .collect();
    for formula in [LumaFormula::Float64, LumaFormula::Float32] {
        let mut hasher = Hasher::with_formula(formula);
        for (row, (px, w, h)) in rows.iter().zip(&decoded) {
            let (w, h) = (*w, *h);
            if formula == LumaFormula::Float32 && cfg!(debug_assertions) && w * h > 600_000 {
                continue;
            }
            assert_eq!((w, h), (row.width, row.height), "{}", row.file);
            let one = hasher.hash(Pixels::Rgb8(px), w, h).unwrap();
            assert_eq!(one.hash, row.hash, "{} ({formula:?})", row.file);
            assert_eq!(one.quality, row.quality, "{} ({formula:?})", row.file);
            let all = hasher.hash_dihedral(Pixels::Rgb8(px), w, h).unwrap();
            assert_eq!(all.quality, row.quality);
            assert_eq!(
                all.hashes.to_vec(),
                row.dihedral,
                "{} ({formula:?})",
                row.file
            );
            assert_eq!(all.hashes[0], one.hash);
            assert_eq!(one.degenerate, row.quality == 0, "{}", row.file);
        }
    }
}

#[test]
fn our_decoder_is_within_meta_tolerance() {
    let mut hasher = Hasher::new();
    let mut checked = 0;
    for row in rows() {
        let bytes = read_original(&row.file);
        let img = decode(&bytes, &DecodeOptions::default()).unwrap();
        assert_eq!((img.width, img.height), (row.width, row.height));
        let ours = hasher.hash(img.pixels(), img.width, img.height).unwrap();
        if row.quality >= 80 {
            let d = ours.hash.distance(&row.hash);
            assert!(d <= 10, "{}: distance {d}", row.file);
            assert!(ours.quality >= 80, "{}: quality {}", row.file, ours.quality);
            checked += 1;
        }
    }
    assert!(checked >= 25);
}

#[test]
fn dihedral_files_match_dihedral_hashes_of_the_original() {
    // The dih__ files are the eight transforms of one photo: each file's own hash should be
    // close to the matching dihedral hash of the original.
    let rows = rows();
    let orig = rows
        .iter()
        .find(|r| r.file.contains("dih__bridge-1-original"))
        .unwrap();
    let names = [
        "1-original",
        "2-rotate-90",
        "3-rotate-180",
        "4-rotate-270",
        "5-flipx",
        "6-flipy",
        "7-flip-plus-1",
        "8-flip-minus-1",
    ];
    for (i, name) in names.iter().enumerate() {
        let r = rows.iter().find(|r| r.file.contains(name)).unwrap();
        let d = r.hash.distance(&orig.dihedral[i]);
        assert!(d <= 16, "{name}: distance {d}");
    }
}

#[test]
fn pixel_transforms_agree_with_dct_dihedral_hashes() {
    use shopshield_pdq::Dihedral;
    use shopshield_pdq::views::transform_pixels;
    let bytes = read_original("images/bridge-mods__aaa-orig.jpg");
    let img = decode(&bytes, &DecodeOptions::default()).unwrap();
    let mut hasher = Hasher::new();
    let dct = hasher
        .hash_dihedral(img.pixels(), img.width, img.height)
        .unwrap();
    for d in Dihedral::ALL {
        let (px, w, h) = transform_pixels(&img.rgb, img.width, img.height, d);
        let h = hasher.hash(Pixels::Rgb8(&px), w, h).unwrap();
        let dist = h.hash.distance(&dct.get(d));
        assert!(dist <= 16, "{d}: distance {dist}");
    }
}
