//! Image intake for screening: decode with limits, hash the views PDQ
//! matches on, and keep the banks of registered images in step with the
//! registry.

use serde::{Deserialize, Serialize};
use shopshield_gate::{ImageBanks, ImageSignal};
use shopshield_intake::IntakeError;
use shopshield_model::{ImageHash, Right};
use shopshield_pdq::views::{ViewOptions, query_views, reference_hashes};
use shopshield_pdq::{BankConfig, BankKind, DecodeOptions, Hasher, decode};

/// `[images]` in `shopshield.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImagesConfig {
    /// Largest Hamming distance for a logo match (default 31).
    pub logo_max_distance: u32,
    /// Smallest PDQ quality for logos, both sides (default 50).
    pub logo_min_quality: u8,
    /// Largest Hamming distance for a product-photo match (default 31).
    pub photo_max_distance: u32,
    /// Smallest PDQ quality for photos, both sides (default 50).
    pub photo_min_quality: u8,
    /// Also search listing photos tile by tile for a small logo inside a
    /// larger product photo (costs about 35 more hashes per image; finds
    /// little: the keypoint search below is the one that works).
    pub logo_tiles: bool,
    /// Search listing photos for registered logos by local features
    /// (keypoints verified by placement and correlation): finds a logo on a
    /// label or printed on a product, which whole-image hashes cannot.
    pub logo_keypoints: bool,
    /// When that search runs: `inline` (the default) decides a listing
    /// with it; `after_listing` decides on text and whole-image hashes at
    /// once, and a sweep searches the photos afterwards, storing a new
    /// decision when a logo is found (see [`LogoSearch`]).
    pub logo_search: LogoSearch,
    /// Thresholds of that search (`[images.keypoints]`).
    pub keypoints: shopshield_keypoints::LocalConfig,
    /// Confidences given to matches.
    pub scoring: shopshield_gate::ImageConfig,
}

impl Default for ImagesConfig {
    fn default() -> Self {
        ImagesConfig {
            logo_max_distance: shopshield_pdq::bank::DEFAULT_MAX_DISTANCE,
            logo_min_quality: shopshield_pdq::bank::DEFAULT_MIN_QUALITY,
            photo_max_distance: shopshield_pdq::bank::DEFAULT_MAX_DISTANCE,
            photo_min_quality: shopshield_pdq::bank::DEFAULT_MIN_QUALITY,
            logo_tiles: false,
            logo_keypoints: true,
            logo_search: LogoSearch::Inline,
            keypoints: shopshield_keypoints::LocalConfig::default(),
            scoring: shopshield_gate::ImageConfig::default(),
        }
    }
}

/// When the search for registered logos inside listing photos runs.
///
/// `Inline` is the default: the search costs tens of milliseconds of CPU
/// per photo with a large bank, but a listing it would send to review is
/// never live, not even for the seconds a sweep takes to reach it, and
/// one process decides everything once. `AfterListing` is for platforms
/// whose submit path must answer in a few milliseconds whatever the bank's
/// size: the listing is decided on its text and whole-image hashes, and
/// the logo result follows as a later decision (cause `logo_search`)
/// through the sweep mechanism. A logo inside a photo alone sends a
/// listing to review, never rejects it, so the listing is at worst live
/// until that sweep reaches it. Only `data:` images can be read again
/// later; a listing whose images are files (a bulk scan) is searched
/// inline in either mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LogoSearch {
    #[default]
    Inline,
    AfterListing,
}

impl ImagesConfig {
    pub fn validate(&self) -> Result<(), String> {
        for (name, d) in [
            ("logo_max_distance", self.logo_max_distance),
            ("photo_max_distance", self.photo_max_distance),
        ] {
            if d > 64 {
                return Err(format!(
                    "{name} = {d}: PDQ matches beyond 64 of 256 bits are noise"
                ));
            }
        }
        let k = &self.keypoints;
        for (name, v) in [
            ("min_correlation", k.min_correlation),
            ("min_edge_correlation", k.min_edge_correlation),
        ] {
            if !(-1.0..=1.0).contains(&v) {
                return Err(format!(
                    "keypoints.{name} = {v}: a correlation is between -1 and 1"
                ));
            }
        }
        if k.min_inliers < 3 {
            return Err(format!(
                "keypoints.min_inliers = {}: fewer than 3 agreeing keypoints place anything anywhere",
                k.min_inliers
            ));
        }
        if k.descriptor_radius > 64 {
            return Err(format!(
                "keypoints.descriptor_radius = {}: descriptors further apart than 64 of 256 bits are unrelated",
                k.descriptor_radius
            ));
        }
        for (name, q) in [
            ("logo_min_quality", self.logo_min_quality),
            ("photo_min_quality", self.photo_min_quality),
        ] {
            if q > 100 {
                return Err(format!("{name} = {q}: quality is 0 to 100"));
            }
        }
        Ok(())
    }

    pub fn banks(&self) -> ImageBanks {
        let mut logos = BankConfig::new("logos", BankKind::Logo);
        logos.max_distance = self.logo_max_distance;
        logos.min_quality = self.logo_min_quality;
        let mut photos = BankConfig::new("photos", BankKind::Photo);
        photos.max_distance = self.photo_max_distance;
        photos.min_quality = self.photo_min_quality;
        ImageBanks::new(logos, photos, self.keypoints)
    }
}

fn image_error(field: &str, reason: impl std::fmt::Display) -> IntakeError {
    IntakeError::Image {
        field: field.to_string(),
        reason: reason.to_string(),
    }
}

/// The hashes to register for a right's image: the whole image, its
/// border-trimmed content, and the crops and scaled copies the bank keeps.
pub fn reference_image_hashes(field: &str, bytes: &[u8]) -> Result<Vec<ImageHash>, IntakeError> {
    let img = decode(bytes, &DecodeOptions::default()).map_err(|e| image_error(field, e))?;
    hashes_of(field, &img)
}

fn hashes_of(field: &str, img: &shopshield_pdq::RgbImage) -> Result<Vec<ImageHash>, IntakeError> {
    let mut hasher = Hasher::new();
    let refs = reference_hashes(
        &mut hasher,
        &img.rgb,
        img.width,
        img.height,
        &ViewOptions::BANK,
    )
    .map_err(|e| image_error(field, e))?;
    if refs.iter().all(|r| r.degenerate) {
        return Err(image_error(
            field,
            "the image is flat or too small to match reliably (PDQ quality too low)",
        ));
    }
    Ok(refs
        .into_iter()
        .map(|r| ImageHash {
            view: r.view,
            pdq: r.hash.to_hex(),
            quality: r.quality,
            degenerate: r.degenerate,
        })
        .collect())
}

/// A logo's local features for the logo-inside-a-photo search (`None` for
/// other images, or when the image cannot be decoded: registration has
/// already checked it).
pub fn logo_reference(
    right: &Right,
    image: Option<&[u8]>,
    negatives: bool,
) -> Option<shopshield_keypoints::Reference> {
    if right.kind != shopshield_model::RightKind::Logo || !right.enabled {
        return None;
    }
    let img = decode(image?, &DecodeOptions::default()).ok()?;
    shopshield_keypoints::reference_features(&img.rgb, img.width, img.height, negatives).ok()
}

/// Decodes and hashes a listing image into the views the banks match on,
/// and, if `keypoints`, extracts its local features for the logo search.
pub fn listing_image_signal(
    field: &str,
    bytes: &[u8],
    tiles: bool,
    keypoints: bool,
) -> Result<ImageSignal, IntakeError> {
    let img = decode(bytes, &DecodeOptions::default()).map_err(|e| image_error(field, e))?;
    pixels_signal(field, &img.rgb, img.width, img.height, tiles, keypoints)
}

thread_local! {
    /// One hasher per screening thread: its scratch buffers (several times the photo's size)
    /// are reused from photo to photo instead of being allocated, zeroed and faulted in for
    /// each one.
    static HASHER: std::cell::RefCell<Hasher> = std::cell::RefCell::new(Hasher::new());
}

/// Photos above this many pixels are hashed with a hasher of their own, so a thread does not
/// keep scratch buffers sized for the largest image it ever saw.
const KEEP_SCRATCH_PIXELS: usize = 4 << 20;

fn with_hasher<T>(width: usize, height: usize, f: impl FnOnce(&mut Hasher) -> T) -> T {
    if width.saturating_mul(height) > KEEP_SCRATCH_PIXELS {
        return f(&mut Hasher::new());
    }
    HASHER.with(|h| match h.try_borrow_mut() {
        Ok(mut hasher) => f(&mut hasher),
        Err(_) => f(&mut Hasher::new()),
    })
}

/// [`listing_image_signal`] for pixels already decoded (a video frame):
/// 8-bit RGB, row-major.
pub fn pixels_signal(
    field: &str,
    rgb: &[u8],
    width: usize,
    height: usize,
    tiles: bool,
    keypoints: bool,
) -> Result<ImageSignal, IntakeError> {
    let opts = if tiles {
        ViewOptions::QUERY_WITH_TILES
    } else {
        ViewOptions::QUERY_PIXEL_DIHEDRAL
    };
    let views = with_hasher(width, height, |hasher| {
        query_views(hasher, rgb, width, height, &opts)
    })
    .map_err(|e| image_error(field, e))?;
    let local = if keypoints {
        Some(
            shopshield_keypoints::query_features(rgb, width, height)
                .map_err(|e| image_error(field, e))?,
        )
    } else {
        None
    };
    Ok(ImageSignal {
        field: field.to_string(),
        views,
        local,
    })
}

/// Prepares an image right for storage, decoding its image once: its PDQ
/// hashes (when missing) and, for a logo when `keypoints`, its local
/// features in their stored encoding, so no process decodes it again.
pub fn prepare_image_right(
    rec: &mut shopshield_store::RightRecord,
    keypoints: bool,
    negatives: bool,
) -> Result<(), IntakeError> {
    if rec.right.kind == shopshield_model::RightKind::Trademark {
        return Ok(());
    }
    let Some(bytes) = rec.image.as_deref() else {
        return Ok(());
    };
    let img = decode(bytes, &DecodeOptions::default()).map_err(|e| image_error("image", e))?;
    if rec.right.image_hashes.is_empty() {
        rec.right.image_hashes = hashes_of("image", &img)?;
    }
    if keypoints && rec.right.kind == shopshield_model::RightKind::Logo {
        rec.features =
            shopshield_keypoints::reference_features(&img.rgb, img.width, img.height, negatives)
                .ok()
                .map(|r| r.to_bytes());
    }
    Ok(())
}

/// PDQ hash, quality and the eight dihedral hashes of an image.
pub fn hash_image(field: &str, bytes: &[u8]) -> Result<crate::ImageHashes, IntakeError> {
    let img = decode(bytes, &DecodeOptions::default()).map_err(|e| image_error(field, e))?;
    let hashes = Hasher::new()
        .hash_dihedral(img.pixels(), img.width, img.height)
        .map_err(|e| image_error(field, e))?;
    Ok(crate::ImageHashes {
        hashes,
        width: img.width,
        height: img.height,
    })
}
